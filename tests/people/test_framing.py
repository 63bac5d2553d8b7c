"""Where a found person runs off the photo: landmarks past the edges, and the finder on a cut photo."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from human3d.io.images import read_image
from human3d.people.framing import BODY_LANDMARKS, edges_cut
from human3d.people.landmarks import LANDMARK_NAMES

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "person.png"


def standing(width: int = 400, height: int = 600) -> np.ndarray:
    """Landmarks [33, 4] of a person standing well inside a ``width`` x ``height`` photo (nose on top, ankles low)."""
    landmarks = np.zeros((33, 4), np.float32)
    landmarks[:, 0], landmarks[:, 1], landmarks[:, 3] = width / 2, np.linspace(60, height - 60, 33), 1.0
    return landmarks


def test_landmarks_past_an_edge_name_it():
    landmarks = standing()
    assert edges_cut(landmarks, 400, 600) == ()
    nose, left_ankle, right_hip = (LANDMARK_NAMES.index(n) for n in ("nose", "left_ankle", "right_hip"))
    landmarks[nose, 1] = -30.0
    assert edges_cut(landmarks, 400, 600) == ("top",)
    landmarks[left_ankle, 1], landmarks[right_hip, 0] = 660.0, 430.0
    assert edges_cut(landmarks, 400, 600) == ("top", "bottom", "right")
    # within 1 % of the longer side (6 px) of an edge, or a hand (not a body landmark) past it, is not a cut
    landmarks = standing()
    landmarks[nose, 1], landmarks[LANDMARK_NAMES.index("left_wrist"), 0] = -5.0, -80.0
    assert LANDMARK_NAMES.index("left_wrist") not in BODY_LANDMARKS
    assert edges_cut(landmarks, 400, 600) == ()


def test_the_finder_on_a_photo_cut_below_the_head(finder):
    photo = read_image(EXAMPLE)[:, :, :3]
    whole = finder.find(photo)
    assert len(whole) == 1 and edges_cut(whole[0].landmarks, 512, 512) == ()
    cut = np.ascontiguousarray(photo[100:])  # the head and the top of the shoulders gone
    found = finder.find(cut)
    assert len(found) == 1 and edges_cut(found[0].landmarks, cut.shape[1], cut.shape[0]) == ("top",)
