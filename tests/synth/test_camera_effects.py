"""Camera effects of the data engine: blur, noise and JPEG on the picture only, drawn per sample, recorded."""

from __future__ import annotations

import json

import numpy as np

from human3d.cli import main
from human3d.synth.camera_effects import CameraEffects, apply_camera_effects, motion_blur_kernel
from human3d.synth.scene import SceneConfig, make_sample

NONE = CameraEffects(blur_probability=0.0, noise_sigma=(0.0, 0.0), jpeg_probability=0.0)


def _edge_image() -> np.ndarray:
    image = np.zeros((64, 64, 3), np.uint8)
    image[:, 32:] = 200
    return image


def test_the_blur_kernel_is_a_normalised_line():
    kernel = motion_blur_kernel(7.0, 0.0)
    assert kernel.shape == (7, 7) and np.isclose(kernel.sum(), 1.0)
    assert kernel[3].sum() > 0.9  # horizontal: the middle row holds it
    assert np.isclose(motion_blur_kernel(5.0, np.pi / 2)[:, 2].sum(), 1.0, atol=0.1)


def test_each_effect_changes_the_picture_and_is_recorded():
    image = _edge_image()
    same, drawn = apply_camera_effects(image, np.random.default_rng(0), NONE)
    np.testing.assert_array_equal(same, image)
    assert drawn == {"blur_pixels": 0.0, "blur_angle_degrees": 0.0, "noise_sigma": 0.0, "jpeg_quality": None}
    blurred, drawn = apply_camera_effects(image, np.random.default_rng(0), CameraEffects(
        blur_probability=1.0, blur_pixels=(40.0, 40.0), noise_sigma=(0.0, 0.0), jpeg_probability=0.0))
    assert drawn["blur_pixels"] == 5.0  # 40 px at 512, scaled to this 64-pixel image
    assert 0 < blurred[:, 30:34].mean() < 200 and not np.array_equal(blurred, image)  # the edge is smeared
    noisy, drawn = apply_camera_effects(image, np.random.default_rng(0), CameraEffects(
        blur_probability=0.0, noise_sigma=(5.0, 5.0), jpeg_probability=0.0))
    assert drawn["noise_sigma"] == 5.0 and 3.0 < np.std(noisy[:, 40:].astype(float)) < 7.0
    packed, drawn = apply_camera_effects(image, np.random.default_rng(0), CameraEffects(
        blur_probability=0.0, noise_sigma=(0.0, 0.0), jpeg_probability=1.0, jpeg_quality=(20, 20)))
    assert drawn["jpeg_quality"] == 20 and packed.dtype == np.uint8 and packed.shape == image.shape
    again, _ = apply_camera_effects(image, np.random.default_rng(0))
    np.testing.assert_array_equal(again, apply_camera_effects(image, np.random.default_rng(0))[0])  # seeded


def test_a_sample_with_camera_effects_has_the_same_people_and_labels(body_model):
    config = SceneConfig(size=96, people=1, camera="perspective")
    sharp = make_sample(0, 5, config, body_model)
    worn = make_sample(0, 5, SceneConfig(size=96, people=1, camera="perspective", camera_effects=True), body_model)
    np.testing.assert_array_equal(worn.maps.iuv, sharp.maps.iuv)
    np.testing.assert_array_equal(worn.keypoints_2d, sharp.keypoints_2d)
    assert not np.array_equal(worn.rgb, sharp.rgb) and sharp.camera_effects is None
    assert set(worn.camera_effects) == {"blur_pixels", "blur_angle_degrees", "noise_sigma", "jpeg_quality"}


def test_the_command_records_the_effects_of_each_sample(tmp_path):
    out = tmp_path / "worn"
    assert main(["synth", "--out", str(out), "--count", "2", "--size", "64", "--seed", "2", "--camera-effects"]) == 0
    metas = [json.loads(path.read_text()) for path in sorted(out.glob("samples/*/meta.json"))]
    assert len(metas) == 2 and all("noise_sigma" in meta["camera_effects"] for meta in metas)
    assert json.loads((out / "dataset.json").read_text())["camera_effects"] is True
