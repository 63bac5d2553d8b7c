"""detectron2's image read/resize rules, and the pictures drawn from a result."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from human3d.densepose.image import read_image_bgr, resize_bgr, resized_shape
from human3d.densepose.postprocess import DensePoseResult
from human3d.densepose.visualize import paste_iuv, part_palette, render
from human3d.errors import Human3DError


@pytest.mark.parametrize("hw, expected", [((512, 512), (800, 800)), ((846, 564), (1200, 800)), ((752, 564), (1067, 800)),
                                          ((240, 320), (800, 1067)), ((800, 1100), (800, 1100)), ((500, 2000), (333, 1333))])
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


def _result() -> DensePoseResult:
    labels = np.zeros((10, 12), np.uint8)
    labels[2:8, 3:9] = 5
    uv = np.zeros((2, 10, 12), np.float32)
    uv[0][labels > 0] = np.linspace(0, 1, 36)
    uv[1][labels > 0] = 0.5
    return DensePoseResult(np.array([[4.2, 6.9, 16.8, 16.5]], np.float32), np.array([0.9], np.float32), [labels], [uv])


def test_paste_and_layers():
    result = _result()
    labels, uv = paste_iuv(result, 30, 40)
    x, y, w, h = result.boxes_xywh_int[0]
    assert (x, y, w, h) == (4, 6, 12, 9)  # each of x1, y1, x2 - x1, y2 - y1 truncated
    np.testing.assert_array_equal(labels[y:y + h, x:x + w], result.labels[0][:h, :w])
    assert labels.sum() == result.labels[0][:h].sum() and uv[1].max() == 0.5
    image = np.full((30, 40, 3), 100, np.uint8)
    parts = render(image, result, {"parts"}, alpha=1.0)
    np.testing.assert_array_equal(parts[labels == 5], np.repeat(part_palette()[5][None], (labels == 5).sum(), 0))
    np.testing.assert_array_equal(parts[labels == 0], image[labels == 0])
    contours = render(image, result, {"contours"})
    assert (contours != image).any(axis=2)[labels > 0].any() and not (contours != image).any(axis=2)[labels == 0].any()
    boxes = render(image, result, {"boxes"})
    assert tuple(boxes[10, 4]) == (0, 255, 0)  # left edge of the box
    assert (render(image, result, {"iuv"}) != image).any()
