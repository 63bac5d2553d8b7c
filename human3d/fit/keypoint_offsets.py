"""Where the people finder's keypoints sit on anny: small fixed offsets, calibrated on the data engine.

anny's COCO-17 keypoints are its own regressor over its vertices; the people finder's (BlazePose's) are
where its network learnt to put them, and the two differ by a centimetre or two in a consistent way (on
synthetic people whose true body is known, BlazePose puts the shoulders, hips, knees and ankles 1 to 2 cm
higher on the body than anny's regressor, its ears 2 cm further forward, its knees 1 cm further in). A
fit that matches one to the other bends the body to make up the difference. So the fitter matches the
finder's keypoints to anny's keypoints moved by one offset each, fixed in the bone that carries the
keypoint (its rotation turns it), in metres, left and right mirrored.

The offsets are calibrated (:mod:`human3d.fit.offset_calibration`) from synthetic clips with their truth
(``human3d synth-clip``): for every person the finder finds in a frame, the true body is posed through the
keypoint rig, moved by the offsets, projected with the clip's camera and compared with the finder's
keypoints; the offsets that fit best over all of them are kept in ``human3d/data/keypoint_offsets.json``,
with the seeds they came from. The output joints of a fit stay anny's own (the offsets only move the
targets). Recalibrate with ``python -m human3d.fit.offset_calibration CLIPS_DIR``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from human3d.body.keypoint_rig import KeypointRig
from human3d.body.keypoints import COCO17_NAMES

OFFSETS_PATH = Path(__file__).resolve().parent.parent / "data" / "keypoint_offsets.json"
MIRROR = (0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15)  # COCO-17 left <-> right
ALONE = tuple(k for k in range(17) if MIRROR[k] >= k)  # the keypoints whose offset is free: nose and the left ones


def carrying_groups(rig: KeypointRig) -> torch.Tensor:
    """Per rig point, the rig group that carries most of its weight [K]."""
    return rig.masses.argmax(dim=0)


def mirrored(free: torch.Tensor) -> torch.Tensor:
    """All 17 offsets [17, 3] from the free ones [len(ALONE), 3]: a right keypoint's is its left one's with
    x (the body's left) negated; the nose's x is 0."""
    flip = free.new_tensor([-1.0, 1.0, 1.0])
    rows = {}
    for index, keypoint in enumerate(ALONE):
        rows[MIRROR[keypoint]] = free[index] * flip
        rows[keypoint] = free[index] * (flip.clamp(min=0.0) if MIRROR[keypoint] == keypoint else 1.0)
    return torch.stack([rows[k] for k in range(17)])


def offset_moments(rig: KeypointRig, offsets: torch.Tensor) -> torch.Tensor:
    """What to add to a shaped rig's moments [G, K, 3] so that its first 17 points (COCO-17) move by
    ``offsets`` [17, 3] (A-pose world axes), each in the frame of the group that carries it: a moment's
    shift is turned by its group's rotation and not shifted by its head."""
    moments = offsets.new_zeros(len(rig.bones) + 1, rig.masses.shape[1], 3)
    moments[carrying_groups(rig)[:17], torch.arange(17)] = offsets
    return moments


def load_offsets(path: Path = OFFSETS_PATH) -> np.ndarray:
    """The calibrated offsets [17, 3] (metres, A-pose world axes), as shipped with the package."""
    document = json.loads(path.read_text())
    return np.array([document["offsets_m"][name] for name in COCO17_NAMES], dtype=np.float32)
