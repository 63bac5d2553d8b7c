"""COCO-17 keypoints regressed from the anny mesh (anny ships the regression weights)."""

from __future__ import annotations

import anny
import numpy as np
import torch

COCO17_NAMES: tuple[str, ...] = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)
"""COCO's 17 keypoints in COCO's order ("left"/"right" are the person's own)."""

COCO17_SKELETON: tuple[tuple[int, int], ...] = (
    (15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6), (5, 7),
    (6, 8), (7, 9), (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6),
)  # fmt: skip
"""COCO's limb connections as 0-based keypoint index pairs."""


def coco17_regressor(model: anny.Anny) -> np.ndarray:
    """(17, V) float64 weights: COCO-17 keypoints = weights @ vertices of the model's full mesh."""
    regressor = anny.KeypointsRegressor.coco(model, labels=list(COCO17_NAMES))
    return regressor.regression_weights.detach().cpu().numpy().astype(np.float64)


def regress_keypoints(weights: np.ndarray, vertices: np.ndarray | torch.Tensor) -> np.ndarray:
    """(17, 3) keypoints from (V, 3) vertices of the full anny mesh."""
    return weights @ np.asarray(vertices, dtype=np.float64)
