"""Inside/outside of closed surfaces by the generalized winding number.

The winding number of a closed, outward-oriented surface is 1 inside and 0 outside, and it degrades
gracefully on small holes and self-intersections (unlike ray parity). For a union of closed shells
(a body plus closed garment shells, concatenated into one mesh) the sum is >= 1 wherever a point is
inside any shell, so ``occupancy = winding > 0.5`` is the occupancy of the union.

Speed: faces are grouped into spatial leaves of at most ``leaf_size`` faces; a leaf far from a query
point (distance > ``far_factor`` x its radius) contributes by its dipole (far-field) term, near
leaves are summed exactly per triangle (van Oosterom & Strackee's solid angle). With the defaults
(16 faces, factor 2) the winding number is within ~0.06 of the exact sum on a posed anny body
(8,000 points near its surface: no inside/outside decision differed from the exact one).
"""

from __future__ import annotations

import math

import numpy as np
import torch


def _solid_angles(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """Signed solid angle of triangles (a, b, c) seen from the origin; inputs (..., 3)."""
    la, lb, lc = a.norm(dim=-1), b.norm(dim=-1), c.norm(dim=-1)
    numerator = (a * torch.cross(b, c, dim=-1)).sum(-1)
    denominator = la * lb * lc + (a * b).sum(-1) * lc + (b * c).sum(-1) * la + (c * a).sum(-1) * lb
    return 2.0 * torch.atan2(numerator, denominator)


def _split_leaves(centroids: np.ndarray, leaf_size: int) -> list[np.ndarray]:
    """Recursive median splits along the longest axis until every leaf has <= leaf_size faces."""
    leaves, stack = [], [np.arange(len(centroids))]
    while stack:
        index = stack.pop()
        if len(index) <= leaf_size:
            leaves.append(index)
            continue
        points = centroids[index]
        axis = int(np.argmax(points.max(0) - points.min(0)))
        order = index[np.argsort(points[:, axis], kind="stable")]
        half = len(order) // 2
        stack.extend([order[:half], order[half:]])
    return leaves


class WindingNumber:
    """Generalized winding number of one triangle mesh; build once, query many point sets."""

    def __init__(self, vertices: np.ndarray, faces: np.ndarray, leaf_size: int = 16, far_factor: float = 2.0):
        """``far_factor=math.inf`` sums every triangle exactly (no far-field approximation)."""
        triangles = np.asarray(vertices, dtype=np.float64)[np.asarray(faces, dtype=np.int64)]
        leaves = _split_leaves(triangles.mean(axis=1), leaf_size) if len(triangles) else []
        padded = np.zeros((len(leaves), leaf_size, 3, 3))
        centres = np.zeros((len(leaves), 3))
        area_vectors = np.zeros((len(leaves), 3))
        radii = np.zeros(len(leaves))
        for k, index in enumerate(leaves):
            tri = triangles[index]
            padded[k, : len(index)] = tri
            # Padding repeats the leaf's first vertex: degenerate triangles, solid angle 0.
            padded[k, len(index) :] = tri[0, 0]
            area_vector = 0.5 * np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
            area = np.linalg.norm(area_vector, axis=1)
            centre = (tri.mean(axis=1) * area[:, None]).sum(0) / max(area.sum(), 1e-30)
            centres[k] = centre
            area_vectors[k] = area_vector.sum(0)
            radii[k] = np.linalg.norm(tri - centre, axis=2).max()
        self.triangles = torch.from_numpy(padded).float()
        self.centres = torch.from_numpy(centres).float()
        self.area_vectors = torch.from_numpy(area_vectors).float()
        self.far_distance = torch.from_numpy(radii * far_factor).float()

    def __call__(self, points: np.ndarray, chunk: int = 4096) -> np.ndarray:
        """Winding numbers (N,) float32 of ``points`` (N, 3)."""
        points_t = torch.as_tensor(np.asarray(points, dtype=np.float32).reshape(-1, 3))
        out = torch.zeros(len(points_t), dtype=torch.float32)
        with torch.no_grad():
            for start in range(0, len(points_t), chunk):
                out[start : start + chunk] = self._query(points_t[start : start + chunk])
        return out.numpy()

    def _query(self, points: torch.Tensor) -> torch.Tensor:
        offsets = self.centres[None] - points[:, None]  # (P, L, 3)
        distance = offsets.norm(dim=-1)
        near = distance < self.far_distance[None]
        far_terms = (offsets * self.area_vectors[None]).sum(-1) / distance.clamp_min(1e-12) ** 3
        total = torch.where(near, torch.zeros_like(far_terms), far_terms).sum(1)
        point_index, leaf_index = near.nonzero(as_tuple=True)
        for start in range(0, len(point_index), 8192):
            p = point_index[start : start + 8192]
            tri = self.triangles[leaf_index[start : start + 8192]] - points[p][:, None, None, :]
            angles = _solid_angles(tri[..., 0, :], tri[..., 1, :], tri[..., 2, :]).sum(1)
            total.index_add_(0, p, angles)
        return total / (4.0 * math.pi)


def occupancy(vertices: np.ndarray, faces: np.ndarray, points: np.ndarray) -> np.ndarray:
    """True where ``points`` (N, 3) lie inside the closed, outward-oriented mesh (or union of shells)."""
    return WindingNumber(vertices, faces)(points) > 0.5
