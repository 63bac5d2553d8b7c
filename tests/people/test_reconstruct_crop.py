"""``reconstruct`` with no crop given: the person is found, cropped as the official code does, masked."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from human3d.cli import main
from human3d.errors import Human3DError
from human3d.io.images import read_image
from human3d.pifuhd.pipeline import prepare_image
from human3d.pifuhd.preprocess import read_keypoints, rect_from_keypoints

pytest.importorskip("mediapipe")


@pytest.fixture()
def lone_photo(shared_dir, tmp_path):
    """pifuhd_test.png without its side files."""
    photo = tmp_path / "photo.png"
    shutil.copy(shared_dir / "photos" / "pifuhd_test.png", photo)
    return photo


def test_the_found_person_gives_the_official_crop_and_a_grey_background(finder, lone_photo, shared_dir):
    prepared = prepare_image(lone_photo, find_people=finder.find)
    official = rect_from_keypoints(read_keypoints(shared_dir / "photos" / "pifuhd_test_keypoints.json"))
    height = read_image(lone_photo).shape[0]
    assert np.abs(np.subtract(prepared.rect.xywh, official.xywh)).max() <= 0.05 * height
    person = finder.find(read_image(lone_photo)[..., :3])[0]
    background = ~person.mask
    assert np.abs(prepared.rgb[background].astype(int) - 127).max() <= 1  # composited over 0.5 grey
    assert np.abs(prepared.rgb[person.mask].astype(int) - read_image(lone_photo)[person.mask]).max() <= 1


def test_an_explicit_crop_wins_over_the_finder(shared_dir, tmp_path):
    photo = tmp_path / "photo.png"
    shutil.copy(shared_dir / "photos" / "pifuhd_test.png", photo)
    (tmp_path / "photo_rect.txt").write_text("10 20 300 300\n")

    def never(image):
        raise AssertionError("the finder must not run when a crop is given")

    assert prepare_image(photo, find_people=never).rect.xywh == (10, 20, 300, 300)


def test_no_person_or_a_missing_person_is_one_line(lone_photo, tmp_path, capsys):
    with pytest.raises(Human3DError, match="no person found"):
        prepare_image(lone_photo, find_people=lambda image: [])
    out = tmp_path / "mesh.obj"
    assert main(["reconstruct", str(lone_photo), "-o", str(out), "--person", "3"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"human3d: error: {lone_photo}: person 3 asked for, but 1 found (0 to 0, largest first)"
    assert not out.exists()
