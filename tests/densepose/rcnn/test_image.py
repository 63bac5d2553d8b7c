"""detectron2's image read/resize rules."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from human3d.densepose.rcnn.image import read_image_bgr, resize_bgr, resized_shape
from human3d.errors import Human3DError


@pytest.mark.parametrize("hw, expected", [((512, 512), (800, 800)), ((846, 564), (1200, 800)),
                                          ((752, 564), (1067, 800)), ((240, 320), (800, 1067)),
                                          ((800, 1100), (800, 1100)), ((500, 2000), (333, 1333))])
def test_shortest_edge_resize_rule(hw, expected):
    assert resized_shape(*hw, 800, 1333) == expected


def test_read_applies_exif_orientation_drops_alpha_and_gives_bgr(tmp_path):
    rgb = np.zeros((20, 40, 3), np.uint8)
    rgb[:, :20] = (255, 0, 0)  # left half red
    path = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    Image.fromarray(rgb).save(path, exif=exif, quality=100)
    bgr = read_image_bgr(path)
    assert bgr.shape == (40, 20, 3)
    assert bgr[2, 10, 2] > 200 and bgr[2, 10, 0] < 50  # red on top after the turn, stored as BGR
    rgba = tmp_path / "alpha.png"
    Image.fromarray(np.dstack([rgb, np.zeros((20, 40), np.uint8)])).save(rgba)
    np.testing.assert_array_equal(read_image_bgr(rgba), rgb[:, :, ::-1])  # alpha dropped, no compositing


def test_resize_uses_pil_bilinear():
    image = np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    expected = np.asarray(Image.fromarray(image).resize((1067, 800), Image.BILINEAR))
    np.testing.assert_array_equal(resize_bgr(image, 800, 1333), expected)


def test_unreadable_image(tmp_path):
    path = tmp_path / "x.jpg"
    path.write_bytes(b"nope")
    with pytest.raises(Human3DError, match="x.jpg: not a readable image"):
        read_image_bgr(path)
