"""The real photos the people model trains with: shipped in scikit-image, each with its licence."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from human3d.synth.library_photos import LIBRARY_PHOTOS, library_photos, photo_patch


def test_every_photo_loads_as_rgb_with_a_licence_that_allows_training():
    photos = library_photos()
    assert len(photos) == len(LIBRARY_PHOTOS) >= 6
    for photo, licence in zip(photos, LIBRARY_PHOTOS.values()):
        assert photo.ndim == 3 and photo.shape[2] == 3 and photo.dtype == np.float32
        assert 0.0 <= photo.min() and photo.max() <= 1.0 and photo.std() > 0.02
        assert licence.startswith(("CC0", "public domain", "no known copyright"))


def test_patches_have_the_asked_size_and_vary():
    rng = np.random.default_rng(0)
    patches = [photo_patch(40, 70, rng) for _ in range(8)]
    assert all(p.shape == (40, 70, 3) for p in patches)
    assert len({round(float(p.mean()), 4) for p in patches}) > 4
    assert photo_patch(600, 900, rng).shape == (600, 900, 3)  # larger than any photo: enlarged


def test_a_sample_with_photo_backgrounds_keeps_its_people_and_changes_only_the_background(body_model):
    from human3d.synth.scene import SceneConfig, make_sample

    plain = make_sample(0, 5, SceneConfig(size=96, people=1, camera="perspective"), body_model)
    photo = make_sample(0, 5, SceneConfig(size=96, people=1, camera="perspective", photo_backgrounds=True),
                        body_model)
    person = plain.maps.mask
    np.testing.assert_array_equal(photo.rgb[person], plain.rgb[person])
    np.testing.assert_array_equal(photo.maps.iuv, plain.maps.iuv)
    assert np.abs(photo.rgb[~person].astype(int) - plain.rgb[~person]).mean() > 10


@pytest.mark.parametrize("option, rival", [("--photo-backgrounds", "--backgrounds"), ("--photo-prints", "--scans")])
def test_the_command_takes_a_photo_option_and_refuses_it_beside_its_rival(tmp_path, capsys, option, rival):
    from human3d.cli import main

    out = tmp_path / "photos"
    assert main(["synth", "--out", str(out), "--count", "1", "--size", "64", option]) == 0
    assert json.loads((out / "dataset.json").read_text())[option[2:].replace("-", "_")] is True
    folder = tmp_path / "folder"
    folder.mkdir()
    assert main(["synth", "--out", str(tmp_path / "both"), "--count", "1", rival, str(folder), option]) == 1
    assert "give one of them" in capsys.readouterr().err and not (tmp_path / "both").exists()


def test_a_sample_with_photo_prints_changes_only_some_clothes(body_model):
    from human3d.synth.clothing import LABELS
    from human3d.synth.renderer import PHOTO_PATTERN
    from human3d.synth.scene import SceneConfig, make_sample

    config = SceneConfig(size=128, people=2, camera="perspective")
    plain = make_sample(3, 5, config, body_model)
    printed = make_sample(3, 5, dataclasses.replace(config, photo_prints=True), body_model)
    np.testing.assert_array_equal(printed.maps.iuv, plain.maps.iuv)  # the same people, camera and labels
    np.testing.assert_array_equal(printed.keypoints_2d, plain.keypoints_2d)
    np.testing.assert_array_equal(printed.rgb[~plain.maps.mask], plain.rgb[~plain.maps.mask])
    kinds = [(s.label, s.material.pattern >= PHOTO_PATTERN) for p in printed.people for s in p.surfaces]
    assert not any(is_print for label, is_print in kinds if label in (LABELS["skin"], LABELS["hair"]))
    assert any(is_print for _, is_print in kinds)
    skin = plain.maps.label == LABELS["skin"]
    np.testing.assert_array_equal(printed.rgb[skin], plain.rgb[skin])
    changed = np.abs(printed.rgb.astype(int) - plain.rgb).max(axis=2) > 0
    clothes = np.isin(plain.maps.label, [LABELS[name] for name in ("top", "bottom", "dress", "shoes")])
    assert changed.any() and not (changed & ~clothes).any()
    assert make_sample(3, 5, dataclasses.replace(config, photo_prints=True), body_model).rgb.tobytes() == \
        printed.rgb.tobytes()  # same seed, same bytes
