"""PIFu's point sampling: counts, balance, labels, spread, determinism."""

from __future__ import annotations

import numpy as np
import trimesh

from human3d.geometry.sampling import sample_surface, sample_training_points


def test_surface_samples_lie_on_the_mesh():
    box = trimesh.creation.box(extents=[1.0, 2.0, 0.5])
    points = sample_surface(box.vertices, box.faces, 2000, np.random.default_rng(0))
    half = np.array([0.5, 1.0, 0.25])
    assert np.abs(np.abs(points) - half).min(axis=1).max() < 1e-9
    # Area-weighted: the two 1 x 2 faces hold 2 / (2 + 1 + 0.5) of the area.
    on_big = np.isclose(np.abs(points[:, 2]), 0.25)
    assert abs(on_big.mean() - 2 / 3.5) < 0.04


def test_training_points_are_balanced_labelled_and_deterministic():
    sphere = trimesh.creation.icosphere(subdivisions=4, radius=0.5)
    args = (sphere.vertices, sphere.faces, 2000)
    points, inside = sample_training_points(*args, np.random.default_rng(7), sigma=0.03, inside_fraction=0.5)
    assert points.shape == (2000, 3) and points.dtype == np.float32 and inside.sum() == 1000
    radius = np.linalg.norm(points, axis=1)
    clear = np.abs(radius - 0.5) > 0.005
    assert (inside[clear] == (radius[clear] < 0.5)).all()
    # Most points come from the surface moved by sigma: within 3 sigma of it.
    assert (np.abs(radius - 0.5) < 3 * 0.03 * np.sqrt(3)).mean() > 0.85
    again, again_inside = sample_training_points(*args, np.random.default_rng(7), sigma=0.03, inside_fraction=0.5)
    assert (again == points).all() and (again_inside == inside).all()
    _, skewed = sample_training_points(*args, np.random.default_rng(8), sigma=0.03, inside_fraction=0.25)
    assert skewed.sum() == 500
