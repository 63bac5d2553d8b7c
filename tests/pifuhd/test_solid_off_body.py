"""Off the fitted body, broad parts of the person are solid along the camera's rays: which columns, and how."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from human3d.pifuhd.body_band import WIDEN, BoundedOccupancy
from human3d.pifuhd.body_guide import BodyGuide
from human3d.pifuhd.pipeline import pifuhd_grid
from human3d.pifuhd.solid_off_body import MIN_AREA, off_body_rays, solid_along_rays, solid_off_body
from human3d.surface import dense_field

HALF = np.array([0.2, 0.5, 0.1])  # a box body: 0.4 wide, 1.0 tall, 0.2 deep, centred on the origin
ROBE = (0.45, 0.85)  # crop x of a robe's region off the body, well past the band's reach (0.2 + WIDEN)
SHEETS = 0.3  # the network's robe: two sheets at z = +-SHEETS, hollow between them


def _network(points: np.ndarray) -> np.ndarray:
    """The box as the network sees it, plus a hollow robe beside it (two sheets 4 cm thick) and a strip's two
    lobes left of it (x -0.5 to -0.45, y -0.2 to 0.2), one in front of the other."""
    x, y, z = points.T
    body = (np.abs(points) <= HALF).all(axis=1)
    robe = (x >= ROBE[0]) & (x <= ROBE[1]) & (np.abs(y) <= 0.4) & (np.abs(np.abs(z) - SHEETS) <= 0.02)
    strip = (x >= -0.5) & (x <= -0.45) & (np.abs(y) <= 0.2) & (np.abs(np.abs(z) - SHEETS) <= 0.02)
    return (body | robe | strip).astype(np.float32)


def _box() -> BodyGuide:
    box = trimesh.creation.box(extents=2 * HALF)
    return BodyGuide.of_mesh(box.vertices, box.faces)


@pytest.fixture(scope="module")
def bound() -> BoundedOccupancy:
    person = np.zeros((256, 256), bool)
    cols = lambda x: int((x + 1) / 2 * 256)  # noqa: E731
    rows = lambda y: int((1 - y) / 2 * 256)  # noqa: E731
    person[rows(0.5):rows(-0.5), cols(-0.2):cols(0.2)] = True  # the body
    person[rows(0.4):rows(-0.4), cols(ROBE[0]):cols(ROBE[1])] = True  # the robe: 0.4 x 0.8
    person[rows(0.2):rows(-0.2), cols(-0.5):cols(-0.45)] = True  # the strip: 0.05 x 0.4
    return BoundedOccupancy(_network, _box(), (0.06, 0.12), person_mask=person)


def test_a_column_marked_is_solid_between_its_nearest_and_farthest_inside_nodes():
    values = np.zeros((2, 1, 8), np.float32)
    values[:, 0] = [0.1, 0.9, 0.2, 0.0, 0.7, 0.3, 0.0, 0.0]  # two shells along z with air between
    rays = np.array([[True], [False]])
    solid = solid_along_rays(values, rays)
    np.testing.assert_allclose(solid[0, 0], [0.1, 0.9, 0.7, 0.7, 0.7, 0.3, 0.0, 0.0])  # before and after: as were
    np.testing.assert_array_equal(solid[1], values[1])  # a column not marked: untouched
    assert values[0, 0, 3] == 0.0  # a new array
    assert solid_along_rays(values, np.zeros((2, 1), bool)) is values  # nothing marked: nothing copied


def test_only_broad_regions_of_the_person_past_the_bands_reach_are_made_solid(bound):
    grid = pifuhd_grid(64)
    rays = off_body_rays(bound, grid)
    column = lambda x, y: (int(round((x + 1) / 2 * 64)), int(round((1 - y) / 2 * 64)))  # noqa: E731
    assert rays[column(0.65, 0.0)] and rays[column(0.5, 0.3)]  # the robe
    assert not rays[column(0.0, 0.0)] and not rays[column(HALF[0] + WIDEN / 2, 0.0)]  # the body and the band
    assert not rays[column(-0.47, 0.0)]  # the strip: 0.02 crop units squared, under MIN_AREA
    assert not rays[column(0.65, 0.6)] and not rays[column(-0.8, 0.0)]  # off the person
    assert rays.sum() * (2 / 64) ** 2 == pytest.approx(0.4 * 0.8, rel=0.15) and 0.02 < MIN_AREA
    unmasked = BoundedOccupancy(_network, _box(), (0.06, 0.12))
    assert not off_body_rays(unmasked, grid).any()  # the person's pixels unknown: nothing is made solid


def test_the_hollow_robe_becomes_solid_and_the_strips_lobes_stay_apart(bound):
    grid = pifuhd_grid(64)
    values = dense_field(bound, grid).values
    solid = solid_off_body(values, grid, bound)
    z = lambda depth: int(round((depth + 1) / 2 * 64))  # noqa: E731
    robe, strip = (int(round((0.65 + 1) / 2 * 64)), 32), (int(round((-0.47 + 1) / 2 * 64)), 32)
    assert values[robe + (z(0.0),)] == 0.0 and solid[robe + (z(0.0),)] == 1.0  # between the sheets: now inside
    assert solid[robe + (z(0.5),)] == 0.0 and solid[robe + (z(-0.5),)] == 0.0  # beyond them: still outside
    assert solid[strip + (z(0.0),)] == 0.0 and solid[strip + (z(SHEETS),)] == 1.0  # the strip: as the network says
    body = values[32, 32] > 0.5
    np.testing.assert_array_equal(solid[32, 32] > 0.5, body)  # over the body: the bound's, untouched
