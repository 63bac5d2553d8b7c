"""The pinhole camera a photo is fitted with (OpenCV frame: x right, y down, z forward, metres)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

FOCAL_PER_LONGER_SIDE = 1.0  # focal length in pixels per pixel of the longer side: about 53 degrees across it


@dataclass(frozen=True)
class Intrinsics:
    """Focal length and principal point in pixels."""

    focal: float
    cx: float
    cy: float

    def as_list(self) -> list[float]:
        """``[focal, cx, cy]`` (for JSON)."""
        return [self.focal, self.cx, self.cy]


def default_intrinsics(width: int, height: int, focal_per_longer_side: float = FOCAL_PER_LONGER_SIDE) -> Intrinsics:
    """A photo's camera when nothing is known of it: the principal point at the centre and a normal lens
    (``FOCAL_PER_LONGER_SIDE``; a phone's main camera is close to it), or the lens ``focal_per_longer_side``."""
    return Intrinsics(focal_per_longer_side * max(width, height), width / 2.0, height / 2.0)


def project(points: torch.Tensor, intrinsics: Intrinsics) -> torch.Tensor:
    """Camera-frame points [..., 3] -> pixels [..., 2] (depth clamped at 1 cm in front of the camera)."""
    return pinhole(points, intrinsics.focal, points.new_tensor([intrinsics.cx, intrinsics.cy]))


def pinhole(points: torch.Tensor, focal: float | torch.Tensor, centre: torch.Tensor) -> torch.Tensor:
    """Camera-frame points [..., 3] -> pixels [..., 2] through a focal length and principal point ``centre``
    [..., 2] that broadcast against them (one camera, or one per batch row); depth clamped at 1 cm."""
    return points[..., :2] / points[..., 2:3].clamp(min=0.01) * focal + centre


def box_scale(box_xyxy: np.ndarray) -> float:
    """The unit image errors of a person are measured in: their box's height in pixels (at least 8)."""
    return max(float(box_xyxy[3] - box_xyxy[1]), 8.0)
