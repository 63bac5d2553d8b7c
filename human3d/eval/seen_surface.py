"""Which points of a sample's ground-truth surface its camera sees.

A reconstruction from one photo is scored on the whole surface, but only part of that surface is in the photo;
the rest (the back, what an arm or a robe hides) the network has to guess. P2S split by what the camera sees
tells the two apart. A point is seen when its depth along the camera's axis lies within :data:`SEEN_TOLERANCE`
of the sample's rendered front depth map at its pixel (``depth_front.png``: the nearest surface along each
pixel's ray).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from human3d.formats import synth_sample as layout
from human3d.formats.synth_sample import read_camera, read_depth
from human3d.geometry.cameras import Camera

SEEN_TOLERANCE = 0.01  # metres between a point's depth and the front depth map's at its pixel


def seen_by_camera(points: np.ndarray, camera: Camera, depth_front: np.ndarray,
                   tolerance: float = SEEN_TOLERANCE) -> np.ndarray:
    """bool [N]: whether each world point [N, 3] lies on the surface ``camera`` sees, ``depth_front`` [H, W] being
    that surface's depth along the camera's axis (metres, 0 where nothing is seen)."""
    pixels = camera.to_pixels(points)
    height, width = depth_front.shape
    cols, rows = np.floor(pixels[:, 0]).astype(np.int64), np.floor(pixels[:, 1]).astype(np.int64)
    inside = (cols >= 0) & (cols < width) & (rows >= 0) & (rows < height)
    nearest = depth_front[np.clip(rows, 0, height - 1), np.clip(cols, 0, width - 1)]
    return inside & (nearest > 0) & (np.abs(pixels[:, 2] - nearest) <= tolerance)


def seen_in_sample(sample_dir: str | Path, points: np.ndarray) -> np.ndarray | None:
    """:func:`seen_by_camera` for world points [N, 3] of a written sample (its camera and front depth map);
    None when the sample has no front depth map."""
    sample_dir = Path(sample_dir)
    if not (sample_dir / layout.depth_map("front")).is_file():
        return None
    camera, _ = read_camera(sample_dir)
    return seen_by_camera(points, camera, read_depth(sample_dir, "front"))
