"""Marching cubes on a grid field and mesh cleaning."""

from __future__ import annotations

import numpy as np
import trimesh
from skimage import measure

from human3d.surface.grid import Grid


def extract_mesh(values: np.ndarray, grid: Grid, level: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Level set of a grid field: world vertices (float64 [V, 3]) and outward faces (int64 [F, 3]).

    scikit-image's Lewiner marching cubes at ``level`` (inside = above the level); vertices go
    through the grid's affine. Face rows equal the official PIFuHD ``.obj`` output (its faces
    reversed when the affine mirrors, then written as (a, c, b)). Returns empty arrays if the field
    does not cross the level.
    """
    if not (values.min() < level < values.max()):
        return np.zeros((0, 3)), np.zeros((0, 3), dtype=np.int64)
    verts, faces, _, _ = measure.marching_cubes(values, level)
    vertices = verts.astype(np.float64) @ grid.transform[:3, :3].T + grid.transform[:3, 3]
    faces = faces.astype(np.int64)
    mirrored = np.linalg.det(grid.transform[:3, :3]) < 0
    if mirrored:
        faces = faces[:, ::-1]
    # skimage's faces face the higher values (inward); a mirror flips that once more.
    return vertices, faces[:, [0, 2, 1]] if mirrored else faces[:, ::-1]


def largest_component(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keep the connected component with the most faces: (indices of kept vertices, re-indexed faces)."""
    if len(faces) == 0:
        return np.arange(len(vertices)), faces
    labels = trimesh.graph.connected_component_labels(trimesh.graph.face_adjacency(faces), node_count=len(faces))
    kept_faces = faces[labels == np.bincount(labels).argmax()]
    kept_vertices, inverse = np.unique(kept_faces, return_inverse=True)
    return kept_vertices, inverse.reshape(-1, 3)
