"""Where a person found in a photo runs off it.

BlazePose places every landmark, seen or not, where the body would be: for a person the photo cuts (legs only, a
head above the frame) the unseen ones fall outside the image. A reconstruction of such a person guesses what lies
outside, and a user should be told.
"""

from __future__ import annotations

import numpy as np

from human3d.people.landmarks import LANDMARK_NAMES

BODY_LANDMARKS = tuple(LANDMARK_NAMES.index(name) for name in (
    "nose", "left_shoulder", "right_shoulder", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle",
    "right_ankle"))  # the head, the trunk and the legs: what a reconstruction is of
OUTSIDE = 0.01  # of the image's longer side: how far past an edge a landmark lies to count as outside


def edges_cut(landmarks: np.ndarray, width: int, height: int, outside: float = OUTSIDE) -> tuple[str, ...]:
    """The photo's edges ("top", "bottom", "left", "right") past which, by more than ``outside`` of the image's
    longer side, the person's :data:`BODY_LANDMARKS` lie (``landmarks`` [33, >=2] in pixels)."""
    x, y = landmarks[BODY_LANDMARKS, 0], landmarks[BODY_LANDMARKS, 1]
    slack = outside * max(width, height)
    past = {"top": y < -slack, "bottom": y > height + slack, "left": x < -slack, "right": x > width + slack}
    return tuple(edge for edge, where in past.items() if where.any())
