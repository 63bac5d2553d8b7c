"""Dense and narrow-band grid evaluation, marching cubes orientation, component filtering."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from human3d.pifuhd.pipeline import pifuhd_grid
from human3d.surface import Grid, dense_field, extract_mesh, largest_component, sparse_field


def blobs(points: np.ndarray) -> np.ndarray:
    """Occupancy of a body-like field: a big ellipsoid, a thin slab (arm) and a small separate ball."""
    x, y, z = points.T.astype(np.float64)
    body = 0.6 - np.sqrt((x / 0.5) ** 2 + (y / 0.8) ** 2 + (z / 0.3) ** 2) * 0.6
    arm = 0.035 - np.maximum(np.abs(z - 0.05), np.maximum(np.abs(y - 0.3) - 0.03, np.abs(x - 0.7) - 0.25))
    ball = 0.08 - np.sqrt((x + 0.75) ** 2 + (y + 0.75) ** 2 + (z - 0.5) ** 2)
    return (1.0 / (1.0 + np.exp(-40.0 * np.maximum(np.maximum(body, arm), ball)))).astype(np.float32)


class Counter:
    def __init__(self, function):
        self.function, self.points = function, 0

    def __call__(self, points):
        self.points += len(points)
        return self.function(points)


def box_grid(resolution: int) -> Grid:
    transform = np.diag([2.2 / (resolution - 1)] * 3 + [1.0])
    transform[:3, 3] = -1.1
    return Grid(resolution, transform)


@pytest.mark.parametrize(
    "grid", [pifuhd_grid(96), box_grid(129), pifuhd_grid(100)], ids=["pifuhd96", "box129", "odd100"]
)
def test_sparse_field_gives_the_dense_mesh_with_fewer_queries(grid):
    dense = dense_field(blobs, grid, batch_size=70_000)
    counter = Counter(blobs)
    fast = sparse_field(counter, grid, batch_size=10_000)
    assert counter.points == fast.queries < dense.queries / 3
    assert np.array_equal(fast.values > 0.5, dense.values > 0.5)
    dense_vertices, dense_faces = extract_mesh(dense.values, grid)
    fast_vertices, fast_faces = extract_mesh(fast.values, grid)
    np.testing.assert_array_equal(fast_faces, dense_faces)
    np.testing.assert_allclose(fast_vertices, dense_vertices, atol=1e-6)


def ball_and_rod(points: np.ndarray) -> np.ndarray:
    """A ball and a rod thinner than the coarse lattice's step, running between its nodes far out of the ball."""
    x, y, z = points.T.astype(np.float64)
    ball = 0.4 - np.sqrt(x**2 + y**2 + z**2)
    rod = np.minimum(0.02 - np.sqrt((y - 0.034) ** 2 + (z - 0.034) ** 2), 0.95 - np.abs(x - 0.45) - 0.45)
    return (1.0 / (1.0 + np.exp(-40.0 * np.maximum(ball, rod)))).astype(np.float32)


def test_the_band_follows_a_thin_rod_that_the_coarse_lattice_misses():
    grid = box_grid(129)  # coarse step 4 nodes = 0.069: no coarse node lies inside the rod
    coarse = np.arange(0, 129, 4)
    coarse_points = grid.points(np.stack(np.meshgrid(coarse, coarse, coarse), -1).reshape(-1, 3))
    assert (ball_and_rod(coarse_points[coarse_points[:, 0] > 0.5]) < 0.5).all()
    dense = dense_field(ball_and_rod, grid)
    fast = sparse_field(ball_and_rod, grid)
    assert fast.queries < dense.queries / 10
    dense_vertices, dense_faces = extract_mesh(dense.values, grid)
    fast_vertices, fast_faces = extract_mesh(fast.values, grid)
    assert dense_vertices[:, 0].max() > 0.9  # the rod reaches x = 0.95, far outside the ball
    np.testing.assert_array_equal(fast_faces, dense_faces)
    np.testing.assert_allclose(fast_vertices, dense_vertices, atol=1e-6)


@pytest.mark.parametrize("grid", [pifuhd_grid(48), box_grid(48)], ids=["mirrored", "plain"])
def test_marching_cubes_faces_point_outward(grid):
    vertices, faces = extract_mesh(dense_field(blobs, grid).values, grid)
    mesh = trimesh.Trimesh(vertices, faces, process=False)
    assert mesh.volume > 0  # positive signed volume = outward-oriented faces
    centre_faces = mesh.triangles_center
    outward = (mesh.face_normals * (centre_faces - [0.0, 0.0, 0.0])).sum(1)
    body = np.linalg.norm(centre_faces[:, :2], axis=1) < 0.3
    assert (outward[body] > 0).mean() > 0.95


def test_largest_component_drops_the_floater():
    grid = box_grid(64)
    vertices, faces = extract_mesh(dense_field(blobs, grid).values, grid)
    kept, kept_faces = largest_component(vertices, faces)
    assert 0 < len(kept_faces) < len(faces)
    remaining = vertices[kept]
    assert remaining[:, 0].min() > -0.6  # the ball at x = -0.75 is gone
    assert kept_faces.max() == len(kept) - 1
    assert len(trimesh.Trimesh(remaining, kept_faces, process=False).split(only_watertight=False)) == 1


def test_field_without_surface_gives_an_empty_mesh():
    grid = box_grid(16)
    empty = dense_field(lambda p: np.zeros(len(p), np.float32), grid)
    vertices, faces = extract_mesh(empty.values, grid)
    assert vertices.shape == (0, 3) and faces.shape == (0, 3)
    assert (
        sparse_field(lambda p: np.zeros(len(p), np.float32), box_grid(128)).queries == 33**3
    )  # the first lattice only
