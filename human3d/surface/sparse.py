"""Coarse-to-fine grid evaluation: only the cells the level set passes through are sent to the model.

Start on a coarse lattice. At each halving of the step, fill the new nodes by trilinear interpolation
of the coarser lattice, then evaluate exactly the new nodes of every cell whose corners straddle the
level. Interpolated values never cross the level inside a cell whose corners are all on one side, so
a finer cell can only straddle through a node evaluated at this step; the band then grows: every cell
next to a newly evaluated node that straddles and still has an unevaluated corner gets its corners
evaluated, until none is left. The surface is continuous, so the band follows every surface sheet
that the coarse lattice sees, however far it leaves the coarse band, and at the finest step every
straddling cell has all 8 corners evaluated exactly: marching cubes returns the dense grid's mesh,
unless the dense field has a piece smaller than a coarse cell, apart from the rest, that no evaluated
node sees (such a piece is ambiguous at that lattice anyway).
"""

from __future__ import annotations

import math
from itertools import product

import numpy as np

from human3d.surface.grid import DEFAULT_BATCH, FieldResult, Grid, QueryFn, evaluate

_CORNERS = np.array(list(product((0, 1), repeat=3)))  # the 8 corners of a cell, as node offsets
_BLOCK = np.array(list(product((0, 1, 2), repeat=3)))  # the 27 finer nodes of a refined cell


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
    """Lattice with half the step: old nodes kept, new nodes trilinearly interpolated (one axis at a time)."""
    for axis in range(3):
        shape = list(values.shape)
        shape[axis] = 2 * shape[axis] - 1
        finer = np.empty(shape, dtype=values.dtype)
        even, odd = [slice(None)] * 3, [slice(None)] * 3
        even[axis], odd[axis] = slice(0, None, 2), slice(1, None, 2)
        low, high = [slice(None)] * 3, [slice(None)] * 3
        low[axis], high[axis] = slice(0, -1), slice(1, None)
        finer[tuple(even)] = values
        np.multiply(values[tuple(low)] + values[tuple(high)], 0.5, out=finer[tuple(odd)])
        values = finer
    return values


def _distinct(flat: np.ndarray) -> np.ndarray:
    """The distinct values of an integer array, sorted."""
    flat = np.sort(flat)
    return flat[np.concatenate([[True], flat[1:] != flat[:-1]])] if len(flat) else flat


class _Band:
    """The evaluation of more nodes of a cubic lattice: flat node indices, which are known, the count."""

    def __init__(self, query: QueryFn, grid: Grid, level: float, batch_size: int) -> None:
        self.query, self.grid, self.level, self.batch_size = query, grid, level, batch_size
        self.queries = 0

    def evaluate(self, values: np.ndarray, known: np.ndarray, flat: np.ndarray, step: int) -> np.ndarray:
        """Evaluate the nodes ``flat`` (flat indices, repeats allowed) not yet ``known``; returns them."""
        flat = _distinct(flat[~known.reshape(-1)[flat]])
        if len(flat):
            nodes = np.stack(np.unravel_index(flat, values.shape), 1)
            values.reshape(-1)[flat] = evaluate(self.query, self.grid.points(nodes * step), self.batch_size)
            known.reshape(-1)[flat] = True
        self.queries += len(flat)
        return flat

    def grow(self, values: np.ndarray, known: np.ndarray, fresh: np.ndarray, step: int) -> None:
        """Evaluate the corners of every straddling cell reached from the ``fresh`` nodes, until closed."""
        corners = np.ravel_multi_index(tuple(_CORNERS.T), values.shape)  # flat offsets of a cell's corners
        flat_values = values.reshape(-1)
        while len(fresh):
            cells = np.stack(np.unravel_index(fresh, values.shape), 1)[:, None, :] - _CORNERS[None]
            cells = cells[((cells >= 0) & (cells <= values.shape[0] - 2)).all(2)]
            cells = np.ravel_multi_index(tuple(cells.T), values.shape)  # repeats allowed
            above = flat_values[cells[:, None] + corners[None]] > self.level
            straddling = cells[above.any(1) & ~above.all(1)]
            fresh = self.evaluate(values, known, (straddling[:, None] + corners[None]).reshape(-1), step)


def sparse_field(
    query: QueryFn,
    grid: Grid,
    level: float = 0.5,
    coarse_cells: int = 32,
    batch_size: int = DEFAULT_BATCH,
) -> FieldResult:
    """The grid field, evaluated exactly on the cells that straddle ``level`` and interpolated elsewhere.

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
    band = _Band(query, grid, level, batch_size)
    band.queries = len(nodes)
    while step > 1:
        cells = np.argwhere(_straddling_cells(values, level))
        values = _refine_lattice(values)
        known = np.zeros(values.shape, dtype=bool)
        known[::2, ::2, ::2] = evaluated
        del evaluated
        step //= 2
        block = np.ravel_multi_index(tuple((2 * cells[:, None, :] + _BLOCK[None]).reshape(-1, 3).T), values.shape)
        band.grow(values, known, band.evaluate(values, known, block, step), step)
        evaluated = known
    return FieldResult(np.ascontiguousarray(values[:res, :res, :res]), band.queries)
