"""The fast surface path (folded MLP, surface-tracking band) against the float32 dense evaluation."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from scipy.spatial import cKDTree

from human3d.pifuhd.folded import FoldedOccupancy, can_fold
from human3d.pifuhd.model import PifuhdNet
from human3d.pifuhd.options import CoarseConfig, FineConfig, GeneratorConfig, PifuhdConfig
from human3d.pifuhd.pipeline import pifuhd_grid
from human3d.pifuhd.predictor import PifuhdPredictor
from human3d.surface import dense_field, extract_mesh, sparse_field

# Skip layers on both sides of phi (merge layer 1), a depth scale other than the released one.
SMALL = PifuhdConfig(
    coarse=CoarseConfig(
        use_front_normal=True, use_back_normal=False, num_stack=1, hg_depth=1, hg_dim=32, norm="group",
        hg_down="ave_pool", mlp_dim=(33, 64, 32, 32, 1), mlp_res_layers=(1, 3), merge_layer=1,
        mlp_norm="none", load_size=64, z_size=100.0,
    ),
    fine=FineConfig(num_stack=1, hg_depth=1, hg_dim=16, norm="group", mlp_dim=(48, 32, 16, 1),
                     mlp_res_layers=(2,), mlp_norm="none", load_size_big=128),
    front_generator=GeneratorConfig(ngf=2, n_downsampling=2, n_blocks=1),
    back_generator=None,
)


def hausdorff_in_voxels(a: np.ndarray, b: np.ndarray, resolution: int) -> float:
    """Largest distance from a vertex of either mesh to the nearest vertex of the other, in voxels."""
    farthest = max(cKDTree(b).query(a)[0].max(), cKDTree(a).query(b)[0].max())
    return float(farthest / (2.0 / resolution))


def random_model(options: PifuhdConfig) -> PifuhdNet:
    torch.manual_seed(5)
    return PifuhdNet(options).eval().requires_grad_(False)


def test_folded_occupancy_equals_the_network_query():
    model = random_model(SMALL)
    assert can_fold(model)
    with torch.inference_mode():
        features = model.encode(torch.rand(1, 3, 64, 64) * 2 - 1, torch.rand(1, 3, 128, 128) * 2 - 1)
        points = torch.rand(1, 3, 3000) * 2.4 - 1.2  # some outside the box, where both give 0
        points[0, :, :4] = torch.tensor([[-1.0, 1.0, 1.0, -1.0], [1.0, -1.0, 1.0, -1.0], [0.0, 0.0, 0.9, -1.0]])
        expected = model.query(features, points)[0]
        got = FoldedOccupancy(model, features)(points)
    torch.testing.assert_close(got, expected, rtol=0, atol=2e-6)
    outside = (points[0, :2].abs() > 1).any(0)
    assert outside.any() and (got[0, 0, outside] == 0).all()


def test_a_checkpoint_with_mlp_norm_uses_the_exact_path():
    options = dataclasses.replace(SMALL, coarse=dataclasses.replace(SMALL.coarse, mlp_norm="group"))
    model = random_model(options)
    assert not can_fold(model)
    with pytest.raises(ValueError, match="cannot be folded"):
        FoldedOccupancy(model, model.encode(torch.zeros(1, 3, 64, 64), torch.zeros(1, 3, 128, 128)))
    predictor = PifuhdPredictor(model)
    predictor.encode(np.zeros((1, 3, 64, 64), np.float32), np.zeros((1, 3, 128, 128), np.float32))
    points = np.random.default_rng(0).uniform(-1, 1, (500, 3)).astype(np.float32)
    np.testing.assert_array_equal(predictor.surface_occupancy(points), predictor.occupancy(points))


def test_fast_mesh_is_within_half_a_voxel_of_the_float32_dense_mesh(reference_run):
    """On the reference checkpoint: folded queries on the narrow band vs exact queries on every node."""
    predictor = reference_run.predictor
    resolution = 96
    grid = pifuhd_grid(resolution)
    dense = dense_field(predictor.occupancy, grid)
    fast = sparse_field(predictor.surface_occupancy, grid)
    assert fast.queries * 4 < dense.queries
    dense_vertices, dense_faces = extract_mesh(dense.values, grid)
    fast_vertices, fast_faces = extract_mesh(fast.values, grid)
    assert len(dense_faces) > 1000
    assert hausdorff_in_voxels(fast_vertices, dense_vertices, resolution) <= 0.5
    assert abs(len(fast_faces) - len(dense_faces)) <= len(dense_faces) // 1000
