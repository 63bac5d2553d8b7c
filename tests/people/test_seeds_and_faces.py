"""HOG seeds for the small-people pass, and faces found without a body (for ``--blur-faces``)."""

from __future__ import annotations

import numpy as np
import pytest

from human3d.io.images import read_image
from human3d.people.seeds import person_seeds
from human3d.people.tiles import box_iou_cover

DEMO = "17790319373_bd19b24cfc_k.jpg"  # DensePose's demo photo
WALKING_MAN = [188, 188, 272, 444]  # hand-labelled (benchmarks/labels/street_people.json)


def test_hog_seeds_find_the_walking_man_of_the_densepose_demo_photo(shared_dir):
    seeds = person_seeds(read_image(shared_dir / "photos" / "street" / DEMO)[..., :3])
    assert seeds.shape[1] == 4 and len(seeds) >= 1
    assert max(box_iou_cover(seed, WALKING_MAN)[0] for seed in seeds) >= 0.3


def test_the_finder_finds_the_walking_man_of_the_densepose_demo_photo(finder, shared_dir):
    """Seen in profile, with little face for BlazePose's detector: found through a HOG seed."""
    found = [person.box_xyxy for person in finder.find(read_image(shared_dir / "photos" / "street" / DEMO)[..., :3])]
    assert max(box_iou_cover(box, WALKING_MAN)[0] for box in found) >= 0.5


def test_no_seed_in_a_flat_image():
    assert person_seeds(np.full((300, 400, 3), 127, np.uint8)).shape == (0, 4)


def test_the_landmark_model_alone_sees_the_man_in_profile_and_nobody_in_the_sky(shared_dir):
    pytest.importorskip("mediapipe")
    from human3d.people.roi_landmarks import RegionLandmarker

    image = read_image(shared_dir / "photos" / "street" / DEMO)[..., :3]
    regions = RegionLandmarker()
    try:
        x1, y1, x2, y2 = WALKING_MAN
        landmarks, mask, _ = regions.find(image, ((x1 + x2) / 2, (y1 + y2) / 2), 1.3 * (y2 - y1))
        assert landmarks.shape == (33, 5) and mask.shape == image.shape[:2]
        nose, ankles = landmarks[0, :2], landmarks[[27, 28], :2]
        assert x1 <= nose[0] <= x2 and y1 <= nose[1] <= y1 + 0.2 * (y2 - y1)  # head at the top of his box
        assert (ankles[:, 1] >= y2 - 0.15 * (y2 - y1)).all()  # feet at its bottom
        inside = mask[y1:y2, x1:x2] > 0.5
        assert inside.mean() > 0.3 and (mask > 0.5).sum() < 1.5 * inside.sum()  # the mask is on him
        assert regions.find(image, (75, 75), 150) is None  # trees and sky: nobody
    finally:
        regions.close()


@pytest.fixture(scope="module")
def face_alone(shared_dir):
    """pifuhd_test.png's head alone (no body) pasted small into a large grey photo, and where it is."""
    pytest.importorskip("mediapipe")
    head = read_image(shared_dir / "photos" / "pifuhd_test.png")[25:115, 206:296, :3]  # around the OpenPose face
    canvas = np.full((720, 1280, 3), 128, np.uint8)
    canvas[500:590, 900:990] = head
    return canvas, np.array([900, 500, 990, 590], np.float32)


def test_a_face_without_a_body_is_found(face_alone):
    from human3d.people.faces import find_faces

    image, where = face_alone
    faces = find_faces(image)
    assert len(faces) == 1
    assert box_iou_cover(faces[0], where)[1] >= 0.5  # most of the found box lies on the pasted head


def test_blurring_covers_a_face_without_a_body_and_nothing_far_from_it(face_alone):
    from human3d.people.pictures import blur_found_faces

    image, (x1, y1, x2, y2) = face_alone
    blurred = blur_found_faces(image)
    changed = np.abs(blurred.astype(int) - image.astype(int)).sum(axis=2) > 0
    rows, cols = np.nonzero(changed)
    assert changed[int(y1):int(y2), int(x1):int(x2)].mean() > 0.3
    assert rows.min() >= y1 - 60 and rows.max() <= y2 + 60 and cols.min() >= x1 - 60 and cols.max() <= x2 + 60


def test_a_face_is_seen_on_a_persons_head_and_not_on_grey(face_alone):
    """:meth:`FaceFinder.sees_face` looks around a face box from a body's landmarks, enlarged."""
    from human3d.people.faces import default_face_finder

    image, (x1, y1, x2, y2) = face_alone
    inner = np.array([x1 + 25, y1 + 25, x2 - 25, y2 - 25], np.float32)  # a landmark face box: tighter than the head
    assert default_face_finder().sees_face(image, inner)
    assert not default_face_finder().sees_face(image, inner - [600, 300, 600, 300])  # grey where a head would be
    assert not default_face_finder().sees_face(image, np.array([-50, -50, -10, -10], np.float32))  # off the image
