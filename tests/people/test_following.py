"""Following people through video frames: the landmark model alone where each person was, a search now and then."""

from __future__ import annotations

import numpy as np
import pytest

from human3d.io.images import read_image
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
