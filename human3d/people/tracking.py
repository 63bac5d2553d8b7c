"""Ids kept across video frames: greedy box matching with a short memory for people who are hidden a while."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from human3d.people.finder import Person
from human3d.people.tiles import box_iou_cover

MATCH_IOU = 0.3  # a person in a new frame continues a track whose last box overlaps this much


@dataclass
class Track:
    """One id: the last box seen and the frame it was seen in."""

    id: int
    box_xyxy: np.ndarray
    frame: int


class PeopleTracker:
    """Gives each person of each frame an id; a track unseen for more than ``memory`` frames ends."""

    def __init__(self, memory: int = 30) -> None:
        self.memory = memory
        self.tracks: list[Track] = []
        self.next_id = 0
        self.frame = -1

    def update(self, people: list[Person]) -> list[Person]:
        """Set ``id`` on each of this frame's ``people`` (best overlap first) and return them."""
        self.frame += 1
        self.tracks = [t for t in self.tracks if self.frame - t.frame <= self.memory]
        pairs = sorted(((box_iou_cover(p.box_xyxy, t.box_xyxy)[0], i, j) for i, p in enumerate(people)
                        for j, t in enumerate(self.tracks)), reverse=True)
        taken_people, taken_tracks = set(), set()
        for iou, i, j in pairs:
            if iou < MATCH_IOU:
                break
            if i in taken_people or j in taken_tracks:
                continue
            taken_people.add(i)
            taken_tracks.add(j)
            people[i].id = self.tracks[j].id
            self.tracks[j].box_xyxy, self.tracks[j].frame = people[i].box_xyxy, self.frame
        for i, person in enumerate(people):
            if i not in taken_people:
                person.id = self.next_id
                self.tracks.append(Track(self.next_id, person.box_xyxy, self.frame))
                self.next_id += 1
        return people
