"""Motions of anny people for the motion writers' tests, on the one body model of the session."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pytest

from human3d.body import BodyModel, get_body_model
from human3d.body.motion import BodyMotion

MotionFactory = Callable[..., BodyMotion]


@pytest.fixture(scope="session")
def body_model() -> BodyModel:
    return get_body_model()


@pytest.fixture(scope="session")
def make_motion() -> MotionFactory:
    """``make_motion(seed, frames, id, fps)``: a random shape and moderate random poses (about 11 degrees a bone,
    any turn of the whole body) wandering a few metres about."""

    def make(seed: int, frames: int = 4, id: int = 0, fps: float = 30.0) -> BodyMotion:
        rng = np.random.default_rng(seed)
        phenotype = {name: float(rng.uniform(0.2, 0.8)) for name in ("gender", "age", "muscle", "weight", "height")}
        poses = rng.normal(0.0, 0.2, (frames, 104, 3))
        poses[:, 0] = rng.normal(0.0, 1.0, (frames, 3))
        translations = np.cumsum(rng.normal(0.0, 0.5, (frames, 3)), axis=0)
        return BodyMotion(phenotype, poses, translations, fps, id)

    return make
