"""A person seen from behind whom the body fit turned to face the camera: which of the two ways they face.

BlazePose names a back's landmarks at times as if the person faced the camera (their left shoulder on the
image's right); so does the light DensePose, and the fit (:mod:`human3d.fit.body_fit`) turns them round,
squarely toward the camera: the right outline, the depth mirrored (one such fit of ten synthetic held-out
people cost 0.57 cm of the set's mean Chamfer). Nothing in the keypoints tells the two apart, nor does any
single other cue reliably (on 270 synthetic renders); the turned fit (:func:`fit_person` with ``turned``) is
kept only when all of these say so (:func:`maybe_from_behind`, then :func:`likelier_body`):

1. the fit faces the camera squarely (:data:`SQUARELY`: the three such wrong fits among the 270 renders all
   faced it at 0.97 or more);
2. no face is found on the person's head (:meth:`human3d.people.faces.FaceFinder.sees_face`: found on 91 %
   of rendered people facing the camera, 3 % of those facing away), a head large enough for a face to be found
   (:data:`MIN_FACE_PIXELS`: on the street photos the detector misses faces of people a few dozen pixels tall);
3. where the face would be, the colour is unlike the hands' (:func:`head_unlike_hands`: hair or a hood,
   not skin; a face the detector missed, as on dark skin in shadow, matches the hands);
4. the image's own network agrees with the turned body clearly more than with the fitted one
   (:func:`network_agreement`, by :data:`MIN_GAIN`). Alone it would turn more right fits than it mends
   (on 30 held-out and 150 training renders six right fits passed 0.1, and the three wrong ones).

Together they turned exactly the three wrong fits among the 270 renders, none of the 12 statue scans and
none of the people in the street photos (of whom three small ones facing the camera passed cues 1 and 3, and
the network would have turned one of them).
"""

from __future__ import annotations

from typing import Callable

import cv2
import numpy as np
import torch

from human3d.fit.body_fit import BodyFit
from human3d.people.faces import default_face_finder
from human3d.people.finder import Person
from human3d.people.landmarks import LANDMARK_NAMES
from human3d.people.tiles import box_pixels
from human3d.pifuhd.body_guide import BodyGuide

SQUARELY = 0.9  # a fit facing the camera at least this much (the cosine of its turn from it) may be turned round
MIN_FACE_PIXELS = 40.0  # a face box smaller than this (its larger side) says nothing by holding no face found
HAIR_DISTANCE = 30.0  # CIELAB distance (OpenCV's 8-bit scale) between the head's and the hands' median colours
HANDS = tuple(LANDMARK_NAMES.index(f"{side}_{part}")
              for side in ("left", "right") for part in ("pinky", "index", "thumb"))  # the hands' landmarks
MIN_GAIN = 0.1  # the turned body's agreement must exceed the fitted one's by this (:func:`network_agreement`)
AGREEMENT_POINTS = 40_000  # points drawn over the person's pixels
AGREEMENT_DEPTH = 0.6  # ... at crop depths uniform in [-this, this]
AGREEMENT_SEED = 0

Occupancy = Callable[[np.ndarray], np.ndarray]  # crop-frame points (N, 3) -> occupancy in [0, 1] (N,)


def agreement_points(mask: np.ndarray, count: int = AGREEMENT_POINTS, seed: int = AGREEMENT_SEED) -> np.ndarray:
    """Points (N, 3) float32 in the crop frame, uniform over the pixels of ``mask`` (bool [S, S] over the crop) and
    over crop depths [-:data:`AGREEMENT_DEPTH`, :data:`AGREEMENT_DEPTH`]; none when the mask is empty."""
    rows, columns = np.nonzero(mask)
    if len(rows) == 0:
        return np.zeros((0, 3), np.float32)
    rng = np.random.default_rng(seed)
    picked = rng.integers(0, len(rows), count)
    half = mask.shape[0] / 2
    return np.stack([(columns[picked] + rng.random(count)) / half - 1, 1 - (rows[picked] + rng.random(count)) / half,
                     rng.uniform(-AGREEMENT_DEPTH, AGREEMENT_DEPTH, count)], axis=1).astype(np.float32)


def network_agreement(guide: BodyGuide, inside: np.ndarray, points: np.ndarray) -> float:
    """The share of ``points`` inside ``guide``'s body that the network holds inside (``inside``: bool (N,), its
    occupancy over 0.5 at the same points); 0 when none is inside the body."""
    with torch.no_grad():
        distance = guide.features(torch.from_numpy(np.ascontiguousarray(points.T))[None])[0, 0].numpy()
    in_body = distance < 0
    return float((in_body & inside).sum()) / max(float(in_body.sum()), 1.0)


def likelier_body(fitted: BodyGuide, turned: BodyGuide, occupancy: Occupancy, mask: np.ndarray) -> BodyGuide:
    """``turned`` (the person fitted facing the other way) when the network's ``occupancy`` agrees with it by
    :data:`MIN_GAIN` more than with ``fitted``, else ``fitted``; ``mask``: the person's pixels over the crop."""
    points = agreement_points(mask)
    if len(points) == 0:
        return fitted
    inside = np.asarray(occupancy(points)) > 0.5
    gain = network_agreement(turned, inside, points) - network_agreement(fitted, inside, points)
    return turned if gain > MIN_GAIN else fitted


def facing(fit: BodyFit) -> float:
    """How much a fitted body faces the camera: 1 squarely, 0 side-on, -1 turned away (the cosine)."""
    return -float(fit.rotation[2, 2])  # the body's forward axis (+z) in the camera frame (+z away from it)


def head_unlike_hands(rgb: np.ndarray, person: Person) -> bool:
    """Whether the middle of ``person``'s face box (half its size) differs in colour from their hands (patches
    at the hand landmarks that fall on their mask) by :data:`HAIR_DISTANCE` in CIELAB; False when no hand is
    on the mask (gloves, pockets, out of view: nothing to compare)."""
    x0, y0, x1, y1 = (float(v) for v in person.face_box_xyxy)
    size = max(x1 - x0, y1 - y0)
    height, width = rgb.shape[:2]

    def patch(x: float, y: float, half: float) -> np.ndarray:
        left, top, right, bottom = box_pixels((x - half, y - half, x + half, y + half), rgb.shape[:2])
        return rgb[top:bottom, left:right, :3].reshape(-1, 3)

    hands = [patch(x, y, max(size / 10, 1.0)) for x, y in person.landmarks[list(HANDS), :2]
             if 0 <= x < width and 0 <= y < height and person.mask[int(y), int(x)]]
    head = patch((x0 + x1) / 2, (y0 + y1) / 2, size / 4)
    if not hands or not len(head):
        return False
    head_colour, hand_colour = (np.median(cv2.cvtColor(np.ascontiguousarray(pixels[None]), cv2.COLOR_RGB2LAB)[0]
                                          .astype(np.float32), axis=0) for pixels in (head, np.concatenate(hands)))
    return float(np.linalg.norm(head_colour - hand_colour)) > HAIR_DISTANCE


def maybe_from_behind(rgb: np.ndarray, person: Person, fit: BodyFit) -> bool:
    """Whether ``person`` of the photo ``rgb`` (uint8 [H, W, 3]), fitted squarely facing the camera, may have been
    seen from behind: their head is large enough to find a face on, none is found, and it is unlike their hands
    (cues 1 to 3 above)."""
    x0, y0, x1, y1 = (float(v) for v in person.face_box_xyxy)
    return (facing(fit) >= SQUARELY and max(x1 - x0, y1 - y0) >= MIN_FACE_PIXELS
            and not default_face_finder().sees_face(rgb, person.face_box_xyxy) and head_unlike_hands(rgb, person))
