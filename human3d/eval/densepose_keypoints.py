"""Keypoint-part agreement: do a DensePose result's part labels lie where the people finder's keypoints put
the body? A score for real photos, which have no DensePose truth.

For every COCO-17 keypoint the people finder sees (visibility at least :data:`MIN_KEYPOINT_SCORE`), the
labelled pixel of the result's picture (every person's labels pasted, higher scores on top) nearest the
keypoint, within :data:`RADIUS` pixels, must carry one of the keypoint's parts (:data:`KEYPOINT_PARTS`,
DensePose's numbering). A keypoint with no labelled pixel that near is a miss. The score is the fraction of
such keypoints that hit. It measures where parts lie and whether people are covered at all, not U,V.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from human3d.body.parts import HEAD_PARTS
from human3d.densepose.app.visualize import paste_iuv
from human3d.densepose.result import DensePoseResult
from human3d.people.landmarks import COCO17_NAMES

MIN_KEYPOINT_SCORE = 0.5
RADIUS = 3.0  # pixels
HEAD, TORSO = HEAD_PARTS, (1, 2)
KEYPOINT_PARTS: dict[str, frozenset[int]] = {
    "nose": frozenset(HEAD), "left_eye": frozenset(HEAD), "right_eye": frozenset(HEAD),
    "left_ear": frozenset(HEAD), "right_ear": frozenset(HEAD),
    "left_shoulder": frozenset(TORSO + (15, 17)), "right_shoulder": frozenset(TORSO + (16, 18)),
    "left_elbow": frozenset((15, 17, 19, 21)), "right_elbow": frozenset((16, 18, 20, 22)),
    "left_wrist": frozenset((4, 19, 21)), "right_wrist": frozenset((3, 20, 22)),
    "left_hip": frozenset(TORSO + (8, 10)), "right_hip": frozenset(TORSO + (7, 9)),
    "left_knee": frozenset((8, 10, 12, 14)), "right_knee": frozenset((7, 9, 11, 13)),
    "left_ankle": frozenset((5, 12, 14)), "right_ankle": frozenset((6, 11, 13)),
}
"""The DensePose parts (1..24) each COCO-17 keypoint may fall on."""


@dataclass
class KeypointAgreement:
    """Counts of one image or many: keypoints scored, hits, and keypoints with no label near them
    (``unlabelled``); ``by_keypoint`` holds (hits, scored) per COCO-17 name."""

    people: int = 0
    scored: int = 0
    hits: int = 0
    unlabelled: int = 0
    by_keypoint: dict[str, list[int]] = field(default_factory=lambda: {name: [0, 0] for name in COCO17_NAMES})

    @property
    def fraction(self) -> float:
        """Hits over scored keypoints (0 when none was scored)."""
        return self.hits / self.scored if self.scored else 0.0

    def add(self, other: KeypointAgreement) -> None:
        """Add another image's counts to these."""
        self.people += other.people
        self.scored += other.scored
        self.hits += other.hits
        self.unlabelled += other.unlabelled
        for name, (hits, scored) in other.by_keypoint.items():
            self.by_keypoint[name][0] += hits
            self.by_keypoint[name][1] += scored

    def as_dict(self) -> dict:
        """Plain numbers, for JSON."""
        return {"people": self.people, "keypoints": self.scored, "hits": self.hits, "unlabelled": self.unlabelled,
                "agreement": round(self.fraction, 4),
                "by_keypoint": {name: round(h / s, 4) if s else None for name, (h, s) in self.by_keypoint.items()}}


def nearest_label(labels: np.ndarray, x: float, y: float, radius: float = RADIUS) -> int:
    """The part of the labelled pixel of ``labels`` (H, W; 0 = none) whose centre lies nearest (x, y), within
    ``radius`` pixels; 0 when there is none."""
    height, width = labels.shape
    reach = int(np.ceil(radius))
    col, row = int(np.floor(x)), int(np.floor(y))
    rows = np.arange(max(0, row - reach), min(height, row + reach + 1))
    cols = np.arange(max(0, col - reach), min(width, col + reach + 1))
    if not len(rows) or not len(cols):
        return 0
    window = labels[rows[:, None], cols[None, :]]
    distance = np.hypot(cols[None, :] + 0.5 - x, rows[:, None] + 0.5 - y)
    distance = np.where((window > 0) & (distance <= radius), distance, np.inf)
    if not np.isfinite(distance).any():
        return 0
    return int(window.flat[int(np.argmin(distance))])


def keypoint_agreement(result: DensePoseResult, keypoints: list[np.ndarray], height: int, width: int
                       ) -> KeypointAgreement:
    """The agreement of one image's DensePose ``result`` with its people's COCO-17 ``keypoints`` (each
    [17, 3]: x, y, score, in the image's pixels) on a ``height`` x ``width`` image."""
    labels, _ = paste_iuv(result, height, width)
    counts = KeypointAgreement(people=len(keypoints))
    for person in keypoints:
        for name, (x, y, score) in zip(COCO17_NAMES, person):
            if score < MIN_KEYPOINT_SCORE:
                continue
            part = nearest_label(labels, float(x), float(y))
            hit = int(part in KEYPOINT_PARTS[name])
            counts.scored += 1
            counts.hits += hit
            counts.unlabelled += int(part == 0)
            counts.by_keypoint[name][0] += hit
            counts.by_keypoint[name][1] += 1
    return counts
