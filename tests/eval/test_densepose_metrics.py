"""DensePose-COCO evaluation: GPS, GPSm and box AP on tiny generated images, matching rules, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from human3d.densepose.result import DensePoseResult
from human3d.errors import Human3DError
from human3d.eval.densepose_metrics import (
    IOU_THRESHOLDS,
    RECALL_POINTS,
    AnnotatedPerson,
    box_iou,
    coarse_kappa,
    evaluate_densepose,
    mask_iou,
    match_image,
    precision_curve,
)
from human3d.eval.geodesic import reference_body_geodesics
from human3d.formats import densepose_coco as coco
from human3d.formats.synth_sample import read_iuv
from human3d.synth.writer import MAX_PEOPLE
from human3d.weights.registry import get_weights

DATA_SEED, DATA_COUNT, DATA_SIZE = 21, 3, 192


@pytest.fixture(scope="session")
def dp_data(tmp_path_factory) -> Path:
    """The DensePose-COCO JSON of 3 generated images (192 px, 2 people each, perspective camera)."""
    from human3d.synth.scene import SceneConfig
    from human3d.synth.writer import generate

    out = tmp_path_factory.mktemp("dp_eval")
    generate(out, DATA_COUNT, DATA_SEED, SceneConfig(size=DATA_SIZE, people=2, camera="perspective"), progress=False)
    return out / "densepose_coco.json"


def ground_truth_results(coco_json: Path) -> dict[int, DensePoseResult]:
    """The generated maps themselves as predictions: one detection per annotated person (its box, its I, U, V)."""
    document = json.loads(coco_json.read_text())
    results = {}
    for image in document["images"]:
        sample = coco_json.parent / Path(image["file_name"]).parent
        iuv = read_iuv(sample)
        instance = cv2.imread(str(sample / "instance.png"), cv2.IMREAD_UNCHANGED)
        people = [a for a in document["annotations"] if a["image_id"] == image["id"]]
        boxes, labels, uv = [], [], []
        for annotation in people:
            x, y, w, h = annotation["bbox"]
            boxes.append([x, y, x + w, y + h])
            rows, cols = slice(int(y), int(y) + int(h)), slice(int(x), int(x) + int(w))
            mine = instance[rows, cols] == annotation["id"] - image["id"] * MAX_PEOPLE + 1
            labels.append(np.where(mine, np.rint(iuv[rows, cols, 0]), 0).astype(np.uint8))
            uv.append(np.where(mine[None], iuv[rows, cols, 1:].transpose(2, 0, 1), 0).astype(np.float32))
        scores = np.linspace(0.9, 0.8, len(people), dtype=np.float32)
        results[image["id"]] = DensePoseResult(np.array(boxes, np.float32).reshape(-1, 4), scores, labels, uv)
    return results


@pytest.fixture(scope="session")
def truth(dp_data: Path) -> dict[int, DensePoseResult]:
    return ground_truth_results(dp_data)


@pytest.fixture(scope="session")
def annotated(dp_data: Path) -> list[dict]:
    return [a for a in json.loads(dp_data.read_text())["annotations"] if a["dp_x"]]


def test_ground_truth_as_predictions_scores_one(dp_data: Path, truth) -> None:
    report = evaluate_densepose(truth, dp_data)
    assert report.images == DATA_COUNT and report.people == len(truth[1]) + len(truth[2]) + len(truth[3])
    assert report.points > 50 * report.people
    assert report.mean_gps > 0.999  # U,V stored as 8-bit in iuv.png: a millimetre off at most
    for summary in (report.gps, report.gpsm, report.box):
        assert (summary.ap, summary.ap50, summary.ap75) == pytest.approx((1.0, 1.0, 1.0), abs=1e-12)
    assert len(report.kappa_values) == 8 and report.kappa == "ours"


def test_no_detections_score_zero(dp_data: Path, truth) -> None:
    nothing = {image_id: DensePoseResult(np.zeros((0, 4), np.float32), np.zeros(0, np.float32)) for image_id in truth}
    report = evaluate_densepose(nothing, dp_data)
    assert (report.gps.ap, report.gpsm.ap, report.box.ap, report.mean_gps, report.detections) == (0.0, 0.0, 0.0, 0.0, 0)
    assert report.people == sum(len(r) for r in truth.values())


def test_gps_falls_as_uv_is_perturbed(annotated: list[dict]) -> None:
    geodesics = reference_body_geodesics()
    kappa = coarse_kappa("ours", geodesics)
    points = coco.dp_points_in_image(annotated[0])
    person = AnnotatedPerson(geodesics, kappa, points["I"], points["U"], points["V"])
    rng = np.random.default_rng(0)
    means = []
    for sigma in (0.0, 0.02, 0.05, 0.1, 0.2, 0.4):
        noise = rng.normal(0.0, 1.0, (2, len(points["U"])))
        scores = person.scores(points["I"], points["U"] + sigma * noise[0], points["V"] + sigma * noise[1])
        assert np.all((scores >= 0) & (scores <= 1))
        means.append(scores.mean())
    assert means[0] == pytest.approx(1.0, abs=1e-12)
    assert all(a > b for a, b in zip(means, means[1:])), means
    assert means[-1] < 0.85, means


def test_background_scores_zero_and_a_far_part_next_to_nothing(annotated: list[dict]) -> None:
    geodesics = reference_body_geodesics()
    kappa = coarse_kappa("ours", geodesics)
    points = coco.dp_points_in_image(annotated[0])
    person = AnnotatedPerson(geodesics, kappa, points["I"], points["U"], points["V"])
    assert np.all(person.scores(np.zeros_like(points["I"]), points["U"], points["V"]) == 0.0)
    head = np.isin(points["I"], (23, 24))
    far = np.where(head, 5, 23)  # head points predicted on the left foot, the rest on the head
    far_scores = person.scores(far, points["U"], points["V"])
    assert np.all(far_scores[head] < 1e-6)
    # the same chart point on the other half of the same limb (front <-> back) is near: scored, not zeroed
    front_back = {9: 7, 7: 9, 10: 8, 8: 10, 13: 11, 11: 13, 14: 12, 12: 14}
    swapped = np.array([front_back.get(int(i), int(i)) for i in points["I"]])
    changed = swapped != points["I"]
    if changed.any():
        assert person.scores(swapped, points["U"], points["V"])[changed].max() > 0.0


def test_box_and_segm_style_iou_match_pycocotools() -> None:
    mask_utils = pytest.importorskip("pycocotools.mask")
    rng = np.random.default_rng(1)
    dets = np.column_stack([rng.uniform(0, 50, (7, 2)), rng.uniform(5, 40, (7, 2))])
    gts = np.column_stack([rng.uniform(0, 50, (4, 2)), rng.uniform(5, 40, (4, 2))])
    crowd = np.array([0, 1, 0, 1])
    expected = mask_utils.iou(dets.tolist(), gts.tolist(), crowd.tolist())
    np.testing.assert_allclose(box_iou(dets, gts, crowd), expected, atol=1e-12)
    masks = [rng.random((40, 50)) < p for p in (0.2, 0.5, 0.7)]
    crowd = np.array([0, 1, 0])
    encode = [mask_utils.encode(np.asfortranarray(m.astype(np.uint8))) for m in masks]
    expected = mask_utils.iou(encode, encode, crowd.tolist())
    np.testing.assert_allclose(mask_iou(masks, masks, crowd), expected, atol=1e-12)


def _with_extra_people(dp_data: Path, folder: Path) -> Path:
    """The generated JSON plus a crowd region and a person without DensePose points in image 1."""
    document = json.loads(dp_data.read_text())
    extra = [{"id": 90001, "image_id": 1, "category_id": 1, "iscrowd": 1, "bbox": [0, 0, 60, 50], "area": 2500.0,
              "segmentation": coco.rle_encode(np.pad(np.ones((50, 60), bool), ((0, 142), (0, 132))))},
             {"id": 90002, "image_id": 2, "category_id": 1, "iscrowd": 0, "bbox": [150, 10, 30, 30], "area": 700.0,
              "segmentation": coco.rle_encode(np.pad(np.ones((30, 30), bool), ((10, 152), (150, 12))))}]
    document["annotations"] += extra
    path = folder / "with_extra.json"
    path.write_text(json.dumps(document))
    return path


def test_box_ap_equals_pycocotools(dp_data: Path, truth, tmp_path: Path) -> None:
    coco_api = pytest.importorskip("pycocotools.coco")
    cocoeval = pytest.importorskip("pycocotools.cocoeval")
    data = _with_extra_people(dp_data, tmp_path)
    rng = np.random.default_rng(7)
    results, detections = {}, []
    for image_id, result in truth.items():
        boxes = [box + rng.normal(0, 4, 4) for box in result.boxes_xyxy]  # the people, found roughly
        for _ in range(4):  # and noise
            xs, ys = np.sort(rng.uniform(0, DATA_SIZE, 2)), np.sort(rng.uniform(0, DATA_SIZE, 2))
            boxes.append(np.array([xs[0], ys[0], xs[1], ys[1]]))
        boxes = np.clip(np.array(boxes), 0, DATA_SIZE)
        boxes[:, 2:] = np.maximum(boxes[:, 2:], boxes[:, :2] + 1)
        scores = rng.uniform(0.05, 1.0, len(boxes)).astype(np.float32)
        result = DensePoseResult(boxes.astype(np.float32), scores)
        for _, _, w, h in result.boxes_xywh_int:  # every pixel background
            result.labels.append(np.zeros((h, w), np.uint8))
            result.uv.append(np.zeros((2, h, w), np.float32))
        results[image_id] = result
        for box, score in zip(results[image_id].boxes_xyxy.astype(np.float64), scores.astype(np.float64)):
            detections.append({"image_id": image_id, "category_id": 1, "score": float(score),
                               "bbox": [float(box[0]), float(box[1]), float(box[2] - box[0]), float(box[3] - box[1])]})
    report = evaluate_densepose(results, data)
    ground = coco_api.COCO(str(data))
    evaluation = cocoeval.COCOeval(ground, ground.loadRes(detections), "bbox")
    evaluation.evaluate()
    evaluation.accumulate()
    evaluation.summarize()
    expected = evaluation.stats[:6]
    box = report.box
    ours = [box.ap, box.ap50, box.ap75, box.ap_small, box.ap_medium, box.ap_large]
    np.testing.assert_allclose(ours, expected, atol=1e-9)
    assert 0.1 < report.box.ap < 0.95  # a real mix of hits and misses
    assert report.gps.ap == 0.0  # every detection is background


def test_ap_of_a_hand_computed_case() -> None:
    # 2 people; detections by decreasing score: d0 on person 0 with similarity 0.72, d1 on nobody, d2 on person 1 (0.96)
    similarity = np.array([[0.72, 0.0], [0.3, 0.3], [0.0, 0.96]])
    image = match_image(similarity, np.zeros(2, bool), np.zeros(2, bool), np.full(2, 5000.0), np.array([0.9, 0.8, 0.7]),
                        np.full(3, 5000.0), (0, 1e10))
    precision = precision_curve([image])
    low = (51 * 1.0 + 50 * 2 / 3) / 101  # t <= 0.70: TP, FP, TP
    high = 51 * (1 / 3) / 101  # t >= 0.75: FP, FP, TP (recall stops at 0.5)
    np.testing.assert_allclose(precision.mean(axis=1), [low] * 5 + [high] * 5, atol=1e-12)
    assert len(RECALL_POINTS) == 101 and len(IOU_THRESHOLDS) == 10


def test_densepose_rules_for_people_without_points() -> None:
    # person 1 has no DensePose points (ignored); d1 covers it (box IoU 0.9) and must not count as a false positive
    similarity = np.array([[0.97, 0.0], [0.0, 0.0]])
    boxes = np.array([[0.95, 0.0], [0.0, 0.9]])
    ignore, crowd, areas, scores = np.array([False, True]), np.zeros(2, bool), np.full(2, 5000.0), np.array([0.9, 0.8])
    args = (ignore, crowd, areas, scores, areas, (0, 1e10))
    with_rule = precision_curve([match_image(similarity, *args, box_similarity=boxes, densepose_rules=True)])
    without = precision_curve([match_image(similarity, *args)])
    # the FP comes last either way
    assert with_rule.mean() == pytest.approx(1.0) and without.mean() == pytest.approx(1.0)
    flipped = np.array([[0.0, 0.0], [0.97, 0.0]])  # now the box-only detection scores higher
    boxes_flipped = boxes[::-1]
    with_rule = precision_curve([match_image(flipped, *args, box_similarity=boxes_flipped, densepose_rules=True)])
    assert with_rule.mean() == pytest.approx(1.0)
    assert precision_curve([match_image(flipped, *args)]).mean() < 0.9
    # an image whose only person is ignored: its detections do not count at all
    alone = match_image(np.array([[0.0]]), np.array([True]), np.zeros(1, bool), np.full(1, 5000.0), np.array([0.9]),
                        np.full(1, 5000.0), (0, 1e10), densepose_rules=True)
    assert alone.ignored.all() and alone.people == 0


def test_bad_inputs_are_one_line_errors(dp_data: Path, truth, tmp_path: Path) -> None:
    with pytest.raises(Human3DError, match=r"densepose_coco.json: has no image with id 99"):
        evaluate_densepose({99: truth[1]}, dp_data)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(Human3DError, match="broken.json: not a readable COCO JSON"):
        evaluate_densepose(truth, broken)
    with pytest.raises(ValueError, match="kappa must be one of"):
        evaluate_densepose(truth, dp_data, kappa="metres")


def test_smpl_kappa_is_the_published_table(dp_data: Path, truth) -> None:
    report = evaluate_densepose({1: truth[1]}, dp_data, kappa="smpl")
    assert report.kappa_values == [0.351, 0.107, 0.126, 0.237, 0.173, 0.142, 0.128, 0.150]
    assert report.gps.ap == pytest.approx(1.0, abs=1e-12)


def test_cli_runs_end_to_end_with_the_default_model(dp_data: Path, tmp_path: Path, capsys) -> None:
    bundled_light = get_weights("human3d_densepose_light_people").path  # the default, on the finder's people
    if not bundled_light.is_file():
        pytest.skip("no bundled default DensePose model in this checkout")
    from human3d.cli import main

    out = tmp_path / "report.json"
    status = main(["eval", "densepose", "--data", str(dp_data), "--limit", "2", "--json", str(out)])
    printed = capsys.readouterr().out
    assert status == 0
    assert "GPS " in printed and "GPSm" in printed and "box" in printed and "time per image" in printed
    written = json.loads(out.read_text())
    assert written["images"] == 2 and written["checkpoint"] == str(bundled_light)
    assert written["people"] == 4 and written["kappa"] == "ours"
    assert set(written["gps"]) == {"ap", "ap50", "ap75", "ap_small", "ap_medium", "ap_large"}
    assert all(0.0 <= written[m]["ap"] <= 1.0 for m in ("gps", "gpsm", "box"))


def test_cli_errors(dp_data: Path, tmp_path: Path, capsys) -> None:
    from human3d.cli import main

    assert main(["eval", "densepose", "--data", str(tmp_path / "missing.json"), "--checkpoint", "x.pkl"]) == 1
    assert "missing.json: DensePose-COCO JSON not found" in capsys.readouterr().err
    args = ["eval", "densepose", "--data", str(dp_data), "--checkpoint", "x.pkl", "--json", str(tmp_path / "r.txt")]
    assert main(args) == 1
    assert "r.txt: the report file must end in .json" in capsys.readouterr().err
    assert not (tmp_path / "r.txt").exists()
