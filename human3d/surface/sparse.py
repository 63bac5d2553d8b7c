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
    """Lattice with half the step: old nodes kept, new nodes trilinearly interpolated."""
    n = values.shape[0]
    fine = np.empty((2 * n - 1,) * 3, dtype=values.dtype)
    fine[::2, ::2, ::2] = values
    fine[1::2, ::2, ::2] = 0.5 * (fine[:-1:2, ::2, ::2] + fine[2::2, ::2, ::2])
    fine[:, 1::2, ::2] = 0.5 * (fine[:, :-1:2, ::2] + fine[:, 2::2, ::2])
    fine[:, :, 1::2] = 0.5 * (fine[:, :, :-1:2] + fine[:, :, 2::2])
    return fine


def _unique_rows(indices: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The distinct rows of integer node or cell indices [N, 3] within ``shape``."""
    flat = np.unique(np.ravel_multi_index(tuple(indices.T), shape))
    return np.stack(np.unravel_index(flat, shape), 1)


def _straddle(values: np.ndarray, cells: np.ndarray, level: float) -> np.ndarray:
    """Which of the ``cells`` [M, 3] (lowest corner) have corners on both sides of ``level``."""
    above = np.stack([values[tuple((cells + offset).T)] > level for offset in _CORNERS], 1)
    return above.any(1) & ~above.all(1)


class _Band:
    """The lattice of one step, which of its nodes are evaluated, and the evaluation of more nodes."""

    def __init__(self, query: QueryFn, grid: Grid, level: float, batch_size: int) -> None:
        self.query, self.grid, self.level, self.batch_size = query, grid, level, batch_size
        self.queries = 0

    def evaluate(self, values: np.ndarray, known: np.ndarray, nodes: np.ndarray, step: int) -> np.ndarray:
        """Evaluate the ``nodes`` not yet ``known`` (written into ``values``); returns them."""
        nodes = nodes[~known[tuple(nodes.T)]]
        if len(nodes):
            values[tuple(nodes.T)] = evaluate(self.query, self.grid.points(nodes * step), self.batch_size)
            known[tuple(nodes.T)] = True
        self.queries += len(nodes)
        return nodes

    def grow(self, values: np.ndarray, known: np.ndarray, fresh: np.ndarray, step: int) -> None:
        """Evaluate the corners of every straddling cell reached from the ``fresh`` nodes, until closed."""
        last_cell = np.array(values.shape) - 2
        while len(fresh):
            cells = (fresh[:, None, :] - _CORNERS[None]).reshape(-1, 3)
            cells = cells[((cells >= 0) & (cells <= last_cell)).all(1)]
            cells = _unique_rows(cells, values.shape)
            cells = cells[_straddle(values, cells, self.level)]
            corners = _unique_rows((cells[:, None, :] + _CORNERS[None]).reshape(-1, 3), values.shape)
            fresh = self.evaluate(values, known, corners, step)


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
        block = _unique_rows((2 * cells[:, None, :] + _BLOCK[None]).reshape(-1, 3), values.shape)
        band.grow(values, known, band.evaluate(values, known, block, step), step)
        evaluated = known
    return FieldResult(np.ascontiguousarray(values[:res, :res, :res]), band.queries)
