"""One body model and a few posed bodies per test session (building the model takes seconds)."""

from __future__ import annotations

import numpy as np
import pytest

from human3d.body import POSE_KINDS, BodyModel, PosedBody, get_body_model, sample_body_params

SEEDS_PER_KIND = 3


@pytest.fixture(scope="session")
def body_model() -> BodyModel:
    return get_body_model()


@pytest.fixture(scope="session")
def rest_body(body_model: BodyModel) -> PosedBody:
    return body_model.pose(body_model.rest_params())


@pytest.fixture(scope="session")
def posed_bodies(body_model: BodyModel) -> list[tuple[str, int, PosedBody]]:
    """(kind, seed, body) for a few seeds of every pose kind."""
    bodies = []
    for k, kind in enumerate(POSE_KINDS):
        for seed in range(SEEDS_PER_KIND):
            params = sample_body_params(np.random.default_rng(1000 * k + seed), kind, body_model)
            bodies.append((kind, seed, body_model.pose(params)))
    return bodies
