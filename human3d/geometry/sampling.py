"""PIFu's training points: surface samples with Gaussian offsets plus uniform samples in a box,
labelled inside/outside and balanced to a chosen inside fraction."""

from __future__ import annotations

import numpy as np

from human3d.geometry.winding import WindingNumber


def surface_barycentrics(
    vertices: np.ndarray, faces: np.ndarray, count: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` area-uniform points on a triangle mesh, as their faces (count,) and barycentrics (count, 3)."""
    tri = np.asarray(vertices, dtype=np.float64)[np.asarray(faces, dtype=np.int64)]
    areas = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    chosen = rng.choice(len(tri), size=count, p=areas / areas.sum())
    r1, r2 = rng.random((2, count))
    s = np.sqrt(r1)
    return chosen, np.stack([1.0 - s, s * (1.0 - r2), s * r2], axis=1)


def sample_surface(vertices: np.ndarray, faces: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` points (count, 3) uniformly distributed by area on a triangle mesh."""
    chosen, weights = surface_barycentrics(vertices, faces, count, rng)
    tri = np.asarray(vertices, dtype=np.float64)[np.asarray(faces, dtype=np.int64)[chosen]]
    return np.einsum("nk,nkd->nd", weights, tri)


def sample_training_points(
    vertices: np.ndarray,
    faces: np.ndarray,
    count: int,
    rng: np.random.Generator,
    sigma: float = 0.05,
    uniform_fraction: float = 0.0625,
    inside_fraction: float = 0.5,
    box: tuple[np.ndarray, np.ndarray] | None = None,
    winding: WindingNumber | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """PIFu's sampling: returns ``points`` (count, 3) float32 and ``inside`` (count,) bool.

    Candidates are ``4 * count`` surface points moved by N(0, sigma^2) per axis (metres), plus
    ``uniform_fraction * 4 * count`` points uniform in ``box`` (default: the mesh bounds grown by
    ``2 * sigma``). Then ``inside_fraction * count`` inside and the rest outside points are kept
    (if one side runs short, the other fills in), in a random order. Candidates are labelled in a
    random order only until both quotas are met, which usually spares half of the winding numbers.
    """
    if not 0.0 <= inside_fraction <= 1.0:
        raise ValueError("inside_fraction must be in [0, 1]")
    vertices = np.asarray(vertices, dtype=np.float64)
    if box is None:
        box = (vertices.min(0) - 2 * sigma, vertices.max(0) + 2 * sigma)
    surface = sample_surface(vertices, faces, 4 * count, rng) + rng.normal(0.0, sigma, (4 * count, 3))
    uniform = rng.uniform(box[0], box[1], (int(round(uniform_fraction * 4 * count)), 3))
    candidates = np.concatenate([surface, uniform])
    candidates = candidates[rng.permutation(len(candidates))]
    winding = winding or WindingNumber(vertices, faces)
    want_inside = int(round(inside_fraction * count))
    # Label the shuffled candidates chunk by chunk until both quotas are met (the costly step).
    inside = np.zeros(len(candidates), dtype=bool)
    done, chunk = 0, max(count // 2, 256)
    while done < len(candidates):
        inside[done : done + chunk] = winding(candidates[done : done + chunk]) > 0.5
        done = min(done + chunk, len(candidates))
        if inside[:done].sum() >= want_inside and done - inside[:done].sum() >= count - want_inside:
            break
    inside_index, outside_index = np.flatnonzero(inside[:done]), np.flatnonzero(~inside[:done])
    want_inside = min(want_inside, len(inside_index))
    want_outside = min(count - want_inside, len(outside_index))
    want_inside = min(count - want_outside, len(inside_index))
    keep = np.concatenate([inside_index[:want_inside], outside_index[:want_outside]])
    keep = keep[rng.permutation(len(keep))]
    return candidates[keep].astype(np.float32), inside[keep]
