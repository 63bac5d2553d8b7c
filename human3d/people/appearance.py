"""What a person looks like, as colour histograms of their upper and lower body: the tracker's cue for telling
two people apart where their boxes overlap (two walkers crossing).

A person's pixels are their mask less every other person's mask in the frame (pixels two masks claim belong
to neither); the hips' landmarks split them into an upper and a lower part. Each part is a hue-saturation-value
histogram (:data:`BINS`), normalised to sum 1; two looks compare by the Bhattacharyya coefficient of each part
(1: the same colours, 0: none in common), averaged over the parts both looks have.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from human3d.people.finder import Person
from human3d.people.landmarks import LANDMARK_NAMES
from human3d.people.tiles import box_pixels

BINS = (12, 4, 4)  # hue, saturation, value
MIN_PIXELS = 150  # fewer of a part's own (sampled) pixels than this: that part is not described
SAMPLED_ROWS = 128  # a taller box is sampled every k-th row and column, so that about this many rows are read
HIPS = [LANDMARK_NAMES.index("left_hip"), LANDMARK_NAMES.index("right_hip")]


@dataclass
class Looks:
    """Colour histograms of a person's upper and lower body (each None where too few pixels were seen)."""

    upper: np.ndarray | None
    lower: np.ndarray | None

    def similarity(self, other: Looks) -> float | None:
        """The Bhattacharyya coefficient of the parts both have, averaged; None when they share none."""
        shared = [float(np.sqrt(a * b).sum()) for a, b in ((self.upper, other.upper), (self.lower, other.lower))
                  if a is not None and b is not None]
        return float(np.mean(shared)) if shared else None

    def blended(self, other: Looks, weight: float) -> Looks:
        """These looks moved toward ``other`` by ``weight`` (0: unchanged, 1: ``other``), part by part."""
        def blend(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
            return b if a is None else a if b is None else (1 - weight) * a + weight * b

        return Looks(blend(self.upper, other.upper), blend(self.lower, other.lower))


def part_histogram(hsv: np.ndarray, mask: np.ndarray) -> np.ndarray | None:
    """The normalised HSV histogram of ``hsv`` (uint8 [H, W, 3], OpenCV's hue range 0-179) under ``mask``."""
    if mask.sum() < MIN_PIXELS:
        return None
    histogram = cv2.calcHist([hsv], [0, 1, 2], mask.astype(np.uint8), list(BINS), [0, 180, 0, 256, 0, 256])
    return (histogram / histogram.sum()).ravel()


def people_looks(image: np.ndarray, people: list[Person]) -> list[Looks]:
    """Each person's :class:`Looks` in ``image`` (uint8 RGB [H, W, 3]); people whose masks are not the image's
    size (or empty) look like nothing (both parts None). Only pixels inside each box are read (a tall box's
    sampled on a grid: :data:`SAMPLED_ROWS`)."""
    size = image.shape[:2]
    masks = [person.mask if person.mask.shape == size else None for person in people]
    looks = []
    for index, (person, mask) in enumerate(zip(people, masks)):
        x1, y1, x2, y2 = box_pixels(person.box_xyxy, size)
        if mask is None or x2 <= x1 or y2 <= y1:
            looks.append(Looks(None, None))
            continue
        step = max(1, (y2 - y1) // SAMPLED_ROWS)
        rows, cols = slice(y1, y2, step), slice(x1, x2, step)
        own = mask[rows, cols].copy()
        for other, other_mask in enumerate(masks):
            if other != index and other_mask is not None:
                own &= ~other_mask[rows, cols]
        hsv = cv2.cvtColor(np.ascontiguousarray(image[rows, cols, :3]), cv2.COLOR_RGB2HSV)
        upper = np.arange(y1, y2, step)[:, None] < float(np.asarray(person.landmarks)[HIPS, 1].mean())
        looks.append(Looks(part_histogram(hsv, own & upper), part_histogram(hsv, own & ~upper)))
    return looks
