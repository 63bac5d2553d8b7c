"""Coarse-to-fine grid evaluation: only a narrow band around the level set is sent to the model.

Start on a coarse lattice; at each halving of the step, evaluate the new nodes of every cell whose
corners straddle the level (plus one cell of dilation), and fill all other new nodes by trilinear
interpolation of the coarser lattice. Interpolated values never cross the level inside a cell whose
corners are all on one side, so every finest cell that straddles the level has all 8 corners
evaluated exactly: marching cubes then returns the dense grid's mesh, unless the dense field has a
feature smaller than a coarse cell that no evaluated corner sees (such a feature is ambiguous at
that lattice anyway).
"""

from __future__ import annotations

import math

import numpy as np

from human3d.surface.grid import DEFAULT_BATCH, FieldResult, Grid, QueryFn, evaluate


def _or_box2(mask: np.ndarray) -> np.ndarray:
    """Nodes touched by the marked cells: OR of the cell mask shifted by 0/1 along each axis."""
    out = mask
    for axis in range(3):
        grown_shape = list(out.shape)
        grown_shape[axis] += 1
        grown = np.zeros(grown_shape, dtype=bool)
        low = [slice(None)] * 3
        high = [slice(None)] * 3
        low[axis], high[axis] = slice(0, -1), slice(1, None)
        grown[tuple(low)] |= out
        grown[tuple(high)] |= out
        out = grown
    return out


def _dilate(mask: np.ndarray) -> np.ndarray:
    """3x3x3 binary dilation, separable."""
    out = mask.copy()
    for axis in range(3):
        moved = out.copy()
        low = [slice(None)] * 3
        high = [slice(None)] * 3
        low[axis], high[axis] = slice(0, -1), slice(1, None)
        moved[tuple(low)] |= out[tuple(high)]
        moved[tuple(high)] |= out[tuple(low)]
        out = moved
    return out


def _straddling_cells(values: np.ndarray, level: float) -> np.ndarray:
    """Cells (n-1)³ whose 8 corners are not all on the same side of ``level``."""
    above = values > level
    any_above = np.zeros(tuple(s - 1 for s in values.shape), dtype=bool)
    all_above = np.ones_like(any_above)
    for di in (0, 1):
        for dj in (0, 1):
            for dk in (0, 1):
                corner = above[di : di + any_above.shape[0], dj : dj + any_above.shape[1], dk : dk + any_above.shape[2]]
                any_above |= corner
                all_above &= corner
    return any_above & ~all_above


def _refine_lattice(values: np.ndarray) -> np.ndarray:
    """Lattice with half the step: old nodes kept, new nodes trilinearly interpolated."""
    n = values.shape[0]
    fine = np.empty((2 * n - 1,) * 3, dtype=values.dtype)
    fine[::2, ::2, ::2] = values
    fine[1::2, ::2, ::2] = 0.5 * (fine[:-1:2, ::2, ::2] + fine[2::2, ::2, ::2])
    fine[:, 1::2, ::2] = 0.5 * (fine[:, :-1:2, ::2] + fine[:, 2::2, ::2])
    fine[:, :, 1::2] = 0.5 * (fine[:, :, :-1:2] + fine[:, :, 2::2])
    return fine


def sparse_field(
    query: QueryFn,
    grid: Grid,
    level: float = 0.5,
    coarse_cells: int = 32,
    batch_size: int = DEFAULT_BATCH,
) -> FieldResult:
    """The grid field, evaluated exactly in a band around ``level`` and interpolated elsewhere.

    ``coarse_cells`` is about the number of cells per axis of the first lattice (its step is the
    largest power of two not above ``resolution / coarse_cells``). Returns the values on the
    ``grid`` nodes and the number of nodes the model evaluated.
    """
    res = grid.resolution
    step = 2 ** max(0, int(math.floor(math.log2(max(1, res // coarse_cells)))))
    size = step * math.ceil((res - 1) / step) + 1  # padded so the lattice covers index res-1
    coarse = np.arange(0, size, step)
    ii, jj, kk = np.meshgrid(coarse, coarse, coarse, indexing="ij")
    nodes = np.stack([ii, jj, kk], -1).reshape(-1, 3)
    values = evaluate(query, grid.points(nodes), batch_size).reshape((len(coarse),) * 3)
    evaluated = np.ones(values.shape, dtype=bool)
    queries = len(nodes)
    while step > 1:
        active = _dilate(_straddling_cells(values, level))
        values = _refine_lattice(values)
        known = np.zeros(values.shape, dtype=bool)
        known[::2, ::2, ::2] = evaluated
        fine_cells = active.repeat(2, 0).repeat(2, 1).repeat(2, 2)
        todo = _or_box2(fine_cells) & ~known
        del fine_cells
        step //= 2
        index = np.argwhere(todo)
        if len(index):
            values[todo] = evaluate(query, grid.points(index * step), batch_size)
        queries += len(index)
        evaluated = known | todo
        del todo, known
    return FieldResult(np.ascontiguousarray(values[:res, :res, :res]), queries)
