"""Chamfer, P2S and normal consistency against analytic values."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from human3d.eval.mesh_metrics import (
    BACKGROUND_NORMAL,
    normal_consistency,
    normal_images,
    point_to_surface,
    surface_distances,
)


def faceted(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """The same mesh with every triangle on its own vertices (its vertex normals are face normals)."""
    mesh = mesh.copy()
    mesh.unmerge_vertices()
    return mesh


def test_concentric_spheres_are_their_radius_difference_apart():
    inner, outer = trimesh.creation.icosphere(5, 1.0), trimesh.creation.icosphere(5, 1.25)
    distances = surface_distances(outer, inner)
    chamfer, p2s = distances.chamfer, distances.p2s
    # icosphere(5) facets lie at most 1 - cos(edge/2) ~ 1e-3 inside the sphere
    assert p2s == pytest.approx(0.25, abs=2e-3) and chamfer == pytest.approx(0.25, abs=2e-3)


def test_identical_meshes_score_zero():
    mesh = trimesh.creation.icosphere(4, 0.6)
    distances = surface_distances(mesh, mesh)
    chamfer, p2s = distances.chamfer, distances.p2s
    assert chamfer < 1e-9 and p2s < 1e-9
    assert normal_consistency(mesh, mesh, size=128) == 0.0


def test_parallel_squares_are_their_offset_apart():
    square = trimesh.Trimesh([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], [[0, 1, 2], [0, 2, 3]])
    lifted = square.copy()
    lifted.apply_translation([0.0, 0.0, 0.07])
    distances = surface_distances(lifted, square, samples=500, seed=3)
    chamfer, p2s = distances.chamfer, distances.p2s
    assert chamfer == pytest.approx(0.07, abs=1e-9) and p2s == pytest.approx(0.07, abs=1e-9)


def test_a_quarter_turned_cube_is_the_same_cube():
    cube = faceted(trimesh.creation.box((0.8, 0.8, 0.8)))
    turned = cube.copy()
    turned.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [0, 1, 0]))
    distances = surface_distances(turned, cube)
    chamfer, p2s = distances.chamfer, distances.p2s
    assert chamfer < 1e-9 and p2s < 1e-9
    assert normal_consistency(turned, cube, size=128) == pytest.approx(0.0, abs=1e-6)


def test_p2s_runs_from_the_ground_truth_to_the_prediction():
    sphere = trimesh.creation.icosphere(4, 1.0)
    upper = sphere.copy()
    upper.update_faces(sphere.triangles_center[:, 1] > 0)  # the predicted part: the upper half only
    upper.remove_unreferenced_vertices()
    # A truth point at latitude -phi is 2 sin(phi / 2) from the equator, the nearest predicted point;
    # averaged over the sphere by area: (1/2) * integral of 2 sin(phi/2) cos(phi) dphi = (2/3)(sqrt 2 - 1).
    distances = surface_distances(upper, sphere, samples=8000)
    chamfer, p2s = distances.chamfer, distances.p2s
    assert p2s == pytest.approx(2.0 / 3.0 * (np.sqrt(2.0) - 1.0), abs=0.01)
    assert chamfer == pytest.approx(0.5 * p2s, abs=1e-6)  # the prediction lies on the truth
    assert distances.predicted_to_truth.max() < 1e-6 and distances.truth_to_predicted.shape == (8000,)
    assert (distances.truth_to_predicted[distances.truth_points[:, 1] > 0.05] < 1e-6).all()  # its upper half
    swapped = surface_distances(sphere, upper, samples=8000)  # every truth point lies on the prediction
    assert swapped.p2s < 1e-9 and swapped.chamfer == pytest.approx(0.5 * p2s, abs=0.01)


def test_point_to_surface_matches_brute_force():
    mesh = trimesh.creation.icosphere(2, 1.0)
    points = np.random.default_rng(0).normal(size=(200, 3)) * 0.8
    brute = [
        np.linalg.norm(
            trimesh.triangles.closest_point(mesh.triangles, np.repeat(p[None], len(mesh.faces), 0)) - p, axis=1
        ).min()
        for p in points
    ]
    np.testing.assert_allclose(point_to_surface(points, mesh), brute, atol=1e-9)


def test_a_missing_prediction_costs_twice_the_covered_fraction():
    """Truth: a cube of side 1 in the [-1, 1] view; prediction: the cube moved out of every view.

    Each view then compares one face normal n of the truth with the background vector b on 1/4 of
    its pixels: |n - b|^2 = 2 - 2 n.b, and n.b = -1/sqrt(3) (front, right) or +1/sqrt(3) (back,
    left), so the mean over the four views is (1/4) * 2 = 0.5.
    """
    cube = faceted(trimesh.creation.box((1.0, 1.0, 1.0)))
    gone = cube.copy()
    gone.apply_translation([0.0, 10.0, 0.0])
    assert normal_consistency(gone, cube, size=256) == pytest.approx(0.5, rel=0.01)


def test_normal_images_show_the_faces_in_the_mesh_frame():
    cube = faceted(trimesh.creation.box((1.0, 1.0, 1.0)))
    images = normal_images(cube, size=64)
    expected_centres = [[0, 0, 1], [1, 0, 0], [0, 0, -1], [-1, 0, 0]]  # views 0, 90, 180, 270 degrees
    np.testing.assert_allclose(images[:, 32, 32], expected_centres, atol=1e-5)
    np.testing.assert_allclose(images[:, 2, 2], np.repeat(BACKGROUND_NORMAL[None], 4, 0))
