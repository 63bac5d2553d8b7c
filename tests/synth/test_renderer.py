"""The OpenGL maps on primitives whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from human3d.geometry import cameras
from human3d.synth.renderer import (
    PHOTO_PATTERN,
    Lighting,
    Material,
    Renderer,
    Surface,
    back_normals_as_seen_from_behind,
    shared_renderer,
)

PLAIN = Material((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))


def _surface(mesh: trimesh.Trimesh, part: int = 7, uv=(0.25, 0.75), instance: int = 1) -> Surface:
    faces = len(mesh.faces)
    return Surface(
        vertices=np.asarray(mesh.vertices, dtype=np.float32),
        faces=np.asarray(mesh.faces, dtype=np.int32),
        face_parts=np.full(faces, part, dtype=np.uint8),
        corner_uv=np.broadcast_to(np.asarray(uv, dtype=np.float32), (faces, 3, 2)).copy(),
        material=PLAIN,
        instance=instance,
        label=3,
    )


def test_sphere_maps_match_geometry():
    radius, size = 0.5, 128
    sphere = trimesh.creation.icosphere(subdivisions=5, radius=radius)
    camera = cameras.orthographic([0, 0, 0], 1.0, size, size)  # 2 m across 128 px
    maps = shared_renderer().render([_surface(sphere)], camera)
    pixel = 2.0 / size
    assert maps.mask.sum() == pytest.approx(np.pi * (radius / pixel) ** 2, rel=0.01)
    centre = size // 2
    # The camera sits 5 m from the target: front at 5 - r, back at 5 + r.
    assert maps.depth_front[centre, centre] == pytest.approx(5.0 - radius, abs=2e-3)
    assert maps.depth_back[centre, centre] == pytest.approx(5.0 + radius, abs=2e-3)
    np.testing.assert_allclose(maps.normal_front[centre, centre], [0, 0, 1], atol=0.03)
    np.testing.assert_allclose(maps.normal_back[centre, centre], [0, 0, -1], atol=0.03)
    # Front depth of a sphere: 5 - sqrt(r^2 - x^2 - y^2) at every pixel centre inside.
    rows, cols = np.nonzero(maps.mask)
    x = (cols + 0.5) * pixel - 1.0
    y = 1.0 - (rows + 0.5) * pixel
    inner = x**2 + y**2 < (0.9 * radius) ** 2
    expected = 5.0 - np.sqrt(radius**2 - x**2 - y**2)
    np.testing.assert_allclose(maps.depth_front[rows, cols][inner], expected[inner], atol=3e-3)
    assert (maps.iuv[maps.mask] == np.array([7, 0.25, 0.75], dtype=np.float32)).all()
    assert (maps.iuv[~maps.mask] == 0).all()
    assert set(np.unique(maps.instance)) == {0, 1} and set(np.unique(maps.label)) == {0, 3}


@pytest.mark.parametrize("kind", ["orthographic", "perspective"])
def test_camera_projection_matches_the_rasteriser(kind):
    box = trimesh.creation.box(extents=[0.6, 1.2, 0.4])
    box.apply_translation([0.1, 0.2, -0.1])
    size = 160
    if kind == "orthographic":
        camera = cameras.orthographic([0, 0, 0], 1.0, size, size, yaw=0.5, pitch=0.2)
    else:
        camera = cameras.perspective([0, 0, 0], 50.0, 3.0, size, size, yaw=0.5, pitch=0.2)
    maps = shared_renderer().render([_surface(box)], camera)
    projected = camera.to_pixels(box.vertices)
    rows, cols = np.nonzero(maps.mask)
    assert cols.min() == pytest.approx(projected[:, 0].min(), abs=1.0)
    assert cols.max() + 1 == pytest.approx(projected[:, 0].max(), abs=1.0)
    assert rows.min() == pytest.approx(projected[:, 1].min(), abs=1.0)
    assert rows.max() + 1 == pytest.approx(projected[:, 1].max(), abs=1.0)
    # Depth of the nearest corner = the smallest front depth.
    assert maps.depth_front[maps.mask].min() == pytest.approx(projected[:, 2].min(), abs=0.02)


def test_nearer_instance_occludes_and_back_sees_the_far_side():
    near = trimesh.creation.box(extents=[0.4, 0.4, 0.4])
    near.apply_translation([0, 0, 0.5])
    far = trimesh.creation.box(extents=[1.0, 1.0, 0.2])
    camera = cameras.orthographic([0, 0, 0], 1.0, 100, 100)
    maps = shared_renderer().render([_surface(far, part=1, instance=2), _surface(near, part=2, instance=1)], camera)
    assert maps.instance[50, 50] == 1 and maps.iuv[50, 50, 0] == 2
    assert maps.instance[50, 30] == 2 and maps.iuv[50, 30, 0] == 1
    # Centre pixel: front = near box's front face (5 - 0.7), back = far box's back face (5 + 0.1).
    assert maps.depth_front[50, 50] == pytest.approx(4.3, abs=1e-3)
    assert maps.depth_back[50, 50] == pytest.approx(5.1, abs=1e-3)


def test_back_normals_equal_a_camera_turned_around_mirrored():
    ellipsoid = trimesh.creation.icosphere(subdivisions=4)
    ellipsoid.apply_scale([0.3, 0.5, 0.2])
    ellipsoid.apply_translation([0.2, 0.1, 0.05])
    surface = _surface(ellipsoid)
    front = shared_renderer().render([surface], cameras.orthographic([0, 0, 0], 1.0, 128, 128))
    behind = shared_renderer().render([surface], cameras.orthographic([0, 0, 0], 1.0, 128, 128, yaw=np.pi))
    mirrored = behind.normal_front[:, ::-1]
    both = front.mask & behind.mask[:, ::-1]
    assert both.sum() > 0.95 * front.mask.sum()
    difference = np.linalg.norm(back_normals_as_seen_from_behind(front.normal_back)[both] - mirrored[both], axis=1)
    assert np.median(difference) < 0.01 and np.quantile(difference, 0.98) < 0.1


def test_a_photo_print_shows_the_photo_on_a_surface_facing_the_camera():
    renderer = Renderer()
    left_red = np.zeros((64, 64, 3), np.float32)
    left_red[:, :32, 0] = 1.0
    left_red[:, 32:, 2] = 1.0
    renderer.set_photos([np.full((8, 8, 3), 0.5, np.float32), left_red])
    # a 1 m square in the z = 0 plane; a frequency of 1 shows the photo once across it
    square = trimesh.Trimesh([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], [[0, 1, 2], [0, 2, 3]])
    surface = _surface(square)
    surface.material = Material((1.0, 1.0, 1.0), (1.0, 1.0, 1.0), pattern=PHOTO_PATTERN + 1, frequency=1.0)
    light = Lighting(ambient=(1.0, 1.0, 1.0), color=(0.0, 0.0, 0.0))
    maps = renderer.render([surface], cameras.orthographic([0.5, 0.5, 0], 0.5, 64, 64), light)
    assert maps.mask.all()
    red, blue = maps.rgb[8:56, 4:28], maps.rgb[8:56, 36:60]  # the photo's halves, away from the seam
    np.testing.assert_allclose(red.mean(axis=(0, 1)), [1, 0, 0], atol=0.02)
    np.testing.assert_allclose(blue.mean(axis=(0, 1)), [0, 0, 1], atol=0.02)
    surface.material = Material((1.0, 1.0, 1.0), (1.0, 1.0, 1.0), pattern=PHOTO_PATTERN + 2)
    with pytest.raises(ValueError, match="prints photo 2, but the renderer has 2"):
        renderer.render([surface], cameras.orthographic([0.5, 0.5, 0], 0.5, 64, 64), light)
