"""Surface geodesics: bounds against straight lines, flat and spherical references, symmetry, part sizes."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from human3d.eval.geodesic import (
    GPS_COARSE_OF_FINE,
    SMPL_MEAN_GEODESIC,
    SurfaceGeodesics,
    mean_part_distances,
    reference_body_geodesics,
)

MEAN_DISTANCE_UNIT_SQUARE = (2 + np.sqrt(2) + 5 * np.log(1 + np.sqrt(2))) / 15  # 0.5214: two uniform points


def flat_grid(cells: int, size: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """A flat square of side ``size`` in z = 0, cut into cells x cells squares of two triangles."""
    xs, ys = np.meshgrid(np.linspace(0, size, cells + 1), np.linspace(0, size, cells + 1))
    vertices = np.stack([xs.ravel(), ys.ravel(), np.zeros(xs.size)], axis=1)
    index = np.arange((cells + 1) ** 2).reshape(cells + 1, cells + 1)
    a, b, c, d = index[:-1, :-1].ravel(), index[:-1, 1:].ravel(), index[1:, :-1].ravel(), index[1:, 1:].ravel()
    return vertices, np.concatenate([np.stack([a, b, d], 1), np.stack([a, d, c], 1)])


def random_points(geodesics: SurfaceGeodesics, count: int, rng: np.random.Generator):
    return geodesics.points(rng.integers(0, len(geodesics.faces), count), rng.dirichlet([1, 1, 1], count))


@pytest.fixture(scope="module")
def body_geodesics():
    """Geodesics on the reference body (built once per process)."""
    return reference_body_geodesics()


@pytest.fixture(scope="module")
def flat() -> SurfaceGeodesics:
    return SurfaceGeodesics(*flat_grid(24))


def test_flat_patch_is_euclidean_within_a_triangle_and_close_elsewhere(flat: SurfaceGeodesics) -> None:
    rng = np.random.default_rng(0)
    sources, targets = random_points(flat, 400, rng), random_points(flat, 400, rng)
    straight = np.linalg.norm(sources.position - targets.position, axis=1)
    distance = flat.pair_distances(sources, targets)
    assert np.all(distance >= straight - 1e-12)  # never below the straight line
    far = straight > 0.25
    assert np.mean(distance[far] / straight[far]) < 1.06  # the documented graph approximation
    assert np.max(distance[far] / straight[far]) < 1.15

    same_face = flat.points(sources.face, rng.dirichlet([1, 1, 1], 400))
    np.testing.assert_allclose(flat.pair_distances(sources, same_face),
                               np.linalg.norm(sources.position - same_face.position, axis=1), rtol=0, atol=1e-12)


def test_sphere_distances_follow_great_circles() -> None:
    sphere = trimesh.creation.icosphere(subdivisions=4, radius=1.0)
    geodesics = SurfaceGeodesics(sphere.vertices, sphere.faces)
    rng = np.random.default_rng(1)
    sources, targets = random_points(geodesics, 300, rng), random_points(geodesics, 300, rng)
    distance = geodesics.pair_distances(sources, targets)
    chord = np.linalg.norm(sources.position - targets.position, axis=1)
    on_sphere = [p / np.linalg.norm(p, axis=1, keepdims=True) for p in (sources.position, targets.position)]
    great_circle = np.arccos(np.clip(np.einsum("nd,nd->n", *on_sphere), -1, 1))
    assert np.all(distance >= chord - 1e-12)
    far = great_circle > 0.5
    ratio = distance[far] / great_circle[far]
    assert 0.99 < ratio.mean() < 1.04 and ratio.max() < 1.1


def test_distances_are_symmetric_and_zero_on_the_diagonal(flat: SurfaceGeodesics) -> None:
    sphere = trimesh.creation.icosphere(subdivisions=3, radius=0.5)
    for geodesics in (flat, SurfaceGeodesics(sphere.vertices, sphere.faces)):
        rng = np.random.default_rng(2)
        p, q = random_points(geodesics, 200, rng), random_points(geodesics, 200, rng)
        forward, backward = geodesics.pair_distances(p, q), geodesics.pair_distances(q, p)
        edge = np.linalg.norm(np.diff(geodesics.vertices[geodesics.faces[:, :2]], axis=1), axis=2).mean()
        # symmetric up to the last-triangle step, which only the target's side takes: under an edge length
        assert np.max(np.abs(forward - backward)) < 0.6 * edge
        assert np.median(np.abs(forward - backward)) < 0.1 * edge
        assert np.all(geodesics.pair_distances(p, p) == 0.0)


def test_limit_leaves_near_distances_unchanged(flat: SurfaceGeodesics) -> None:
    rng = np.random.default_rng(3)
    p, q = random_points(flat, 100, rng), random_points(flat, 100, rng)
    full, limited = flat.pair_distances(p, q), flat.pair_distances(p, q, limit=0.5)
    near = full < 0.45
    np.testing.assert_array_equal(limited[near], full[near])
    assert np.all(limited[full > 0.75] == np.inf)


def test_mean_part_distance_of_a_flat_square_matches_the_closed_form() -> None:
    side = 0.4
    vertices, faces = flat_grid(30, side)
    means = mean_part_distances(SurfaceGeodesics(vertices, faces), np.ones(len(vertices), int), np.array([0, 1]))
    assert means[1] / (MEAN_DISTANCE_UNIT_SQUARE * side) == pytest.approx(1.0, abs=0.08)
    assert means[1] > MEAN_DISTANCE_UNIT_SQUARE * side  # graph paths are never shorter


def test_our_body_part_sizes_are_close_to_smpls(body_geodesics) -> None:
    """kappa measured on our body (one segment per side, averaged) lands near SMPL's published values."""
    ours = body_geodesics.mean_part_distances()
    assert ours.shape == SMPL_MEAN_GEODESIC.shape
    ratio = ours[1:] / SMPL_MEAN_GEODESIC[1:]
    assert np.all((ratio > 0.7) & (ratio < 1.3)), ratio
    assert ours[1] == ours[1:].max()  # the torso is the largest part, as on SMPL
    assert GPS_COARSE_OF_FINE[[3, 4, 23, 24]].tolist() == [2, 2, 8, 8]


def test_body_chart_points_round_trip(body_geodesics) -> None:
    from human3d.body.charts import surface_to_iuv

    body, surface = body_geodesics.body, body_geodesics.surface
    rng = np.random.default_rng(4)
    face = rng.integers(0, len(body.faces), 50)
    barycentric = rng.dirichlet([2, 2, 2], 50)
    I, U, V = surface_to_iuv(body, face, barycentric)
    points = body_geodesics.chart_points(I, U, V)
    original = surface.points(face, barycentric)
    assert np.max(surface.pair_distances(original, points)) < 2e-3  # metres; chart coordinates are float32
