"""All six model-zoo configurations: recognition from names/shapes, exact state-dict layout, a forward pass."""

from __future__ import annotations

import dataclasses
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from human3d.densepose.predictor import build_densepose
from human3d.densepose.rcnn.config import CONFIGS, get_config, recognize_config
from human3d.densepose.rcnn.model import DensePoseRCNN
from human3d.errors import Human3DError

ALL = sorted(CONFIGS)


def _shapes(densepose_ref: Path, name: str) -> list[dict]:
    return json.loads((densepose_ref / f"{name}_state_dict_shapes.json").read_text())["tensors"]


def _synthetic_state(tensors: list[dict], seed: int = 0) -> dict[str, np.ndarray]:
    """Small random float32 arrays of the listed shapes; positive variances for frozen batch norm."""
    generator = torch.Generator().manual_seed(seed)
    state = {}
    for t in tensors:
        shape = tuple(t["shape"])
        if t["name"].endswith("running_var"):
            state[t["name"]] = np.ones(shape, np.float32)
        else:
            fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
            state[t["name"]] = (torch.randn(shape, generator=generator) / fan_in**0.5).numpy()
    return state


@pytest.mark.parametrize("name", ALL)
def test_recognised_from_names_and_shapes(densepose_ref, name):
    shapes = {t["name"]: t["shape"] for t in _shapes(densepose_ref, name)}
    assert recognize_config(shapes).name == name


@pytest.mark.parametrize("name", ALL)
def test_state_dict_layout_matches_detectron2(densepose_ref, name):
    ours = [(k, list(v.shape)) for k, v in DensePoseRCNN(get_config(name)).state_dict().items()]
    assert ours == [(t["name"], t["shape"]) for t in _shapes(densepose_ref, name)]


def test_config_names_with_and_without_prefix():
    assert get_config("R_101_FPN_DL_s1x") is get_config("densepose_rcnn_R_101_FPN_DL_s1x")
    with pytest.raises(Human3DError, match="unknown DensePose config 'R_18'"):
        get_config("R_18")


@pytest.mark.parametrize("name", ["densepose_rcnn_R_101_FPN_s1x", "densepose_rcnn_R_101_FPN_s1x_legacy",
                                  "densepose_rcnn_R_50_FPN_DL_s1x", "densepose_rcnn_R_101_FPN_DL_s1x"])
def test_synthetic_checkpoint_loads_and_runs(densepose_ref, tmp_path, name):
    state = _synthetic_state(_shapes(densepose_ref, name))
    if name == "densepose_rcnn_R_50_FPN_DL_s1x":  # through a .pkl; protocol 2 takes numpy's older reduce path
        path = tmp_path / "model.pkl"
        path.write_bytes(pickle.dumps({"model": state, "__author__": "test"}, protocol=2))
        model = build_densepose(path)
    else:
        model = build_densepose({k: torch.from_numpy(v) for k, v in state.items()})
    assert model.config.name == name
    # keep the forward cheap: at most 2 detections get the (costly) DensePose head
    model = build_densepose({k: torch.from_numpy(v) for k, v in state.items()},
                            dataclasses.replace(model.config, detections_per_image=2))
    loaded = model.state_dict()
    for key in ("backbone.bottom_up.res4.0.conv2.weight", "roi_heads.densepose_predictor.u_lowres.bias"):
        np.testing.assert_array_equal(loaded[key].numpy(), state[key])
    config = model.config
    with torch.inference_mode():
        image = torch.randint(0, 256, (3, 90, 120), dtype=torch.uint8)
        batch, sizes = model.normalize([image])
        assert batch.shape[-2:] == (96, 128)
        outputs = model(batch, sizes)
        assert len(outputs) == 1 and outputs[0].boxes.shape[1] == 4 and len(outputs[0].boxes) <= 2
        assert len(outputs[0].charts.u) == len(outputs[0].boxes)
        features = model.backbone(batch)
        charts = model.roi_heads.densepose(features, [torch.tensor([[10.0, 5.0, 80.0, 85.0], [0.0, 0.0, 120.0, 90.0]])])
    size = 4 * config.pooler_resolution
    assert charts.coarse_segm.shape == (2, config.coarse_channels, size, size)
    for t in (charts.fine_segm, charts.u, charts.v):
        assert t.shape == (2, 25, size, size) and torch.isfinite(t).all()
