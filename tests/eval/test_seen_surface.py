"""Which ground-truth points a sample's camera sees: an analytic sphere, and a written sample."""

from __future__ import annotations

import numpy as np

from human3d.eval.seen_surface import seen_by_camera, seen_in_sample
from human3d.geometry.cameras import orthographic

SIZE = 256
RADIUS = 0.5


def sphere_and_its_front_depth():
    """An orthographic camera looking along -z at a sphere at the origin, and the sphere's front depth map."""
    camera = orthographic(np.zeros(3), 1.0, SIZE, SIZE)
    centres = (np.arange(SIZE) + 0.5) / SIZE * 2.0 - 1.0  # pixel centres, x right and y down the rows
    x, y = np.meshgrid(centres, -centres)
    height = RADIUS ** 2 - x ** 2 - y ** 2
    centre_depth = camera.to_pixels(np.zeros((1, 3)))[0, 2]
    depth = np.where(height > 0, centre_depth - np.sqrt(np.maximum(height, 0.0)), 0.0).astype(np.float32)
    return camera, depth


def test_the_half_of_a_sphere_facing_the_camera_is_seen_and_the_far_half_is_not():
    camera, depth = sphere_and_its_front_depth()
    rng = np.random.default_rng(0)
    points = rng.normal(size=(4000, 3))
    points = RADIUS * points / np.linalg.norm(points, axis=1, keepdims=True)
    seen = seen_by_camera(points, camera, depth)
    facing = points[:, 2] / RADIUS  # the cosine between the surface normal and the direction to the camera
    assert seen[facing > 0.5].all()  # steeper, a pixel (8 mm here) spans more than the 1 cm tolerance
    assert not seen[facing < 0.0].any()
    assert 0.4 < seen.mean() < 0.5  # the grazing band near the outline is lost (measured 0.42)
    # a point off the image, or over no surface, is not seen
    assert not seen_by_camera(np.array([[3.0, 0.0, 0.0], [0.9, 0.9, 0.0]]), camera, depth).any()


def test_a_sample_without_a_front_depth_map_has_no_answer(tmp_path):
    assert seen_in_sample(tmp_path, np.zeros((2, 3))) is None
