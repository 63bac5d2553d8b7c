"""HOG seeds for the small-people pass, and faces found without a body (for ``--blur-faces``)."""

from __future__ import annotations

import numpy as np
import pytest

from human3d.io.images import read_image
from human3d.people.seeds import SEED_ZOOM, person_seeds, seed_window_square
from human3d.people.tiles import box_iou_cover

DEMO = "17790319373_bd19b24cfc_k.jpg"  # DensePose's demo photo
WALKING_MAN = [188, 188, 272, 444]  # hand-labelled (benchmarks/labels/street_people.json)


def test_a_seed_window_is_a_square_around_the_box_inside_the_image():
    x, y, side = seed_window_square(np.array([100, 50, 140, 150]), 900, 600)
    assert side == int(SEED_ZOOM * 100) and x == 120 - side // 2 and y == 100 - side // 2
    x, y, side = seed_window_square(np.array([0, 500, 40, 600]), 900, 600)  # at the corner: moved inside
    assert (x, y) == (0, 600 - side)
    assert seed_window_square(np.array([0, 0, 100, 900]), 900, 600)[2] == 600  # never larger than the image


def test_hog_seeds_find_the_walking_man_of_the_densepose_demo_photo(shared_dir):
    seeds = person_seeds(read_image(shared_dir / "photos" / "street" / DEMO)[..., :3])
    assert seeds.shape[1] == 4 and len(seeds) >= 1
    assert max(box_iou_cover(seed, WALKING_MAN)[0] for seed in seeds) >= 0.3


def test_the_finder_finds_the_walking_man_of_the_densepose_demo_photo(finder, shared_dir):
    """Seen in profile, with no face for BlazePose's detector: found only through a HOG seed."""
    found = [person.box_xyxy for person in finder.find(read_image(shared_dir / "photos" / "street" / DEMO)[..., :3])]
    assert max(box_iou_cover(box, WALKING_MAN)[0] for box in found) >= 0.5


def test_no_seed_in_a_flat_image():
    assert person_seeds(np.full((300, 400, 3), 127, np.uint8)).shape == (0, 4)


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
