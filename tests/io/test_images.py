"""Reading images and masks: formats, channels, and one-line errors for bad files."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from human3d.errors import Human3DError
from human3d.io.images import read_image, read_mask, write_image


def test_rgb_and_rgba_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    write_image(tmp_path / "a.png", rgb)
    np.testing.assert_array_equal(read_image(tmp_path / "a.png"), rgb)
    rgba = rng.integers(0, 256, (40, 50, 4), dtype=np.uint8)
    write_image(tmp_path / "b.png", rgba)
    np.testing.assert_array_equal(read_image(tmp_path / "b.png"), rgba)
    np.testing.assert_allclose(read_mask(tmp_path / "b.png"), rgba[:, :, 3] / 255.0, atol=1e-7)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "b.png"]


def test_grey_and_16_bit_images(tmp_path):
    grey = np.tile(np.arange(64, dtype=np.uint8), (40, 1))
    cv2.imwrite(str(tmp_path / "g.png"), grey)
    out = read_image(tmp_path / "g.png")
    assert out.shape == (40, 64, 3) and (out[:, :, 0] == grey).all()
    np.testing.assert_allclose(read_mask(tmp_path / "g.png"), grey / 255.0, atol=1e-7)
    deep = (grey.astype(np.uint16) * 257)[:, :, None].repeat(3, 2)
    cv2.imwrite(str(tmp_path / "d.png"), deep)
    np.testing.assert_array_equal(read_image(tmp_path / "d.png")[:, :, 1], grey)


def test_bad_images_give_one_line_errors(tmp_path):
    (tmp_path / "text.png").write_text("hello, not an image")
    (tmp_path / "empty.png").write_bytes(b"")
    cv2.imwrite(str(tmp_path / "tiny.png"), np.zeros((8, 100, 3), np.uint8))
    good = cv2.imencode(".png", np.zeros((64, 64, 3), np.uint8))[1].tobytes()
    (tmp_path / "cut.png").write_bytes(good[: len(good) // 2])
    cases = {
        "text.png": "not an image",
        "empty.png": "empty file",
        "tiny.png": "too small",
        "cut.png": "not an image",
        "missing.png": "image not found",
    }
    for name, problem in cases.items():
        with pytest.raises(Human3DError) as caught:
            read_image(tmp_path / name)
        message = str(caught.value)
        assert message.startswith(f"{tmp_path / name}: ") and problem in message and "\n" not in message


def test_unknown_extension_cannot_be_written(tmp_path):
    with pytest.raises(Human3DError, match="cannot encode"):
        write_image(tmp_path / "x.unknown", np.zeros((40, 40, 3), np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_image_files_lists_images_by_name_only(tmp_path):
    from human3d.io.images import image_files

    for name in ("b.JPG", "a.png", "notes.txt", "c.webp"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "d.png").mkdir()
    assert [p.name for p in image_files(tmp_path)] == ["a.png", "b.JPG", "c.webp"]


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied_as_pillow_does(tmp_path, orientation):
    from PIL import Image, ImageOps

    pixels = (np.random.default_rng(orientation).random((40, 60, 3)) * 255).astype(np.uint8)
    picture = Image.fromarray(pixels)
    exif = picture.getexif()
    exif[0x0112] = orientation
    path = tmp_path / "phone.jpg"
    picture.save(path, exif=exif.tobytes(), quality=95)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB"))
    assert np.abs(read_image(path).astype(int) - expected).max() <= 1  # the same decoder rounding aside
