"""Seeds from MediaPipe's selfie segmentation: square regions around its blobs, and the man bent over a cart in
DensePose's demo photo, whom neither BlazePose's detector nor HOG finds."""

from __future__ import annotations

import numpy as np
import pytest

from human3d.io.images import read_image
from human3d.people.segmentation_seeds import INPUT_SIZE, MIN_BLOB_AREA, SEED_REGION_SCALE, SegmentationSeeder
from human3d.people.tiles import box_iou_cover

DEMO = "17790319373_bd19b24cfc_k.jpg"
BENT_MAN = [370, 210, 480, 490]  # hand-labelled (benchmarks/labels/street_people.json)


@pytest.fixture(scope="module")
def seeder() -> SegmentationSeeder:
    pytest.importorskip("mediapipe")  # the model file ships in its wheel
    return SegmentationSeeder()


def test_each_large_enough_blob_gives_a_square_around_it(seeder, monkeypatch):
    blobs = np.zeros((INPUT_SIZE, INPUT_SIZE), np.float32)
    blobs[40:120, 100:140] = 0.9  # 80 x 40 cells
    blobs[200:202, 10:12] = 0.9  # under the least area
    blobs[150:200, 200:220] = 0.4  # under the probability
    monkeypatch.setattr(seeder, "probability", lambda square: blobs)
    image = np.zeros((512, 512, 3), np.uint8)  # one window: the whole image, 2 pixels per model cell
    assert 4 < MIN_BLOB_AREA * INPUT_SIZE * INPUT_SIZE < 80 * 40
    (centre, side), = seeder.regions(image)
    assert centre == pytest.approx((2 * 120, 2 * 80))
    assert side == pytest.approx(SEED_REGION_SCALE * 2 * 80)


def test_no_seed_in_a_flat_image(seeder):
    assert seeder.regions(np.full((300, 400, 3), 127, np.uint8)) == []


def test_a_seed_lies_on_the_man_bent_over_the_cart_and_the_finder_finds_him(seeder, finder, shared_dir):
    image = read_image(shared_dir / "photos" / "street" / DEMO)[..., :3]
    squares = [(cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2) for (cx, cy), side in seeder.regions(image)]
    assert max(box_iou_cover(square, BENT_MAN)[1] for square in squares) > 0.9  # his box lies inside a seed's square
    found = [person.box_xyxy for person in finder.find(image)]
    assert max(box_iou_cover(box, BENT_MAN)[0] for box in found) >= 0.5
