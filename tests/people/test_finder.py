"""The people finder on real photos (``../shared/photos``): masks, keypoints, crops; tiles, merging."""

from __future__ import annotations

import json

import numpy as np
import pytest

from human3d.errors import Human3DError
from human3d.io.images import read_image, read_mask
from human3d.people.finder import Person, merge_people
from human3d.people.landmarks import body25_keypoints
from human3d.people.tiles import Window, tile_windows
from human3d.pifuhd.preprocess import read_keypoints, rect_from_keypoints


def test_the_mask_of_ryota_matches_the_reference_mask(finder, shared_dir):
    people = finder.find(read_image(shared_dir / "photos" / "ryota.png")[..., :3])
    truth = read_mask(shared_dir / "photos" / "ryota_mask.png") > 0.5
    assert len(people) == 1
    iou = (people[0].mask & truth).sum() / (people[0].mask | truth).sum()
    assert iou >= 0.9


def test_body25_keypoints_and_the_official_crop_match_openpose(finder, shared_dir):
    image = read_image(shared_dir / "photos" / "pifuhd_test.png")[..., :3]
    people = finder.find(image)
    assert len(people) == 1
    ours = body25_keypoints(people[0].landmarks)
    theirs = read_keypoints(shared_dir / "photos" / "pifuhd_test_keypoints.json")
    both = (theirs[:, 2] > 0.1) & (ours[:, 2] > 0.5)
    assert both.sum() >= 15
    error = np.linalg.norm(ours[both, :2] - theirs[both, :2], axis=1) / image.shape[0]
    assert np.median(error) <= 0.03
    crop_ours, crop_theirs = rect_from_keypoints(ours).xywh, rect_from_keypoints(theirs).xywh
    assert np.abs(np.subtract(crop_ours, crop_theirs)).max() <= 0.05 * image.shape[0]


def test_a_person_has_consistent_fields(finder, shared_dir):
    image = read_image(shared_dir / "photos" / "ryota.png")[..., :3]
    person = finder.find(image)[0]
    x1, y1, x2, y2 = person.box_xyxy
    assert 0 <= x1 < x2 <= image.shape[1] and 0 <= y1 < y2 <= image.shape[0]
    assert person.landmarks.shape == (33, 4) and person.keypoints_coco17.shape == (17, 3)
    assert person.mask.shape == image.shape[:2] and person.mask.dtype == bool
    fx1, fy1, fx2, fy2 = person.face_box_xyxy
    nose = person.landmarks[0, :2]
    assert fx1 < nose[0] < fx2 and fy1 < nose[1] < fy2 and fy2 < (y1 + y2) / 2  # the face is in the upper half
    assert 0.5 < person.score <= 1.0


def test_no_person_in_a_flat_image(finder):
    assert finder.find(np.full((240, 320, 3), 127, np.uint8)) == []


def test_bad_arguments_are_one_line_errors(finder):
    with pytest.raises(Human3DError, match="expected an RGB uint8 image"):
        finder.find(np.zeros((10, 10), np.float32))


def test_tiles_overlap_by_half_and_cover_the_image():
    windows = tile_windows(900, 600, (2, 3))
    assert {w.width for w in windows} == {300, 200}
    covered = np.zeros((600, 900), bool)
    for window in windows:
        covered[window.y:window.y + window.height, window.x:window.x + window.width] = True
    assert covered.all()
    assert Window(150, 0, 300, 300) in windows  # stride: half a tile


def person_at(box: list[float], score: float = 0.9) -> Person:
    """A person with only a box and a score (what merging and tracking read)."""
    return Person(np.array(box, np.float32), score, np.zeros((33, 4), np.float32), np.zeros((1, 1), bool),
                  np.zeros(4, np.float32))


def test_merging_keeps_the_best_of_overlapping_people_largest_first():
    people = [person_at([0, 0, 10, 20], 0.8), person_at([1, 1, 10, 20], 0.9), person_at([2, 2, 5, 8], 0.7),
              person_at([50, 0, 90, 80], 0.6)]
    merged = merge_people(people)
    assert [p.score for p in merged] == [0.6, 0.9]  # the cut and the inner duplicate go; largest box first


def test_the_person_record_is_plain_json(finder, shared_dir):
    from human3d.formats.densepose_coco import rle_decode
    from human3d.people.run import person_record

    person = finder.find(read_image(shared_dir / "photos" / "ryota.png")[..., :3])[0]
    record = json.loads(json.dumps(person_record(person)))
    assert len(record["keypoints_coco17"]) == 17 and len(record["landmarks33"]) == 33
    assert (rle_decode(record["mask_rle"]) == person.mask).all()
