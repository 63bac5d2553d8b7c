"""The light DensePose model: decoding of hand-made maps, checkpoints, ONNX, and the default CLI path."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from human3d.cli import main
from human3d.densepose.app.dump import read_dump
from human3d.densepose.light.model import (
    CHANNELS,
    NUM_PARTS,
    OFFSET_UNIT,
    STRIDE,
    LightConfig,
    LightDensePose,
    checkpoint_state,
    fuse_batch_norms,
    split_maps,
)
from human3d.densepose.light.predictor import LightDensePosePredictor, decode_image, labels_uv_at, pixels_under
from human3d.densepose.predictor import build_densepose
from human3d.densepose.rcnn.checkpoint import write_state_dict
from human3d.densepose.rcnn.image import read_image_bgr
from human3d.errors import Human3DError
from human3d.weights.registry import get_weights

BUNDLED_LIGHT = get_weights("human3d_densepose_light").path

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "person.png"
TINY = LightConfig(widths=(8, 16, 16, 24, 32), depths=(1, 2, 1, 1), decoder=16)


def _offsets() -> dict[str, int]:
    starts, position = {}, 0
    for name, count in CHANNELS.items():
        starts[name] = position
        position += count
    return starts


def _two_people_maps(rows: int = 16, cols: int = 20) -> torch.Tensor:
    """Maps of a 64x80 image: person A centred at (22, 33), 16x40 px; person B centred at (58, 33), 48x40 px.

    Cells of columns 0-9 show part 3 (U 0.25) and vote for A's centre, columns 10-19 part 7 (U 0.75) and vote for B's.
    """
    at = _offsets()
    maps = torch.zeros(1, sum(CHANNELS.values()), rows, cols)
    maps[0, at["heat"]] = -10.0
    people = (((8, 5), 5.0, (0.5, 0.25), (16, 40)), ((8, 14), 3.0, (0.0, 0.25), (48, 40)))
    for (row, col), logit, offset, (w, h) in people:
        maps[0, at["heat"], row, col] = logit
        maps[0, at["offset"]:at["offset"] + 2, row, col] = torch.tensor(offset)
        maps[0, at["size"]:at["size"] + 2, row, col] = torch.tensor([math.log(w / STRIDE), math.log(h / STRIDE)])
    centres = {"A": (22.0, 33.0), "B": (56.0, 33.0)}
    cell_x = (torch.arange(cols) + 0.5) * STRIDE
    cell_y = (torch.arange(rows) + 0.5) * STRIDE
    for columns, part, u, centre in ((slice(0, 10), 3, 0.25, centres["A"]), (slice(10, cols), 7, 0.75, centres["B"])):
        maps[0, at["parts"] + part, :, columns] = 10.0
        maps[0, at["u"] + part - 1, :, columns] = u
        maps[0, at["v"] + part - 1, :, columns] = 0.5
        maps[0, at["instance"], :, columns] = (centre[0] - cell_x[columns])[None, :] / OFFSET_UNIT
        maps[0, at["instance"] + 1, :, columns] = (centre[1] - cell_y)[:, None] / OFFSET_UNIT
    return maps


def test_decoding_reads_boxes_parts_uv_and_gives_each_pixel_to_its_person():
    result = decode_image(_two_people_maps(), (64, 80), (64, 80), min_score=0.5)
    assert len(result) == 2
    np.testing.assert_allclose(result.scores, [1 / (1 + math.exp(-5)), 1 / (1 + math.exp(-3))], rtol=1e-6)
    np.testing.assert_allclose(result.boxes_xyxy, [[14, 13, 30, 53], [32, 13, 80, 53]], atol=1e-4)
    a_labels, b_labels = result.labels
    assert a_labels.shape == (40, 16) and (a_labels == 3).all()
    np.testing.assert_allclose(result.uv[0][0], 0.25, atol=1e-6)
    np.testing.assert_allclose(result.uv[0][1], 0.5, atol=1e-6)
    # box B starts at x = 32; pixels left of x = 40 (cells 8, 9) are A's, to the right B's part 7
    assert b_labels.shape == (40, 48)
    assert (b_labels[:, : 40 - 32 - 2] == 0).all() and (result.uv[1][:, :, : 40 - 32 - 2] == 0).all()
    assert (b_labels[:, 40 - 32 + 2:] == 7).all()
    np.testing.assert_allclose(result.uv[1][0][:, 40 - 32 + 2:], 0.75, atol=1e-6)


def test_labels_and_uv_at_any_pixels_are_the_bilinearly_upsampled_maps_there():
    """Against ``F.interpolate`` of the whole maps: the part argmax, and U,V from the chosen part's chart;
    pixel indices in any order and repeated (as when a small box is enlarged) give the same values."""
    torch.manual_seed(0)
    maps = split_maps(torch.randn(1, sum(CHANNELS.values()), 12, 15) * 3)
    parts = torch.nn.functional.interpolate(maps.parts, scale_factor=STRIDE, mode="bilinear", align_corners=False)
    charts = [torch.nn.functional.interpolate(m, scale_factor=STRIDE, mode="bilinear", align_corners=False)[0]
              for m in (maps.u, maps.v)]
    rows, cols = torch.tensor([0, 1, 1, 1, 20, 47, 30, 30, 2]), torch.tensor([59, 0, 3, 3, 3, 17, 40, 12])
    labels, uv = labels_uv_at(maps, rows, cols)
    expected = parts[0].argmax(dim=0)[rows[:, None], cols[None, :]]
    torch.testing.assert_close(labels, expected)
    for chart, values in zip(charts, uv):
        picked = chart[(expected - 1).clamp(min=0), rows[:, None], cols[None, :]]
        torch.testing.assert_close(values, torch.where(expected > 0, picked, torch.zeros_like(picked)), atol=1e-5,
                                   rtol=0)


def test_pixels_under_maps_pixel_centres_through_a_scale_and_clamps():
    assert pixels_under(10, 4, 0.5, 0, 100).tolist() == [5, 5, 6, 6]
    assert pixels_under(0, 3, 2.0, 0, 100, origin=-1.0).tolist() == [3, 5, 7]
    assert pixels_under(0, 4, 1.0, 1, 2).tolist() == [1, 1, 2, 2]


def test_decoding_scales_to_the_original_image_and_respects_the_threshold():
    result = decode_image(_two_people_maps(), (64, 80), (128, 160), min_score=0.97)
    assert len(result) == 1  # B's score 0.953 is below 0.97
    np.testing.assert_allclose(result.boxes_xyxy, [[28, 26, 60, 106]], atol=1e-3)
    assert result.labels[0].shape == (80, 32) and (result.labels[0] == 3).all()
    empty = decode_image(_two_people_maps(), (64, 80), (64, 80), min_score=0.999)
    assert len(empty) == 0 and empty.boxes_xyxy.shape == (0, 4)


@pytest.fixture(scope="module")
def random_light(tmp_path_factory) -> tuple[LightDensePose, Path]:
    """A tiny light model with random weights and batch-norm statistics, and its .pkl."""
    torch.manual_seed(0)
    model = LightDensePose(TINY).eval()
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.3, 0.3)
            module.running_var.uniform_(0.5, 2.0)
            module.weight.data.uniform_(0.5, 1.5)
    path = tmp_path_factory.mktemp("light") / "light.pkl"
    write_state_dict(checkpoint_state(model), path)
    return model, path


def test_checkpoint_round_trip_through_build_densepose(random_light):
    model, path = random_light
    built = build_densepose(path)
    assert isinstance(built, LightDensePose) and built.config == TINY
    images = torch.rand(2, 3, 96, 128) * 255
    with torch.no_grad():
        np.testing.assert_allclose(built(images).numpy(), model(images).numpy(), atol=2e-5)
        assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in built.modules())  # folded


def test_a_light_checkpoint_that_does_not_fit_is_refused_in_one_line(random_light, tmp_path):
    model, _ = random_light
    state = checkpoint_state(model)
    state["light_dense.predict.weight"] = state["light_dense.predict.weight"][:10]
    path = write_state_dict(state, tmp_path / "bad.pkl")
    with pytest.raises(Human3DError, match=r"bad\.pkl: does not match the light DensePose model: 1 tensors wrong "
                                           r"shape for \(first: light_dense\.predict\.weight\)"):
        build_densepose(path)


def test_onnxruntime_gives_the_torch_outputs(random_light, tmp_path):
    from human3d.densepose.light.onnx import OnnxLightNetwork, export_onnx

    model, _ = random_light
    fused = LightDensePose(TINY).eval()  # a copy: fusing changes the modules in place
    fused.load_state_dict(model.state_dict())
    fused = fuse_batch_norms(fused)
    network = OnnxLightNetwork(export_onnx(fused, tmp_path / "light.onnx"), threads=1)
    for shape in ((2, 3, 96, 128), (1, 3, 160, 64)):  # batch, height and width are dynamic
        images = torch.rand(shape) * 255
        with torch.no_grad():
            expected = model(images)
        got = network(images)
        assert got.shape == expected.shape == (shape[0], 80, shape[2] // 4, shape[3] // 4)
        np.testing.assert_allclose(got.numpy(), expected.numpy(), atol=1e-4)


def test_predictors_on_torch_and_onnxruntime_agree_on_the_bundled_model(tmp_path):
    from human3d.densepose.light.onnx import OnnxLightNetwork, export_onnx

    model = build_densepose(BUNDLED_LIGHT)
    image = read_image_bgr(EXAMPLE)
    network = OnnxLightNetwork(export_onnx(model, tmp_path / "bundled.onnx"), threads=1)
    by_torch = LightDensePosePredictor(model, min_score=0.0, max_people=5)(image)  # the 5 best peaks, whatever
    by_onnx = LightDensePosePredictor(network, min_score=0.0, max_people=5)(image)  # the weights' quality
    assert len(by_torch) == len(by_onnx) > 0
    np.testing.assert_allclose(by_onnx.boxes_xyxy, by_torch.boxes_xyxy, atol=1e-2)
    np.testing.assert_allclose(by_onnx.scores, by_torch.scores, atol=1e-4)
    for a, b, ua, ub in zip(by_torch.labels, by_onnx.labels, by_torch.uv, by_onnx.uv):
        if a.shape == b.shape:
            assert (a == b).mean() > 0.999
            np.testing.assert_allclose(ub[:, a == b], ua[:, a == b], atol=1e-3)


def test_bundled_weights_are_small_and_load():
    assert BUNDLED_LIGHT.is_file() and BUNDLED_LIGHT.stat().st_size < 30e6
    assert isinstance(build_densepose(BUNDLED_LIGHT), LightDensePose)


def test_cli_without_checkpoint_runs_the_bundled_light_model(tmp_path, capsys):
    picture, dump = tmp_path / "out.png", tmp_path / "out.npz"
    assert main(["densepose", str(EXAMPLE), "-o", str(picture), "--dump", str(dump), "--min-score", "0"]) == 0
    assert "1 processed, 0 failed" in capsys.readouterr().out
    with Image.open(picture) as shown, Image.open(EXAMPLE) as source:
        assert shown.size == source.size
    result = read_dump(dump)[""]
    assert len(result) > 0
    for (x, y, w, h), labels, uv in zip(result.boxes_xywh_int, result.labels, result.uv):
        assert labels.shape == (h, w) and uv.shape == (2, h, w)
        assert labels.max() <= NUM_PARTS and (uv[:, labels == 0] == 0).all()


def test_cli_on_torch_writes_the_dump_of_the_default_onnxruntime(tmp_path):
    dumps = [tmp_path / "torch.npz", tmp_path / "onnx.npz"]
    assert main(["densepose", str(EXAMPLE), "--dump", str(dumps[0]), "--backend", "torch"]) == 0
    assert main(["densepose", str(EXAMPLE), "--dump", str(dumps[1])]) == 0
    by_torch, by_onnx = (read_dump(d)[""] for d in dumps)
    assert len(by_torch) == len(by_onnx)
    np.testing.assert_allclose(by_onnx.scores, by_torch.scores, atol=1e-4)


def test_large_images_are_shrunk_and_results_come_back_in_input_pixels(random_light):
    model, _ = random_light
    image = read_image_bgr(EXAMPLE)  # 512 x 512
    small = LightDensePosePredictor(model, min_score=0.0, max_people=3, short_side=160)
    result = small(image)
    assert len(result) == 3
    assert (result.boxes_xyxy >= 0).all() and (result.boxes_xyxy <= 512).all()
    assert result.boxes_xyxy[:, 2:].max() > 160  # scaled back from the 160-pixel network input
    for (x, y, w, h), labels, uv in zip(result.boxes_xywh_int, result.labels, result.uv):
        assert labels.shape == (h, w) and uv.shape == (2, h, w)
