"""People in a video, frame after frame: searched for now and then, followed in between.

Searching a frame for people (:meth:`human3d.people.finder.PeopleFinder.find`: the detector, and with the
small-people pass tiles and HOG seeds) costs far more than looking where someone just was. As MediaPipe's
own video mode does, :class:`PeopleFollower` runs the landmark model alone (no detector) on a square
around each person's box of the last frame; a person it no longer sees there (score under the finder's
``min_score``) is dropped, and where two squares find the same person (a walker passing behind another)
one is kept (:func:`human3d.people.finder.merge_people`, every frame). The whole search runs on the first
frame, every ``search_every`` frames (to pick up people who came in; 12 frames is half a second at 24 fps),
and whenever nobody is followed.
"""

from __future__ import annotations

import numpy as np

from human3d.people.finder import PeopleFinder, Person, merge_people

FOLLOW_SCALE = 1.25  # the square looked in: this much the longer side of the person's last box
SEARCH_EVERY = 12  # frames between whole searches


class PeopleFollower:
    """Finds the people of consecutive video frames; see the module docstring. Build one per video."""

    def __init__(self, finder: PeopleFinder, search_every: int = SEARCH_EVERY) -> None:
        if search_every < 1:
            raise ValueError(f"search_every must be at least 1, got {search_every}")
        self.finder, self.search_every = finder, search_every
        self.last: list[Person] = []
        self.frame = -1

    def find(self, image: np.ndarray) -> list[Person]:
        """The people of the next frame (uint8 RGB [H, W, 3]), largest box first (ids are the tracker's job)."""
        self.frame += 1
        people = [person for person in (self.follow(image, last) for last in self.last) if person is not None]
        if not people or self.frame % self.search_every == 0:
            people += self.finder.find(image)
        people = merge_people(people)  # two squares that found the same person (one walker behind another)
        self.last = people[: self.finder.max_people]
        return list(self.last)

    def follow(self, image: np.ndarray, last: Person) -> Person | None:
        """``last``'s person in this frame, looked for around their last box; None when not seen there."""
        x1, y1, x2, y2 = (float(v) for v in last.box_xyxy)
        side = FOLLOW_SCALE * max(x2 - x1, y2 - y1, 8.0)
        return self.finder.look_in_square(image, ((x1 + x2) / 2, (y1 + y2) / 2), side)
