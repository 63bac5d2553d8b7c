"""Which leg is which, frame after frame: the people finder's knees and ankles against a person's last fit.

Seen in profile, a walker's legs look alike, and the finder now and then labels the left knee and ankle as
the right ones for a few frames (10 % of person-frames on synthetic walkers). A fit follows such labels and
its legs jump. But a fit can also be the one in the wrong: a person first fitted while their legs cross
picks one leg order by chance and keeps it. So, per person, with hysteresis:

- when the finder's knees and ankles lie far nearer the last fit's with left and right exchanged
  (:func:`legs_swapped`), the finder is overruled (its labels exchanged, :func:`swap_leg_targets`) for up to
  ``patience`` frames in a row;
- when it keeps disagreeing beyond that, and the person is seen from the side (:func:`seen_sideways`), the
  fit was the one in the wrong: the finder's labels are kept, and the fit's legs are exchanged instead
  (:func:`mirrored_legs`: each leg takes the other's rotations, mirrored), so that the fit starts with its
  legs on the finder's sides.
"""

from __future__ import annotations

import numpy as np

LOWER_LEGS = ((13, 14), (15, 16))  # COCO-17 knees and ankles, left and right
LEG_BONES = (("upperleg01.L", "upperleg01.R"), ("lowerleg01.L", "lowerleg01.R"), ("foot.L", "foot.R"))
MIRROR_ROTATION = np.array([1.0, -1.0, -1.0])
"""A rotation vector about the world-aligned bone axes (x = the person's left) mirrored left for right."""

Targets = tuple[np.ndarray, np.ndarray, np.ndarray]  # a person's COCO-17 pixels, weights and relative depths


def legs_swapped(targets: Targets, last: np.ndarray, margin: float = 0.85) -> bool:
    """Whether the finder's knees and ankles (``targets``: pixels (17, 2), weights (17,), depths (17,)) lie
    nearer a person's last fitted keypoints ``last`` (17, 2) with left and right exchanged, by ``margin`` of
    the distance as labelled."""
    points, weight, _ = targets
    left, right = [pair[0] for pair in LOWER_LEGS], [pair[1] for pair in LOWER_LEGS]
    seen = np.minimum(weight[left], weight[right])
    kept = (seen * (np.linalg.norm(points[left] - last[left], axis=1)
                    + np.linalg.norm(points[right] - last[right], axis=1))).sum()
    swapped = (seen * (np.linalg.norm(points[left] - last[right], axis=1)
                       + np.linalg.norm(points[right] - last[left], axis=1))).sum()
    return bool(swapped < margin * kept)


def swap_leg_targets(targets: Targets) -> Targets:
    """``targets`` with the knees' and ankles' left and right exchanged."""
    order = np.arange(len(targets[0]))
    left, right = [pair[0] for pair in LOWER_LEGS], [pair[1] for pair in LOWER_LEGS]
    order[left + right] = right + left
    return targets[0][order], targets[1][order], targets[2][order]


def mirrored_legs(pose: np.ndarray, bones: list[str]) -> np.ndarray:
    """Bone rotations ``pose`` (len(bones), 3) with the legs exchanged: each leg bone takes the other side's
    rotation, mirrored left for right (the other bones are unchanged)."""
    mirrored = pose.copy()
    for left, right in LEG_BONES:
        if left in bones and right in bones:
            i, j = bones.index(left), bones.index(right)
            mirrored[i], mirrored[j] = pose[j] * MIRROR_ROTATION, pose[i] * MIRROR_ROTATION
    return mirrored


def seen_sideways(keypoints: np.ndarray, height: float, ratio: float = 0.05) -> bool:
    """Whether a fit whose COCO-17 keypoints project to ``keypoints`` (17, 2) is seen from the side: its hips
    less than ``ratio`` of its box ``height`` apart in the image (facing the camera: about 0.1)."""
    return bool(np.linalg.norm(keypoints[11] - keypoints[12]) < ratio * height)


def leg_sides(targets: Targets, last: np.ndarray, height: float, doubts: int,
              patience: int) -> tuple[Targets, int, bool]:
    """A warm-started person's targets, their new doubt count and whether their fit's legs must be exchanged
    (see the module docstring). ``last``: the last fit's keypoints (17, 2); ``height``: the person's box
    height; ``doubts``: the frames in a row the finder has disagreed with the person's fits so far. Only a
    person seen from the side gets their legs exchanged: facing the camera, exchanged legs would have to
    cross, so there the finder is always overruled."""
    if not legs_swapped(targets, last):
        return targets, 0, False
    if doubts < patience or not seen_sideways(last, height):
        return swap_leg_targets(targets), doubts + 1, False
    return targets, 0, True
