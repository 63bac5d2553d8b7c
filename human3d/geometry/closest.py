"""Closest points on triangles and on a triangle mesh, vectorised with numpy."""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree


def project_to_triangles(points: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Barycentric coordinates of the closest point on each triangle (any dimension D).

    ``points`` is (N, D) and ``triangles`` (N, K, 3, D): K candidate triangles per point. Returns
    (N, K, 3) barycentrics, all >= 0 and summing to 1 (Ericson, Real-Time Collision Detection, 5.1.5).
    """
    p = points[:, None, :]
    a, b, c = triangles[..., 0, :], triangles[..., 1, :], triangles[..., 2, :]
    ab, ac, ap = b - a, c - a, p - a
    bp, cp = p - b, p - c
    d1, d2 = (ab * ap).sum(-1), (ac * ap).sum(-1)
    d3, d4 = (ab * bp).sum(-1), (ac * bp).sum(-1)
    d5, d6 = (ab * cp).sum(-1), (ac * cp).sum(-1)
    va = d3 * d6 - d5 * d4
    vb = d5 * d2 - d1 * d6
    vc = d1 * d4 - d3 * d2

    with np.errstate(divide="ignore", invalid="ignore"):
        denom = va + vb + vc
        v_face, w_face = vb / denom, vc / denom
        t_ab = d1 / (d1 - d3)
        t_ac = d2 / (d2 - d6)
        t_bc = (d4 - d3) / ((d4 - d3) + (d5 - d6))

    bary = np.stack([1.0 - v_face - w_face, v_face, w_face], axis=-1)
    # Regions are tested from the least to the most specific so later assignments win.
    on_bc = (va <= 0) & (d4 - d3 >= 0) & (d5 - d6 >= 0)
    bary = np.where(on_bc[..., None], np.stack([np.zeros_like(t_bc), 1 - t_bc, t_bc], -1), bary)
    on_ac = (vb <= 0) & (d2 >= 0) & (d6 <= 0)
    bary = np.where(on_ac[..., None], np.stack([1 - t_ac, np.zeros_like(t_ac), t_ac], -1), bary)
    on_ab = (vc <= 0) & (d1 >= 0) & (d3 <= 0)
    bary = np.where(on_ab[..., None], np.stack([1 - t_ab, t_ab, np.zeros_like(t_ab)], -1), bary)
    corner = np.eye(3)
    bary = np.where(((d6 >= 0) & (d5 <= d6))[..., None], corner[2], bary)
    bary = np.where(((d3 >= 0) & (d4 <= d3))[..., None], corner[1], bary)
    bary = np.where(((d1 <= 0) & (d2 <= 0))[..., None], corner[0], bary)
    bary = np.nan_to_num(bary, nan=1.0 / 3.0)
    bary = np.clip(bary, 0.0, 1.0)
    return bary / bary.sum(-1, keepdims=True)


def vertex_face_table(faces: np.ndarray, n_vertices: int) -> np.ndarray:
    """(V, M) faces around each vertex, padded with -1 (M is the largest valence)."""
    owner = np.repeat(np.arange(len(faces)), 3)
    corner_vertex = faces.ravel()
    order = np.argsort(corner_vertex, kind="stable")
    counts = np.bincount(corner_vertex, minlength=n_vertices)
    table = np.full((n_vertices, counts.max()), -1, dtype=np.int64)
    slot = np.arange(len(order)) - np.repeat(np.cumsum(counts) - counts, counts)
    table[corner_vertex[order], slot] = owner[order]
    return table


def _distinct_per_row(candidates: np.ndarray) -> np.ndarray:
    """Rows of face indices (-1 = none) without repeats, narrowed to the widest row; short rows repeat their first."""
    none = np.iinfo(np.int64).max
    rows = np.sort(np.where(candidates < 0, none, candidates), axis=1)
    rows[:, 1:][rows[:, 1:] == rows[:, :-1]] = none
    rows = np.sort(rows, axis=1)
    rows = rows[:, : int((rows < none).sum(axis=1).max())]
    return np.where(rows == none, rows[:, :1], rows)


def closest_surface_points(
    vertices: np.ndarray, faces: np.ndarray, points: np.ndarray, neighbours: int = 6, chunk: int = 4096
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Closest point of a triangle mesh to each query point.

    Candidates are the faces around the ``neighbours`` nearest vertices (of those the faces use),
    which finds the exact closest point for points near the surface (the use here: clothing over
    a body). ``faces`` may be any subset of a mesh's faces over the full ``vertices`` array.
    Returns face index (N,) int64, barycentric (N, 3) float64 and distance (N,) float64.
    """
    vertices = np.asarray(vertices, dtype=np.float64)
    points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    used, local_faces = np.unique(faces, return_inverse=True)
    table = vertex_face_table(local_faces.reshape(-1, 3), len(used))
    tree = cKDTree(vertices[used])
    k = min(neighbours, len(used))
    face_index = np.zeros(len(points), dtype=np.int64)
    barycentric = np.zeros((len(points), 3))
    distance = np.zeros(len(points))
    for start in range(0, len(points), chunk):
        batch = points[start : start + chunk]
        _, near = tree.query(batch, k=k)
        candidates = _distinct_per_row(table[near.reshape(len(batch), k)].reshape(len(batch), -1))
        triangles = vertices[faces[candidates]]
        bary = project_to_triangles(batch, triangles)
        closest = np.einsum("nkc,nkcd->nkd", bary, triangles)
        gap = np.linalg.norm(closest - batch[:, None], axis=2)
        best = gap.argmin(axis=1)
        rows = np.arange(len(batch))
        face_index[start : start + chunk] = candidates[rows, best]
        barycentric[start : start + chunk] = bary[rows, best]
        distance[start : start + chunk] = gap[rows, best]
    return face_index, barycentric, distance


def depth_under(vertices: np.ndarray, faces: np.ndarray, points: np.ndarray, reach: float = 0.08) -> np.ndarray:
    """How deep each point lies under a surface patch (metres; 0 where it lies outside).

    A point is under the patch when the nearest patch point is closer than ``reach`` and the point
    is on the back side of that face (faces counter-clockwise seen from outside).
    """
    face, bary, distance = closest_surface_points(vertices, faces, points)
    tri = np.asarray(vertices, dtype=np.float64)[faces[face]]
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    side = np.einsum("nd,nd->n", np.asarray(points, dtype=np.float64) - np.einsum("nc,ncd->nd", bary, tri), normal)
    return np.where((side < 0) & (distance < reach), distance, 0.0)
