"""Every stage of the official pipeline, reproduced on the reference sets within their README's tolerances."""

from __future__ import annotations

import numpy as np
import pytest

from human3d.pifuhd.pipeline import pifuhd_grid
from human3d.pifuhd.preprocess import crop, network_inputs, rect_from_keypoints
from human3d.surface import dense_field, extract_mesh, sparse_field


def test_crop_rect_and_inputs_are_exact(reference_run):
    vectors = reference_run.vectors
    rect = rect_from_keypoints(vectors["src_keypoints_selected"])
    assert rect.xywh == tuple(vectors["crop_rect_xywh"])
    inputs = network_inputs(vectors["src_image_rgb"], rect, 1024)
    np.testing.assert_array_equal(inputs.image_512, vectors["input_global_512"])
    np.testing.assert_array_equal(inputs.image_1024, vectors["input_local_1024"])
    assert inputs.crop_rgb.shape[:2] == (rect.xywh[3], rect.xywh[2])
    np.testing.assert_array_equal(crop(vectors["src_image_rgb"], rect), inputs.crop_rgb)


def test_normal_maps(reference_run):
    front, back = reference_run.predictor.normal_maps()
    np.testing.assert_allclose(front, reference_run.vectors["normal_front"][0], rtol=0, atol=1e-4)
    np.testing.assert_allclose(back, reference_run.vectors["normal_back"][0], rtol=0, atol=1e-4)
    assert front.dtype == np.float32 and front.shape == (3, 512, 512)


@pytest.mark.parametrize("points_key, prefix", [("points", ""), ("points_edge", "edge_")])
def test_coarse_and_fine_occupancy(reference_run, points_key, prefix):
    vectors = reference_run.vectors
    result = reference_run.predictor.query(vectors[points_key][0].T)
    np.testing.assert_allclose(result["fine"], vectors[f"{prefix}pred_fine"][0, 0], rtol=0, atol=1e-5)
    np.testing.assert_allclose(result["coarse"], vectors[f"{prefix}pred_coarse"][0, 0], rtol=0, atol=1e-5)
    if not prefix:
        np.testing.assert_allclose(result["phi"], vectors["phi_coarse"][0].T, rtol=1e-5, atol=1e-3)
    else:
        outside_xy = (np.abs(vectors[points_key][0, :2]) > 1).any(0)
        assert outside_xy.any() and (result["fine"][outside_xy] == 0).all()


def test_fine_normals_at_points(reference_run):
    vectors = reference_run.vectors
    ours = reference_run.predictor.surface_normals(vectors["points"][0].T)
    cosine = (ours * vectors["normal_fine_at_points"][0].T).sum(1)
    assert (cosine >= 0.999).mean() >= 0.99
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


@pytest.fixture(scope="session")
def dense_run(reference_run):
    grid = pifuhd_grid(int(reference_run.vectors["mesh_resolution"]))
    return grid, dense_field(reference_run.predictor.occupancy, grid)


def test_dense_mesh_equals_official_dense_mesh(reference_run, dense_run):
    vectors = reference_run.vectors
    grid, field = dense_run
    assert field.queries == grid.resolution**3
    vertices, faces = extract_mesh(field.values, grid, float(vectors["mesh_level"]))
    official_faces_as_written = vectors["mesh_dense_faces"][:, [0, 2, 1]]  # the official .obj order (outward)
    np.testing.assert_array_equal(faces, official_faces_as_written)
    np.testing.assert_allclose(vertices, vectors["mesh_dense_vertices"], rtol=0, atol=1e-4)


def test_fast_extraction_equals_dense_with_fewer_queries(reference_run, dense_run):
    grid, dense = dense_run
    fast = sparse_field(reference_run.predictor.occupancy, grid)
    assert fast.queries * 3 < dense.queries
    assert np.array_equal(fast.values > 0.5, dense.values > 0.5)
    dense_mesh = extract_mesh(dense.values, grid)
    fast_mesh = extract_mesh(fast.values, grid)
    np.testing.assert_array_equal(fast_mesh[1], dense_mesh[1])
    np.testing.assert_allclose(fast_mesh[0], dense_mesh[0], rtol=0, atol=1e-6)


def test_vertex_normal_colours_match_official(reference_run):
    """Official vertex colours are 0.5 * fine normal + 0.5 (its last vertex is a chunking artefact)."""
    vectors = reference_run.vectors
    vertices = vectors["mesh_vertices"][:-1].astype(np.float32)
    sample = np.arange(0, len(vertices), 7)
    ours = reference_run.predictor.surface_normals(vertices[sample])
    theirs = 2.0 * vectors["mesh_vertex_colors"][:-1][sample] - 1.0
    theirs /= np.linalg.norm(theirs, axis=1, keepdims=True)
    cosine = (ours * theirs).sum(1)
    assert (cosine >= 0.999).mean() >= 0.99
