"""Implicit field -> triangle mesh: grid evaluation (dense or coarse-to-fine), marching cubes, cleaning.

Everything here is model-agnostic: it takes a batched ``query(points [N, 3]) -> occupancy [N]``.
"""

from human3d.surface.grid import FieldResult, Grid, QueryFn, dense_field
from human3d.surface.mesh import extract_mesh, largest_component
from human3d.surface.sparse import sparse_field

__all__ = ["FieldResult", "Grid", "QueryFn", "dense_field", "sparse_field", "extract_mesh", "largest_component"]
