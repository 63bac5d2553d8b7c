"""Session fixtures for the data-engine tests: one body model, a few tiny generated runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from human3d.synth.scene import SceneConfig

RUN_SEED = 5
RUN_COUNT = 3
RUN_CONFIG = SceneConfig(size=128, people=2, points=600)


@pytest.fixture(scope="session")
def body_model():
    from human3d.body.model import get_body_model

    return get_body_model("cpu")


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory, body_model) -> Path:
    """A whole run: 3 samples of 2 people at 128 px with 600 labelled points each."""
    from human3d.synth.writer import generate

    out = tmp_path_factory.mktemp("run_a")
    generate(out, RUN_COUNT, RUN_SEED, RUN_CONFIG, progress=False)
    return out


@pytest.fixture(scope="session")
def sharded_run_dir(tmp_path_factory, body_model) -> Path:
    """The same run written as two shards (0/2 then 1/2) into one folder."""
    from human3d.synth.writer import generate

    out = tmp_path_factory.mktemp("run_b")
    generate(out, RUN_COUNT, RUN_SEED, RUN_CONFIG, shard=(1, 2), progress=False)
    generate(out, RUN_COUNT, RUN_SEED, RUN_CONFIG, shard=(0, 2), progress=False)
    return out


@pytest.fixture(scope="session")
def memory_sample(body_model):
    """One clothed person rendered at 192 px, kept in memory (float maps, no quantisation)."""
    from human3d.synth.scene import make_sample

    return make_sample(11, 2, SceneConfig(size=192, people=1), body_model)
