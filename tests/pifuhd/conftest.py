"""Fixtures for the PIFuHD tests: the reference sets in ../shared and the model/features built from them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch

from human3d.pifuhd.model import load_pifuhd
from human3d.pifuhd.predictor import PifuhdPredictor
from human3d.pifuhd.preprocess import network_inputs, rect_from_keypoints

REFERENCE_SETS = ("public", "hidden")


@dataclass
class ReferenceRun:
    """One reference set and our predictor after encoding its image (from our own preprocessing)."""

    folder: Path
    vectors: dict
    predictor: PifuhdPredictor


@pytest.fixture(scope="session")
def pifuhd_reference(shared_dir: Path) -> Path:
    """``../shared/reference/pifuhd``."""
    return shared_dir / "reference" / "pifuhd"


@pytest.fixture(scope="session")
def reference_checkpoint(pifuhd_reference: Path) -> Path:
    """The public reference checkpoint (official format, random weights)."""
    return pifuhd_reference / "public" / "checkpoint.pt"


def _available_sets() -> list[str]:
    reference = Path(__file__).resolve().parents[3] / "shared" / "reference" / "pifuhd"
    found = [name for name in REFERENCE_SETS if (reference / name / "vectors.npz").is_file()]
    return found or ["public"]


@pytest.fixture(scope="session", params=_available_sets())
def reference_run(request, pifuhd_reference: Path) -> ReferenceRun:
    """Load a set's checkpoint through the user path, preprocess its photo ourselves, encode once."""
    torch.set_num_threads(2)
    folder = pifuhd_reference / request.param
    with np.load(folder / "vectors.npz") as data:
        vectors = {key: data[key] for key in data.files}
    predictor = PifuhdPredictor(load_pifuhd(folder / "checkpoint.pt"))
    rect = rect_from_keypoints(vectors["src_keypoints_selected"])
    inputs = network_inputs(vectors["src_image_rgb"], rect, predictor.model.options.fine.load_size_big)
    predictor.encode(inputs.image_512, inputs.image_1024)
    return ReferenceRun(folder, vectors, predictor)
