"""Fitted bodies drawn over the photo: each body's skin, shaded, in its person's colour."""

from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from human3d.fit.body_fit import BodyFit
from human3d.people.pictures import person_colour

OPACITY = 0.7


def draw_bodies(image: np.ndarray, fits: Sequence[BodyFit], faces: np.ndarray, ids: Sequence[int]) -> np.ndarray:
    """``image`` (RGB uint8) with every fitted body painted over it, far triangles first, shaded by how
    much each faces the camera; ``faces`` are the skin triangles, ``ids`` the people's ids (colours)."""
    layer, covered = image.copy(), np.zeros(image.shape[:2], np.uint8)
    triangles, depths, colours = [], [], []
    for fit, person_id in zip(fits, ids):
        corners = fit.vertices[faces]  # (F, 3, 3) camera frame
        normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
        normals /= np.linalg.norm(normals, axis=1, keepdims=True) + 1e-12
        towards = -(corners.mean(axis=1) / np.linalg.norm(corners.mean(axis=1), axis=1, keepdims=True))
        facing = (normals * towards).sum(axis=1)
        seen = facing > 0
        pixels = corners[seen, :, :2] / corners[seen, :, 2:3].clip(min=0.01) * fit.intrinsics.focal
        pixels += np.array([fit.intrinsics.cx, fit.intrinsics.cy])
        triangles.append(pixels)
        depths.append(corners[seen, :, 2].mean(axis=1))
        base = np.array(person_colour(person_id), dtype=np.float32)
        colours.append((0.35 + 0.65 * facing[seen, None]) * base)
    if not triangles:
        return layer
    triangles, depths, colours = np.concatenate(triangles), np.concatenate(depths), np.concatenate(colours)
    for index in np.argsort(-depths):
        points = np.round(triangles[index] * 4).astype(np.int32)  # 2 bits of sub-pixel precision
        colour = tuple(int(c) for c in colours[index])
        cv2.fillConvexPoly(layer, points, colour, lineType=cv2.LINE_AA, shift=2)
        cv2.fillConvexPoly(covered, points, 1, shift=2)
    mask = covered.astype(bool)
    out = image.copy()
    out[mask] = (OPACITY * layer[mask] + (1 - OPACITY) * image[mask]).astype(np.uint8)
    return out
