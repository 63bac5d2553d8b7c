"""The light network on the people finder's people: crops, mask-bounded labels, the default CLI path."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from human3d.cli import main
from human3d.densepose.app.dump import DumpWriter, read_dump
from human3d.densepose.app.run import run_video
from human3d.densepose.light.model import CHANNELS, DET_CHANNELS, PIXEL_MEAN_BGR
from human3d.densepose.light.onnx import OnnxLightNetwork
from human3d.densepose.light.person_crops import (
    CROP_MARGIN,
    PersonCropPredictor,
    crop_square,
    cut_square,
    part_confidence,
)
from human3d.densepose.predictor import build_densepose, predictor_for
from human3d.densepose.rcnn.image import read_image_bgr
from human3d.io.video import VideoReader, video_writer
from human3d.people.finder import Person
from human3d.weights.registry import get_weights

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "person.png"


class FixedPeople:
    """A stand-in finder that returns the same people for every image and counts its calls."""

    def __init__(self, people: list[Person]) -> None:
        self.people, self.calls = people, 0

    def find(self, image: np.ndarray) -> list[Person]:
        self.calls += 1
        return list(self.people)


def _person(box: tuple[float, float, float, float], mask: np.ndarray, score: float = 0.9) -> Person:
    return Person(np.array(box, np.float32), score, np.zeros((33, 4), np.float32), mask, np.zeros(4, np.float32))


@pytest.fixture(scope="module")
def bundled():
    return build_densepose(get_weights("human3d_densepose_light").path)


def test_crop_square_is_centred_on_the_box_with_the_margin():
    left, top, side = crop_square(np.array([100, 50, 140, 250]))
    assert side == pytest.approx(CROP_MARGIN * 200)
    assert (left + side / 2, top + side / 2) == pytest.approx((120, 150))


def test_cut_square_copies_the_image_and_fills_past_its_border_with_the_mean_colour():
    image = np.random.default_rng(0).integers(0, 256, (40, 60, 3), dtype=np.uint8)
    square = cut_square(image, -10, 5, 30, size=30)  # no resizing: 30 px in, 30 px out
    np.testing.assert_array_equal(square[:, 10:], image[5:35, 0:20])
    np.testing.assert_array_equal(square[:, :10], np.broadcast_to(np.round(PIXEL_MEAN_BGR).astype(np.uint8),
                                                                  (30, 10, 3)))
    assert cut_square(image, 0, 0, 60, size=16).shape == (16, 16, 3)


def test_labels_stay_inside_the_person_mask_and_boxes_are_the_finders(bundled):
    image = read_image_bgr(EXAMPLE)  # 512 x 512, one synthetic person
    height, width = image.shape[:2]
    whole = np.zeros((height, width), bool)
    whole[40:500, 120:400] = True
    top_half = whole.copy()
    top_half[270:] = False
    finder = FixedPeople([_person((120, 40, 400, 500), whole), _person((120, 40, 400, 500), top_half, 0.6)])
    predictor = predictor_for(bundled, finder=finder)
    assert isinstance(predictor, PersonCropPredictor)
    result = predictor(image)
    assert finder.calls == 1 and len(result) == 2
    np.testing.assert_allclose(result.boxes_xyxy, [[120, 40, 400, 500]] * 2)
    assert (0 < result.scores).all() and (result.scores <= [0.9, 0.6]).all()  # times the parts' confidence
    full, half = result.labels
    assert full.shape == half.shape == (460, 280)
    assert (full > 0).mean() > 0.2  # the person is labelled
    assert (half[230:] == 0).all() and (half[:230] > 0).any()  # nothing outside the mask
    np.testing.assert_array_equal(half[:230], full[:230])  # the same network output inside it
    for labels, uv in zip(result.labels, result.uv):
        assert labels.max() <= 24 and (uv[:, labels == 0] == 0).all()
        assert 0.3 < np.median(uv[:, labels > 0]) < 0.7  # chart coordinates, spread over [0, 1]
    again = predictor.predict_people([image], [[finder.people[1]]])[0]
    np.testing.assert_array_equal(again.labels[0], half)  # people already found: the finder is not asked
    assert finder.calls == 1


def test_part_confidence_is_the_mean_probability_of_the_likeliest_part_over_the_mask():
    output = torch.zeros(1, sum(CHANNELS.values()), 64, 64)
    parts = output[0, DET_CHANNELS:DET_CHANNELS + CHANNELS["parts"]]
    parts[3, :, :32] = 20.0  # part 3 certain on the left half of the crop
    parts[0, :, 32:] = 20.0  # background certain on the right half
    box = (100.0, 100.0, 200.0, 200.0)  # the crop: 110 pixels around it, from (95, 95)
    mask = np.zeros((300, 300), bool)
    mask[100:200, 100:140] = True
    assert part_confidence(output, _person(box, mask)) == pytest.approx(1.0, abs=1e-6)
    mask[:] = False
    mask[100:200, 160:200] = True
    assert part_confidence(output, _person(box, mask)) == pytest.approx(0.0, abs=1e-6)
    mask[100:200, 100:200] = True  # both halves
    assert part_confidence(output, _person(box, mask)) == pytest.approx(0.5, abs=0.03)
    assert part_confidence(output, _person(box, np.zeros((300, 300), bool))) == 0.0


def test_a_persons_score_is_the_finders_times_the_networks_confidence_in_their_parts(bundled):
    image = read_image_bgr(EXAMPLE)
    mask = cv2.imread(str(EXAMPLE), cv2.IMREAD_UNCHANGED)[..., 3] > 127  # the example's own silhouette
    rows, cols = np.nonzero(mask)
    person = _person((cols.min(), rows.min(), cols.max() + 1, rows.max() + 1), mask)
    corner = np.zeros_like(mask)
    corner[:110, :110] = True
    wall = _person((0, 0, 110, 110), corner, 0.8)  # a "person" where there is only background
    scores = predictor_for(bundled, finder=FixedPeople([person, wall]))(image).scores
    assert 0.3 < scores[0] / 0.9 <= 1.0  # measured 0.48
    assert scores[1] / 0.8 < 0.05  # measured 0.003: no body part there


def test_no_people_give_an_empty_result_and_another_finder_can_be_given(bundled):
    image = read_image_bgr(EXAMPLE)
    predictor = PersonCropPredictor(bundled, FixedPeople([]))
    assert [len(r) for r in predictor.predict([image, image])] == [0, 0]
    mask = np.ones(image.shape[:2], bool)
    other = predictor.with_finder(FixedPeople([_person((100, 20, 420, 510), mask)]))
    assert other.network is predictor.network and len(other(image)) == 1


def test_onnxruntime_by_default_gives_the_labels_of_torch(bundled):
    image = read_image_bgr(EXAMPLE)
    finder = FixedPeople([_person((120, 40, 400, 500), np.ones(image.shape[:2], bool))])
    by_torch = predictor_for(bundled, backend="torch", finder=finder)(image)
    by_default = predictor_for(bundled, finder=finder)
    assert isinstance(by_default.network, OnnxLightNetwork)
    by_onnx = by_default(image)
    assert (by_torch.labels[0] == by_onnx.labels[0]).mean() > 0.999
    np.testing.assert_allclose(by_onnx.scores, by_torch.scores, atol=1e-4)


def test_cli_runs_on_the_people_finders_people_by_default(tmp_path, capsys):
    pytest.importorskip("mediapipe")
    from human3d.people.finder import build_people_finder

    dumps = {name: tmp_path / f"{name}.npz" for name in ("finder", "network")}
    assert main(["densepose", str(EXAMPLE), "--no-small-people", "--dump", str(dumps["finder"])]) == 0
    assert main(["densepose", str(EXAMPLE), "--no-people-finder", "--dump", str(dumps["network"])]) == 0
    capsys.readouterr()
    found = build_people_finder(small_people=False).find(read_image_bgr(EXAMPLE)[..., ::-1].copy())
    by_finder, by_network = (read_dump(dumps[name])[""] for name in ("finder", "network"))
    assert len(by_finder) == len(found) == 1
    np.testing.assert_allclose(by_finder.boxes_xyxy[0], found[0].box_xyxy, atol=1e-3)
    x, y, w, h = by_finder.boxes_xywh_int[0]
    outside = ~found[0].mask[y:y + h, x:x + w]
    assert (by_finder.labels[0][outside] == 0).all() and (by_finder.labels[0] > 0).mean() > 0.2
    assert len(by_network) >= 1 and not np.allclose(by_network.boxes_xyxy[0], found[0].box_xyxy, atol=1.0)
    # the default is the people model: the synthetic person gets most of the 24 parts
    parts = set(np.unique(by_finder.labels[0])) - {0}
    assert len(parts) >= 12


def test_the_people_model_without_the_people_finder_is_one_line_and_writes_nothing(tmp_path, capsys):
    people_model = get_weights("human3d_densepose_light_people").path
    out = tmp_path / "out.png"
    assert main(["densepose", str(EXAMPLE), "--no-people-finder", "--checkpoint", str(people_model),
                 "--output", str(out)]) == 1
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and "cannot run without the people finder" in error and not out.exists()


class FailingOnce(FixedPeople):
    """Finds the same people, but fails on its third image."""

    def find(self, image: np.ndarray) -> list[Person]:
        if self.calls == 2:
            self.calls += 1
            raise RuntimeError("landmark model crashed")
        return super().find(image)


def test_a_video_finds_people_ahead_and_keeps_going_past_a_frame_the_finder_fails_on(bundled, tmp_path):
    image = read_image_bgr(EXAMPLE)[::2, ::2].copy()  # 256 x 256
    video = tmp_path / "six.mp4"
    with video_writer(video, 12.0) as append:
        for _ in range(6):
            append(image[..., ::-1].copy())
    person = _person((60, 20, 200, 250), np.ones(image.shape[:2], bool))
    finder = FailingOnce([person])
    predictor = PersonCropPredictor(bundled, finder)
    dump, annotated = tmp_path / "six.npz", tmp_path / "six_dp.mp4"
    with DumpWriter(dump) as writer:
        report = run_video(video, predictor, annotated, {"parts"}, batch_size=2, dump=writer)
    assert report.processed == 5 and len(report.failures) == 1
    assert report.failures[0].startswith("frame_000002: the people finder failed (RuntimeError: landmark model")
    results = read_dump(dump)
    assert list(results) == [f"frame_{i:06d}" for i in (0, 1, 3, 4, 5)]
    frame = next(iter(VideoReader(video)))[..., ::-1].copy()
    alone = predictor.predict_people([frame], [[person]])[0]
    np.testing.assert_array_equal(results["frame_000000"].labels[0], alone.labels[0])
    assert len(list(VideoReader(annotated))) == 6  # the failed frame is in the video, undrawn
