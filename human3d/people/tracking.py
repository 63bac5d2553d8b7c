"""Ids kept across video frames: boxes matched to where each track is heading, told apart by their looks where
they overlap, with a short memory for people who are hidden a while.

Each track remembers its last box, how fast its centre moves (smoothed from frame to frame) and what the person
looks like (:mod:`human3d.people.appearance`, learnt while nobody overlaps them). A new frame's people are
matched to the tracks at once (Hungarian): a pair counts when the person's box overlaps the track's box moved on
at its speed by at least :data:`MATCH_IOU` (or, for a track hidden a while, when the person looks much the same
near where it was heading: :func:`match_score`), and scores that overlap plus :data:`LOOKS_WEIGHT` times how
alike the two look. Where two walkers cross, their boxes overlap both tracks almost equally, and their clothes
decide.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from human3d.people.appearance import Looks, people_looks
from human3d.people.finder import Person
from human3d.people.tiles import box_iou_cover

MATCH_IOU = 0.3  # a person continues a track whose predicted box they overlap at least this much
LOOKS_WEIGHT = 1.0  # how much looking alike (0 to 1) counts beside the box overlap (0 to 1)
SPEED_SMOOTHING = 0.5  # the weight of the newest step in a track's smoothed speed
LOOKS_LEARNING = 0.3  # the weight of a new sighting in a track's looks
CLEAR_COVER = 0.2  # a person whose box covers (or is covered by) another's by more is not learnt from
REFIND_LOOKS = 0.8  # a track hidden a while continues with a person this alike (0 to 1) ...
REFIND_REACH = 0.1  # ... within this many of its box heights per frame hidden of its predicted place


@dataclass
class Track:
    """One id: the last box seen, the frame it was seen in, its centre's speed (pixels per frame) and looks."""

    id: int
    box_xyxy: np.ndarray
    frame: int
    speed: np.ndarray = field(default_factory=lambda: np.zeros(2))
    looks: Looks | None = None

    def predicted_box(self, frame: int) -> np.ndarray:
        """The last box moved on at the track's speed to ``frame``."""
        shift = self.speed * (frame - self.frame)
        return np.asarray(self.box_xyxy, dtype=np.float64) + np.concatenate([shift, shift])

    def see(self, box: np.ndarray, frame: int, looks: Looks | None, clear: bool) -> None:
        """Continue the track with a sighting; its looks are learnt only from a ``clear`` one."""
        step = (box_centre(box) - box_centre(self.box_xyxy)) / max(1, frame - self.frame)
        self.speed = SPEED_SMOOTHING * step + (1 - SPEED_SMOOTHING) * self.speed
        self.box_xyxy, self.frame = box, frame
        if looks is not None and clear:
            self.looks = looks if self.looks is None else self.looks.blended(looks, LOOKS_LEARNING)


def box_centre(box: np.ndarray) -> np.ndarray:
    """An xyxy box's centre (x, y)."""
    return np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2], dtype=np.float64)


def match_score(track: Track, box: np.ndarray, looks: Looks | None, frame: int) -> float:
    """How well a person (``box``, ``looks``) of ``frame`` continues ``track``: the overlap of their box with the
    track's predicted one, plus :data:`LOOKS_WEIGHT` times how alike they look (a neutral 0.5 when either look
    is unknown); -inf when they cannot be the same. A box overlapping less than :data:`MATCH_IOU` continues only
    a track hidden for a while (its speed is a guess by then) whose looks it shares (:data:`REFIND_LOOKS`), within
    :data:`REFIND_REACH` box heights per frame hidden of where the track was heading."""
    predicted = track.predicted_box(frame)
    iou = box_iou_cover(box, predicted)[0]
    alike = looks.similarity(track.looks) if looks is not None and track.looks is not None else None
    if iou >= MATCH_IOU:
        return iou + LOOKS_WEIGHT * (0.5 if alike is None else alike)
    hidden = frame - track.frame - 1
    reach = REFIND_REACH * hidden * (predicted[3] - predicted[1])
    if hidden > 0 and alike is not None and alike >= REFIND_LOOKS and \
            np.linalg.norm(box_centre(box) - box_centre(predicted)) <= reach:
        return iou + LOOKS_WEIGHT * alike
    return -np.inf


class PeopleTracker:
    """Gives each person of each frame an id; a track unseen for more than ``memory`` frames ends."""

    def __init__(self, memory: int = 30) -> None:
        self.memory = memory
        self.tracks: list[Track] = []
        self.next_id = 0
        self.frame = -1

    def update(self, people: list[Person], image: np.ndarray | None = None) -> list[Person]:
        """Set ``id`` on each of this frame's ``people`` and return them; with the frame's ``image`` (uint8 RGB)
        the people's looks help where boxes alone are ambiguous."""
        self.frame += 1
        self.tracks = [t for t in self.tracks if self.frame - t.frame <= self.memory]
        looks = people_looks(image, people) if image is not None else [None] * len(people)
        scores = np.full((len(people), len(self.tracks)), -np.inf)
        for i, person in enumerate(people):
            for j, track in enumerate(self.tracks):
                scores[i, j] = match_score(track, person.box_xyxy, looks[i], self.frame)
        matched = set()
        if scores.size and np.isfinite(scores).any():
            rows, cols = linear_sum_assignment(np.where(np.isfinite(scores), -scores, 1e6))
            for i, j in zip(rows, cols):
                if np.isfinite(scores[i, j]):
                    matched.add(i)
                    people[i].id = self.tracks[j].id
                    self.tracks[j].see(people[i].box_xyxy, self.frame, looks[i], clear(people, i))
        for i, person in enumerate(people):
            if i not in matched:
                person.id = self.next_id
                track = Track(self.next_id, person.box_xyxy, self.frame)
                track.see(person.box_xyxy, self.frame, looks[i], clear(people, i))
                self.tracks.append(track)
                self.next_id += 1
        return people


def clear(people: list[Person], index: int) -> bool:
    """Whether person ``index``'s box overlaps no other person's by more than :data:`CLEAR_COVER`."""
    return all(box_iou_cover(people[index].box_xyxy, other.box_xyxy)[1] <= CLEAR_COVER
               for k, other in enumerate(people) if k != index)
