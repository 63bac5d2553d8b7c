"""Ids across video frames: box overlap with where each track is heading, and the people's looks where boxes
alone are ambiguous (two walkers crossing) or a hidden person comes back."""

from __future__ import annotations

import numpy as np

from human3d.people.appearance import HIPS, people_looks
from human3d.people.finder import Person
from human3d.people.tracking import PeopleTracker

RED, BLUE = (200, 30, 30), (30, 40, 210)
HEIGHT, WIDTH = 100, 240


def person_at(box: list[float], image: np.ndarray | None = None, colour: tuple[int, int, int] = RED) -> Person:
    """A person with a box (and, with ``image``, a mask filling it, painted in ``colour``; hips at its middle)."""
    x1, y1, x2, y2 = (int(v) for v in box)
    landmarks = np.zeros((33, 4), np.float32)
    landmarks[HIPS, 1] = (y1 + y2) / 2
    mask = np.zeros((1, 1), bool)
    if image is not None:
        mask = np.zeros(image.shape[:2], bool)
        mask[y1:y2, x1:x2] = True
        image[mask] = colour
    return Person(np.array(box, np.float32), 0.9, landmarks, mask, np.zeros(4, np.float32))


def frame_with(*people: tuple[list[float], tuple[int, int, int]]) -> tuple[np.ndarray, list[Person]]:
    """A grey frame with each (box, colour) person painted in order (later ones in front, covering the mask of
    those behind)."""
    image = np.full((HEIGHT, WIDTH, 3), 128, np.uint8)
    found = [person_at(box, image, colour) for box, colour in people]
    for k, person in enumerate(found):
        for later in found[k + 1:]:
            person.mask &= ~later.mask
    return image, found


def test_ids_keep_through_a_short_gap_and_new_people_get_new_ids():
    tracker = PeopleTracker(memory=3)
    first = tracker.update([person_at([0, 0, 10, 20]), person_at([50, 0, 60, 20])])
    assert [p.id for p in first] == [0, 1]
    tracker.update([person_at([1, 0, 11, 20])])  # person 1 hidden for one frame
    again = tracker.update([person_at([52, 0, 62, 20]), person_at([2, 0, 12, 20]), person_at([100, 0, 110, 20])])
    assert [p.id for p in again] == [1, 0, 2]


def test_a_track_is_matched_where_it_is_heading():
    tracker = PeopleTracker()
    for step in range(4):  # 10 pixels a frame to the right
        tracker.update([person_at([10 * step, 0, 10 * step + 20, 80])])
    # hidden two frames: at 60 now, where its last box (30..50) overlaps nothing, its predicted box (60..80) all
    tracker.update([])
    tracker.update([])
    assert [p.id for p in tracker.update([person_at([60, 0, 80, 80])])] == [0]


def test_two_walkers_crossing_keep_their_ids_by_their_clothes():
    for last_order in ((0, 1), (1, 0)):
        tracker = PeopleTracker()
        for step in range(4):  # red walks right, blue left, 10 pixels a frame; they meet at 80..110
            red, blue = [40 + 10 * step, 10, 70 + 10 * step, 90], [120 - 10 * step, 10, 150 - 10 * step, 90]
            image, people = frame_with((red, RED), (blue, BLUE))
            assert [p.id for p in tracker.update(people, image)] == [0, 1]
        # crossed: both boxes overlap both tracks' predicted boxes equally; only the colours tell them apart
        image, people = frame_with(([86, 10, 116, 90], RED), ([76, 10, 106, 90], BLUE))
        ordered = [people[k] for k in last_order]
        tracker.update(ordered, image)
        assert (people[0].id, people[1].id) == (0, 1)  # red, blue


def test_a_hidden_person_is_found_again_by_their_looks():
    def run(with_images: bool) -> int:
        tracker = PeopleTracker(memory=24)
        for step in range(4):  # 8 pixels a frame, then hidden while slowing to 2
            image, people = frame_with(([20 + 8 * step, 10, 50 + 8 * step, 90], RED))
            tracker.update(people, image if with_images else None)
        for _ in range(8):
            tracker.update([], None)
        image, people = frame_with(([70, 10, 100, 90], RED))  # predicted at 44 + 64 = 108: no overlap
        return tracker.update(people, image if with_images else None)[0].id

    assert run(with_images=True) == 0
    assert run(with_images=False) == 1  # by boxes alone a new person


def test_looks_compare_colours_and_ignore_pixels_two_masks_claim():
    image, (red, blue) = frame_with(([10, 10, 40, 90], RED), ([100, 10, 130, 90], BLUE))
    image2, (red2, blue2) = frame_with(([20, 10, 50, 90], RED), ([90, 10, 120, 90], BLUE))
    looks, looks2 = people_looks(image, [red, blue]), people_looks(image2, [red2, blue2])
    assert looks[0].similarity(looks2[0]) > 0.99 and looks[1].similarity(looks2[1]) > 0.99
    assert looks[0].similarity(looks2[1]) < 0.01
    # a second mask over the red person's left half: only the right half is described, still red
    image3 = image.copy()
    cover = person_at([10, 10, 25, 90])
    cover.mask = np.zeros(image.shape[:2], bool)
    cover.mask[10:90, 10:25] = True
    both = people_looks(image3, [red, cover])
    assert both[0].similarity(looks[0]) > 0.99 and both[1].upper is None and both[1].lower is None
