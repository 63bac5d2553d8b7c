"""A regular grid of query points and its dense evaluation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

QueryFn = Callable[[np.ndarray], np.ndarray]
"""Batched field query: float32 points [N, 3] -> float32 values [N]."""

DEFAULT_BATCH = 50_000


@dataclass(frozen=True)
class Grid:
    """``resolution``³ nodes; node index (i, j, k) maps to ``transform @ (i, j, k, 1)`` (a 4x4 affine)."""

    resolution: int
    transform: np.ndarray

    def points(self, indices: np.ndarray) -> np.ndarray:
        """World points (float32 [N, 3]) of integer or fractional node indices [N, 3] (computed in float64)."""
        indices = np.asarray(indices, dtype=np.float64)
        return (indices @ self.transform[:3, :3].T + self.transform[:3, 3]).astype(np.float32)


@dataclass
class FieldResult:
    """The field on all grid nodes and how many nodes the model was asked about."""

    values: np.ndarray  # float32 [res, res, res]
    queries: int


def evaluate(query: QueryFn, points: np.ndarray, batch_size: int = DEFAULT_BATCH) -> np.ndarray:
    """``query`` over ``points`` in batches of ``batch_size``; float32 [N]."""
    out = np.empty(len(points), dtype=np.float32)
    for start in range(0, len(points), batch_size):
        out[start : start + batch_size] = query(points[start : start + batch_size])
    return out


def dense_field(query: QueryFn, grid: Grid, batch_size: int = DEFAULT_BATCH) -> FieldResult:
    """Evaluate every node (res³ queries), a slab of constant i at a time."""
    res = grid.resolution
    values = np.empty((res, res, res), dtype=np.float32)
    j, k = np.meshgrid(np.arange(res), np.arange(res), indexing="ij")
    slab = np.stack([np.zeros_like(j), j, k], -1).reshape(-1, 3)
    for i in range(res):
        slab[:, 0] = i
        values[i] = evaluate(query, grid.points(slab), batch_size).reshape(res, res)
    return FieldResult(values, res**3)
