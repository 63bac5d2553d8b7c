"""The mask term: distance maps, their bilinear lookup, and skin points spread over the body."""

from __future__ import annotations

import numpy as np
import torch

from human3d.fit.silhouette import mask_maps, outline_vertices, outside_cost, outside_distance, sample_maps


def test_the_distance_map_is_zero_inside_and_grows_outside():
    mask = np.zeros((20, 30), dtype=bool)
    mask[5:10, 10:20] = True
    distance = outside_distance(mask, scale=5.0)
    assert distance[5:10, 10:20].max() == 0.0
    assert distance[7, 25] == 6.0 / 5.0 and distance[0, 15] == 5.0 / 5.0
    assert not outside_distance(np.zeros((4, 4), dtype=bool), 1.0).any()  # no mask, no term


def test_bilinear_lookup_is_exact_on_a_ramp_and_differentiable():
    ramp = torch.arange(8.0)[None, None].expand(2, 6, 8) * torch.tensor([1.0, 2.0])[:, None, None]
    pixels = torch.tensor([[[3.25 + 0.5, 2.5]], [[1.5 + 0.5, 4.0]]], requires_grad=True)  # pixel i's centre: i + 0.5
    values = sample_maps(ramp.contiguous(), torch.tensor([0, 1]), pixels)
    assert torch.allclose(values, torch.tensor([[3.25], [3.0]]))
    values.sum().backward()
    assert torch.allclose(pixels.grad[..., 0], torch.tensor([[1.0], [2.0]]))


def test_points_inside_the_mask_or_outside_the_image_cost_nothing():
    mask = np.zeros((100, 200), dtype=bool)
    mask[20:80, 50:90] = True
    maps = mask_maps([mask], [np.array([50.0, 20.0, 90.0, 80.0])])
    pixels = torch.tensor([[[70.0, 50.0], [100.0, 50.0], [150.0, 50.0], [250.0, 50.0]]])
    cost, seen = outside_cost(maps, torch.tensor([0]), pixels)
    assert cost[0, 0] == 0.0 and abs(float(cost[0, 1]) - 10.5 / 60.0) < 1e-6  # in box heights
    assert float(cost[0, 2]) >= 20.0 / 60.0  # beyond the window (the box grown by half): its border's value
    assert seen.tolist() == [[True, True, True, False]]


def test_outline_points_spread_over_the_body():
    rng = np.random.default_rng(0)
    template = rng.normal(size=(500, 3))
    chosen = outline_vertices(template, np.arange(500), 12)
    assert len(set(chosen.tolist())) == 12
    spread = np.linalg.norm(template[chosen][:, None] - template[chosen][None], axis=-1) + np.eye(12) * 99
    assert spread.min() > np.median(np.linalg.norm(template[:, None] - template[None], axis=-1)) * 0.3
