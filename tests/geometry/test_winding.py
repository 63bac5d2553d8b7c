"""Inside/outside by winding numbers: exact on primitives."""

from __future__ import annotations

import numpy as np
import trimesh

from human3d.geometry.winding import WindingNumber, occupancy


def test_box_winding_numbers_are_one_inside_zero_outside():
    box = trimesh.creation.box(extents=[1.0, 2.0, 0.5])
    rng = np.random.default_rng(0)
    points = rng.uniform(-1.5, 1.5, (5000, 3))
    half = np.array([0.5, 1.0, 0.25])
    gap = np.abs(np.abs(points) - half).min(axis=1)
    points = points[gap > 1e-3]
    inside = (np.abs(points) < half).all(axis=1)
    winding = WindingNumber(box.vertices, box.faces)(points)
    np.testing.assert_allclose(winding[inside], 1.0, atol=0.02)
    np.testing.assert_allclose(winding[~inside], 0.0, atol=0.02)
    assert (occupancy(box.vertices, box.faces, points) == inside).all()


def test_sphere_matches_radius_and_union_of_overlapping_shells():
    sphere = trimesh.creation.icosphere(subdivisions=4, radius=0.5)
    other = sphere.copy()
    other.apply_translation([0.6, 0, 0])
    union = trimesh.util.concatenate([sphere, other])  # two closed shells, overlapping
    rng = np.random.default_rng(1)
    points = rng.uniform(-1.0, 1.6, (20000, 3))
    r1 = np.linalg.norm(points, axis=1)
    r2 = np.linalg.norm(points - [0.6, 0, 0], axis=1)
    clear = (np.abs(r1 - 0.5) > 0.01) & (np.abs(r2 - 0.5) > 0.01)
    expected = (r1 < 0.5) | (r2 < 0.5)
    got = occupancy(union.vertices, union.faces, points)
    assert (got[clear] == expected[clear]).all()
    assert ((r1 < 0.5) & (r2 < 0.5) & clear).sum() > 50  # the overlap (winding 2) was exercised
