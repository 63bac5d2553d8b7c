"""The distance volume of a closed mesh: signed distances and closest-point normals against a sphere's exact
ones, the clamp at the reach, the grid's extent, the empty mesh refused, and a mouth-like pocket closed."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh
from scipy import ndimage

from human3d.geometry.signed_distance import closed_volume, distance_volume, surface_samples

RADIUS, VOXEL, REACH = 0.5, 1.0 / 64, 0.25


@pytest.fixture(scope="module")
def sphere_volume():
    sphere = trimesh.creation.icosphere(subdivisions=5, radius=RADIUS)
    return distance_volume(sphere.vertices, sphere.faces, VOXEL, REACH)


def _centres(volume) -> np.ndarray:
    shape = volume.values.shape[1:]
    return np.stack(np.meshgrid(*[np.arange(n) for n in shape], indexing="ij"), -1) * volume.voxel + volume.origin


def test_signed_distances_and_normals_match_the_sphere(sphere_volume):
    centres = _centres(sphere_volume)
    radius = np.linalg.norm(centres, axis=-1)
    exact = np.clip(radius - RADIUS, -REACH, REACH)
    signed = sphere_volume.values[0]
    error = np.abs(signed - exact)
    near_surface = error[np.abs(exact) < 2 * VOXEL]
    assert np.percentile(near_surface, 99) < 0.05 * VOXEL and near_surface.max() < 0.5 * VOXEL
    assert error.max() < VOXEL  # farther: the nearest sample-holding voxel's sample
    assert ((signed < 0) == (exact < 0))[np.abs(exact) > VOXEL].all()
    near = (np.abs(exact) < REACH / 2) & (radius > 0.1)
    normals = np.moveaxis(sphere_volume.values[1:], 0, -1)[near] / (1 - np.abs(signed[near]) / REACH)[:, None]
    radial = centres[near] / radius[near, None]
    assert np.einsum("nd,nd->n", normals, radial).min() > 0.99


def test_the_grid_spans_the_reach_and_is_clamped_there(sphere_volume):
    np.testing.assert_allclose(sphere_volume.origin, -RADIUS - REACH, atol=1e-3)
    assert (sphere_volume.far_corner >= RADIUS + REACH - 1e-9).all()
    corner = sphere_volume.values[:, 0, 0, 0]
    assert corner[0] == pytest.approx(REACH) and np.abs(corner[1:]).max() == 0.0  # no normal at the reach
    # trilinear reads between voxel centres stay within the clamp
    assert np.abs(ndimage.map_coordinates(sphere_volume.values[0], np.full((3, 1), 10.5), order=1)).max() <= REACH


def test_surface_samples_lie_on_the_mesh_with_its_normals():
    box = trimesh.creation.box((1.0, 2.0, 0.5))
    points, normals = surface_samples(box.vertices, box.faces, spacing=0.05)
    assert len(points) >= 2 * (1 * 2 + 1 * 0.5 + 2 * 0.5) / 0.05**2
    half = np.array([0.5, 1.0, 0.25])
    assert (np.abs(points) <= half + 1e-9).all()
    assert np.abs(np.abs(points) - half).min(axis=1).max() < 1e-9  # on a face of the box
    np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-6)


def test_an_empty_mesh_is_refused():
    with pytest.raises(ValueError, match="empty mesh"):
        distance_volume(np.zeros((0, 3)), np.zeros((0, 3), dtype=int), VOXEL, REACH)



@pytest.mark.parametrize("seed", [0, 2])
def test_no_voxel_far_outside_a_posed_body_reads_inside(seed):
    """The nearest surface sample of a point far beyond a hand or a foot can face away from it; the grid's border
    (a reach from the body's box) and every point outside the grid (which reads the border) must still be
    outside, and far from the surface the sign must agree with the winding number."""
    from human3d.body.model import get_body_model
    from human3d.body.poses import sample_body_params
    from human3d.geometry.winding import occupancy

    model = get_body_model()
    body = model.pose(sample_body_params(np.random.default_rng(seed), model=model))
    volume = distance_volume(body.vertices, body.faces, VOXEL, REACH)
    signed = volume.values[0]
    border = np.ones(signed.shape, bool)
    border[1:-1, 1:-1, 1:-1] = False
    assert signed[border].min() > 0
    cells = np.random.default_rng(seed).integers(0, signed.shape, (20000, 3))
    values = signed[tuple(cells.T)]
    clear = np.abs(values) > 2 * VOXEL
    inside = occupancy(body.vertices, body.faces, cells[clear] * VOXEL + volume.origin) > 0.5
    assert ((values[clear] < 0) == inside).mean() > 0.999


def _block_with_pocket_and_notch():
    """A 30 cm block (1 cm cells) with a pocket 2 cm wide and 6 cm deep cut into its front (a mouth) and a notch
    14 cm wide and 6 cm deep cut into its back, as a closed mesh."""
    from skimage.measure import marching_cubes

    solid = np.zeros((34, 34, 34), bool)
    solid[2:32, 2:32, 2:32] = True
    solid[16:18, 10:24, 26:32] = False  # the pocket: x 2 cells, z from the front face inwards
    solid[10:24, 10:24, 2:8] = False  # the notch, in the back face
    vertices, faces, _, _ = marching_cubes(solid.astype(np.float32), 0.5)
    return (vertices - 17.0) * 0.01, faces[:, ::-1]  # metres, centred; outward-facing


def test_a_closed_volume_fills_a_narrow_pocket_and_leaves_a_wide_notch():
    vertices, faces = _block_with_pocket_and_notch()
    volume = distance_volume(vertices, faces, VOXEL, REACH)
    closed = closed_volume(volume, 2)
    cells = lambda points: tuple(np.rint((np.asarray(points) - volume.origin) / VOXEL).astype(int).T)  # noqa: E731
    pocket, notch, block, far = [0.0, 0.0, 0.11], [0.0, 0.0, -0.12], [0.1, 0.1, 0.0], [0.0, 0.0, 0.3]
    assert volume.values[0][cells([pocket])] > 0 and volume.values[0][cells([notch])] > 0  # outside the mesh
    assert volume.values[0][cells([block])] < 0
    assert closed.values[0][cells([pocket])] == pytest.approx(-VOXEL)  # closed: one voxel inside
    kept = cells([notch, block, far])
    np.testing.assert_array_equal(closed.values[0][kept], volume.values[0][kept])
    changed = closed.values[0] != volume.values[0]
    assert (volume.values[0][changed] > 0).all() and (closed.values[0][changed] == np.float32(-VOXEL)).all()
    np.testing.assert_array_equal(closed.values[1:], volume.values[1:])
    assert closed.voxel == volume.voxel and closed.reach == volume.reach and (closed.origin == volume.origin).all()
