"""Following people through video frames: the landmark model alone where each person was, a search now and then."""

from __future__ import annotations

import numpy as np
import pytest

from human3d.io.images import read_image
from human3d.people.finder import Person
from human3d.people.following import PeopleFollower
from human3d.people.tiles import box_iou_cover


class CountingFinder:
    """A finder that counts its whole searches."""

    def __init__(self, finder):
        self.finder, self.searches = finder, 0
        self.max_people = finder.max_people

    def find(self, image):
        self.searches += 1
        return self.finder.find(image)

    def look_in_square(self, image, centre, side):
        return self.finder.look_in_square(image, centre, side)


def test_a_person_is_followed_between_searches_and_lost_when_gone(finder, shared_dir):
    photo = read_image(shared_dir / "photos" / "ryota.png")[..., :3]
    moved = np.roll(photo, 12, axis=1)  # the person a little to the right in the next frame
    empty = np.full_like(photo, 128)
    counting = CountingFinder(finder)
    follower = PeopleFollower(counting, search_every=3)
    first = follower.find(photo)
    assert len(first) == 1 and counting.searches == 1
    second = follower.find(moved)
    assert len(second) == 1 and counting.searches == 1  # followed, not searched
    shifted = first[0].box_xyxy + np.array([12, 0, 12, 0])
    assert box_iou_cover(second[0].box_xyxy, shifted)[0] > 0.85
    assert follower.find(empty) == [] and counting.searches == 2  # lost: searched again, nobody
    assert len(follower.find(photo)) == 1 and counting.searches == 3  # nobody followed: searched


def test_search_every_must_be_positive(finder):
    with pytest.raises(ValueError, match="search_every"):
        PeopleFollower(finder, search_every=0)


class OnePersonFinder:
    """A finder that sees one person wherever it looks (no models), as a square behind a walker's back can."""

    max_people = 20

    def __init__(self, box):
        self.box = np.array(box, np.float32)

    def find(self, image):
        return []

    def look_in_square(self, image, centre, side):
        return Person(self.box.copy(), 0.9, np.zeros((33, 4), np.float32), np.zeros((1, 1), bool),
                      np.zeros(4, np.float32))


def test_two_people_followed_onto_the_same_person_become_one_between_searches():
    follower = PeopleFollower(OnePersonFinder([40, 10, 80, 110]), search_every=100)
    first = OnePersonFinder([40, 10, 80, 110]).look_in_square(None, None, None)
    behind = OnePersonFinder([60, 12, 95, 108]).look_in_square(None, None, None)
    follower.frame, follower.last = 0, [first, behind]  # two people last frame, one passing behind the other
    assert len(follower.find(np.zeros((120, 160, 3), np.uint8))) == 1  # both squares found the front one
