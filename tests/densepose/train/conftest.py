"""Fixtures of the light-model training tests: a few generated synthetic images, made once a session."""

from __future__ import annotations

from pathlib import Path

import pytest

from human3d.synth.scene import SceneConfig


@pytest.fixture(scope="session")
def light_data(tmp_path_factory) -> Path:
    """Six 128x128 images of two people each (the DensePose-COCO JSON of the run)."""
    from human3d.body.model import get_body_model
    from human3d.synth.writer import generate

    get_body_model("cpu")
    out = tmp_path_factory.mktemp("light_data")
    generate(out, 6, 21, SceneConfig(size=128, people=2, camera="perspective"), progress=False)
    return out / "densepose_coco.json"
