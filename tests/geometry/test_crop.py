"""The crop frame: rect conversions, the mask rule, points to the crop frame and back, the 4x4 forms."""

from __future__ import annotations

import numpy as np
import pytest

from human3d.errors import Human3DError
from human3d.geometry.crop import (
    Crop,
    crop_from_mask,
    crop_to_image_frame,
    crop_to_image_matrix,
    crop_to_world,
    depth_origin,
    points_to_crop,
)
from human3d.io.images import read_image


def test_official_rects_convert_exactly_both_ways():
    for rect in [(-11, -5, 564, 564), (40, -10, 300, 300), (1, -1, 3, 5), (0, 0, 7, 7)]:
        crop = Crop.from_xywh(*rect)
        assert crop.xywh == rect and all(isinstance(v, int) for v in crop.xywh)
        assert (crop.cx, crop.cy, crop.width, crop.height) == (rect[0] + rect[2] / 2, rect[1] + rect[3] / 2, *rect[2:])
    assert Crop.square(13.5, 10, 7) == Crop.from_xywh(10, 6.5, 7, 7)
    assert Crop.square(30.25, 40.5, 50.0).side == 50.0
    # the centred square of the larger side, integer corner
    assert Crop.whole_image(100, 60).xywh == (0, -20, 100, 100)
    assert Crop.whole_image(61, 100).xywh == (-20, 0, 100, 100)
    assert Crop.whole_image(64, 64) == Crop.square(32, 32, 64)


def test_mask_rule_and_errors(shared_dir):
    mask = read_image(shared_dir / "photos" / "ryota_mask.png")[:, :, 0] / 255.0
    x, y, w, h = crop_from_mask(mask).xywh
    rows, cols = np.nonzero(mask > 0.5)
    assert w == h and x <= cols.min() and y <= rows.min() and x + w > cols.max() and y + h > rows.max()
    assert w <= 1.3 * max(np.ptp(rows), np.ptp(cols)) + 2
    with pytest.raises(Human3DError, match="m.png: no person-sized foreground"):
        crop_from_mask(np.zeros((100, 100)), "m.png")
    tiny = np.zeros((100, 100))
    tiny[50:53, 50:53] = 1
    with pytest.raises(Human3DError, match="no person-sized foreground"):
        crop_from_mask(tiny)


def test_mask_rule_on_a_box():
    mask = np.zeros((200, 200))
    mask[20:120, 60:110] = 1  # rows 20..119, cols 60..109: extent 100, centre (85, 70)
    assert crop_from_mask(mask).xywh == (85 - 60, 70 - 60, 120, 120)


def test_points_to_crop_maps_the_crop_corners_to_the_unit_square():
    calib = np.eye(4)
    # an image of 100 px; a crop of side 50 centred on pixel (30, 40): x from 5 to 55, y from 15 to 65 (down)
    corners = np.array([[5 / 50 - 1, 55 / 50 - 1], [1 - 15 / 50, 1 - 65 / 50], [0.2, 0.2]])
    moved = points_to_crop(corners, calib, Crop.square(30.0, 40.0, 50.0), (100, 100))
    assert np.allclose(moved, [[-1, 1], [1, -1], [0.4, 0.4]])


@pytest.mark.parametrize("crop, size", [(Crop.square(30.25, 41.5, 52.75), (100, 100)),
                                        (Crop.from_xywh(40, -10, 300, 200), (512, 384))])  # fmt: skip
def test_round_trip_world_to_crop_and_back(crop, size):
    rng = np.random.default_rng(0)
    calib = np.eye(4)
    calib[:3, :3] = np.linalg.qr(rng.normal(size=(3, 3)))[0] * 1.7
    calib[:3, 3] = [0.1, -0.2, 0.3]
    world = rng.uniform(-1, 1, (3, 200))
    z_origin = 0.37
    in_crop = points_to_crop(world, calib, crop, size, z_origin)
    assert in_crop.dtype == np.float32
    in_image = crop_to_image_frame(in_crop.astype(np.float64), crop, size, z_origin)
    expected = calib[:3, :3] @ world + calib[:3, 3:]
    np.testing.assert_allclose(in_image, expected, atol=1e-5)
    # the 4x4 forms are the same maps
    homogeneous = np.vstack([in_crop.astype(np.float64), np.ones(200)])
    np.testing.assert_allclose((crop_to_image_matrix(crop, size, z_origin) @ homogeneous)[:3], in_image, atol=1e-12)
    np.testing.assert_allclose((crop_to_world(crop, size, calib, z_origin) @ homogeneous)[:3], world, atol=1e-5)


def test_crop_to_image_matrix_matches_the_official_rect_formula():
    x, y, w, h, width, height, z0 = 40, -10, 300, 260, 512, 384, 0.1
    official = np.array([[w / width, 0.0, 0.0, (2.0 * x + w) / width - 1.0],
                         [0.0, h / height, 0.0, 1.0 - (2.0 * y + h) / height],
                         [0.0, 0.0, w / width, z0],
                         [0.0, 0.0, 0.0, 1.0]])  # fmt: skip
    np.testing.assert_array_equal(crop_to_image_matrix(Crop.from_xywh(x, y, w, h), (width, height), z0), official)


def test_depth_origin_is_the_median_vertex_depth():
    calib = np.diag([2.0, 2.0, 3.0, 1.0])
    calib[2, 3] = -1.0
    vertices = np.array([[0, 0, 0.0], [0, 0, 1.0], [0, 0, 10.0]])
    assert depth_origin(vertices, calib) == pytest.approx(3.0 * 1.0 - 1.0)
