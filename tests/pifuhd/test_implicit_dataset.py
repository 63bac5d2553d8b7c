"""The plain PIFuHD training items of a synth folder: images, maps, calib and labelled points."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from human3d.pifuhd.augment import ImplicitDataset
from human3d.synth.scene import SceneConfig

COUNT = 2


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """Two samples of two people at 128 px with 600 labelled points each."""
    from human3d.synth.writer import generate

    out = tmp_path_factory.mktemp("implicit")
    generate(out, COUNT, 5, SceneConfig(size=128, people=2, points=600), progress=False)
    return out


def test_implicit_dataset_items(run_dir):
    dataset = ImplicitDataset(run_dir, num_points=500)
    assert len(dataset) == COUNT
    item = dataset[1]
    assert item["image"].shape == (3, 128, 128) and item["image"].min() >= -1 and item["image"].max() <= 1
    assert item["samples"].shape == (3, 500) and item["labels"].shape == (1, 500)
    # calib takes the points into the crop cube; inside points sit on mask pixels.
    calib = item["calib"]
    crop = calib[:3, :3] @ item["samples"] + calib[:3, 3:]
    assert crop.abs().max() <= 1.0
    inside = item["labels"][0] > 0.5
    cols = ((crop[0, inside] + 1) / 2 * 128).long().clamp(0, 127)
    rows = ((1 - crop[1, inside]) / 2 * 128).long().clamp(0, 127)
    assert item["mask"][0, rows, cols].float().mean() > 0.97
    again = ImplicitDataset(run_dir, num_points=500)[1]
    assert torch.equal(again["samples"], item["samples"])
