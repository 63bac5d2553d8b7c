"""The person crop (keypoints, rect file, mask, alpha) and the official RGBA handling."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from human3d.errors import Human3DError
from human3d.geometry.crop import Crop
from human3d.io.images import read_image
from human3d.pifuhd.pipeline import prepare_image
from human3d.pifuhd.preprocess import (
    composite_over_grey,
    crop,
    read_keypoints,
    read_rect,
    rect_from_keypoints,
)


def test_photo_and_keypoints_file_give_the_official_rect(shared_dir, pifuhd_reference):
    photo = shared_dir / "photos" / "pifuhd_test.png"
    keypoints_file = shared_dir / "photos" / "pifuhd_test_keypoints.json"
    vectors = np.load(pifuhd_reference / "public" / "vectors.npz")
    keypoints = read_keypoints(keypoints_file)  # three people: the tallest is chosen
    assert len(json.loads(keypoints_file.read_text())["people"]) == 3
    np.testing.assert_allclose(keypoints, vectors["src_keypoints_selected"])
    prepared = prepare_image(photo, keypoints=keypoints_file)
    assert prepared.rect.xywh == tuple(vectors["crop_rect_xywh"]) == rect_from_keypoints(keypoints).xywh
    np.testing.assert_array_equal(prepared.rgb, vectors["src_image_rgb"])
    assert prepared.mask is None  # an RGB photo with keypoints: the person's pixels are not known


def test_rect_without_confident_feet_uses_the_hip_rule():
    keypoints = np.zeros((25, 3))
    keypoints[:, 2] = 0.9
    keypoints[:, 0] = np.linspace(100, 140, 25)
    keypoints[:, 1] = np.linspace(50, 250, 25)
    keypoints[[11, 19, 21, 22], 2] = 0.1
    keypoints[8, :2] = (120.7, 150.2)
    center = np.array([120, 150])
    radius = int(1.45 * np.sqrt(((center - keypoints[keypoints[:, 2] > 0.5, :2]) ** 2).sum(1)).max())
    expected = (120 - radius, 150 + int(0.05 * radius) - radius, 2 * radius, 2 * radius)
    assert rect_from_keypoints(keypoints).xywh == expected


def test_keypoints_without_a_person(tmp_path):
    empty = tmp_path / "none_keypoints.json"
    empty.write_text(json.dumps({"version": 1.3, "people": []}))
    with pytest.raises(Human3DError, match=r"none_keypoints\.json: no person"):
        read_keypoints(empty)
    unsure = tmp_path / "unsure.json"
    unsure.write_text(json.dumps({"people": [{"pose_keypoints_2d": [10.0, 10.0, 0.1] * 25}]}))
    with pytest.raises(Human3DError, match=r"unsure\.json: no person with confident keypoints"):
        read_keypoints(unsure)
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    with pytest.raises(Human3DError, match=r"garbage\.json: not an OpenPose keypoints JSON"):
        read_keypoints(garbage)


def test_rect_file(tmp_path):
    good = tmp_path / "a_rect.txt"
    good.write_text("-11 -5 564 564\n3 4 5 6\n")
    assert read_rect(good).xywh == (-11, -5, 564, 564)
    bad = tmp_path / "bad_rect.txt"
    bad.write_text("1 2 three")
    with pytest.raises(Human3DError, match=r"bad_rect\.txt: not a rect file"):
        read_rect(bad)


def test_crop_pads_with_black_outside_the_image():
    image = np.arange(5 * 6 * 3, dtype=np.uint8).reshape(5, 6, 3) + 1
    out = crop(image, Crop.from_xywh(-2, 1, 4, 4))
    assert out.shape == (4, 4, 3)
    assert (out[:, :2] == 0).all()
    np.testing.assert_array_equal(out[:, 2:], image[1:5, 0:2])
    assert (crop(image, Crop.from_xywh(10, 10, 3, 3)) == 0).all()


def test_a_rect_file_that_is_not_square_crops_its_own_width_and_height(tmp_path):
    rect_file = tmp_path / "tall_rect.txt"
    rect_file.write_text("1 -1 3 5\n")
    rect = read_rect(rect_file)
    assert rect.xywh == (1, -1, 3, 5) and (rect.width, rect.height) == (3, 5)
    image = np.arange(5 * 6 * 3, dtype=np.uint8).reshape(5, 6, 3) + 1
    out = crop(image, rect)
    assert out.shape == (5, 3, 3)
    assert (out[0] == 0).all()
    np.testing.assert_array_equal(out[1:], image[0:4, 1:4])


def test_mask_file_and_alpha_give_the_same_inputs(shared_dir, tmp_path):
    import cv2

    photo, mask_file = shared_dir / "photos" / "ryota.png", shared_dir / "photos" / "ryota_mask.png"
    with_mask = prepare_image(photo, mask=mask_file)
    rgb = read_image(photo)[:, :, :3]
    alpha = read_image(mask_file)[:, :, 0]
    rgba_file = tmp_path / "ryota_rgba.png"
    cv2.imwrite(str(rgba_file), cv2.cvtColor(np.dstack([rgb, alpha]), cv2.COLOR_RGBA2BGRA))
    with_alpha = prepare_image(rgba_file)
    assert with_mask.rect == with_alpha.rect
    np.testing.assert_array_equal(with_mask.rgb, with_alpha.rgb)
    np.testing.assert_array_equal(with_mask.mask, alpha / np.float32(255))  # the person's pixels are kept
    np.testing.assert_array_equal(with_alpha.mask, with_mask.mask)
    background = alpha == 0
    assert (with_mask.rgb[background] == 127).all()  # composited over 0.5 grey, truncated


def test_composite_over_grey_matches_the_official_formula():
    rgba = np.array([[[200, 100, 0, 255], [200, 100, 0, 0], [90, 60, 30, 128]]], dtype=np.uint8)
    out = composite_over_grey(rgba)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out[0, 0], [200, 100, 0])
    np.testing.assert_array_equal(out[0, 1], [127, 127, 127])
    a = np.float32(128 / 255)
    unpremultiplied = np.float32([90, 60, 30]) / 255 / (a + np.float32(1e-8))
    expected = (255.0 * (a * unpremultiplied + 0.5 * (1 - a))).astype(np.uint8)
    np.testing.assert_array_equal(out[0, 2], expected)


def test_an_opaque_alpha_channel_is_no_mask_and_the_person_is_found(tmp_path):
    """A photo saved as RGBA with (almost) every pixel opaque marks no one: the people finder crops it, exactly as
    it crops the same photo saved as RGB; an alpha that hides the background is still the mask."""
    import cv2

    from human3d.people.finder import find_people

    example = read_image(Path(__file__).resolve().parents[2] / "examples" / "person.png")
    photo = composite_over_grey(example)  # the person over grey, no alpha
    opaque = np.dstack([photo, np.full(photo.shape[:2], 255, np.uint8)])
    opaque[:3, :3, 3] = 0  # a few transparent pixels (a corner), as photo editors leave
    rgb_file, rgba_file = tmp_path / "photo.png", tmp_path / "photo_rgba.png"
    cv2.imwrite(str(rgb_file), cv2.cvtColor(photo, cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(rgba_file), cv2.cvtColor(opaque, cv2.COLOR_RGBA2BGRA))
    as_rgb, as_rgba = (prepare_image(path, find_people=find_people) for path in (rgb_file, rgba_file))
    assert as_rgba.person is not None and as_rgba.rect == as_rgb.rect
    np.testing.assert_array_equal(as_rgba.mask, as_rgb.mask)
    np.testing.assert_array_equal(as_rgba.rgb, as_rgb.rgb)
    assert 0.05 < as_rgba.mask.mean() < 0.5  # the found person, not the whole image
    masked = prepare_image(Path(__file__).resolve().parents[2] / "examples" / "person.png", find_people=find_people)
    assert masked.person is None and masked.mask.mean() < 0.5  # the example's own alpha is its mask
