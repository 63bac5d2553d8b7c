"""The pose guide of the light people model: what the people finder knows of a person, drawn over their crop.

The people finder (trained on real photos) says where a person's joints are and which pixels are theirs;
the light network (trained on synthetic people) says which part each pixel is and where on its chart. The
guide hands the first to the second as :data:`GUIDE_CHANNELS` images the size of the crop, stacked with
it as the network's input:

* one channel per limb of :data:`LIMBS` (left and right kept apart): a Gaussian ridge along the segment
  between its two COCO-17 keypoints, :data:`GUIDE_SIGMA` times the crop's side wide; 0 where either
  keypoint's score is under :data:`MIN_SCORE`;
* one channel for the head (nose to eyes to ears), drawn the same way;
* the person's mask (1 inside).

So the network need not guess left from right, or an arm across the chest from the chest, from the
picture alone. The ridges are drawn at a quarter of the crop's resolution and enlarged (they are smooth).
Far from its segment a ridge is exactly 0 rather than a subnormal float: on an Intel Xeon those made
drawing a guide 4x slower and the network's first layer slower too. Guides are channels-last (S, S, C),
as the crops are, so a batch goes to the network without a transposing copy.
"""

from __future__ import annotations

import cv2
import numpy as np

LIMBS: tuple[tuple[tuple[int, int], ...], ...] = (
    ((5, 7),), ((7, 9),), ((6, 8),), ((8, 10),),  # left upper arm, left forearm, right upper arm, right forearm
    ((11, 13),), ((13, 15),), ((12, 14),), ((14, 16),),  # left thigh, left shin, right thigh, right shin
    ((5, 11),), ((6, 12),), ((5, 6),), ((11, 12),),  # left flank, right flank, shoulders, hips
    ((0, 1), (0, 2), (1, 3), (2, 4)),  # head: nose to eyes to ears
)
"""Each guide channel's segments, as pairs of COCO-17 keypoint indices."""
GUIDE_CHANNELS = len(LIMBS) + 1  # the limbs and the mask
GUIDE_SIGMA = 0.03  # ridge width (Gaussian sigma) as a fraction of the crop's side
MIN_SCORE = 0.5  # a keypoint under this score is not drawn
DRAW_STRIDE = 4  # ridges are drawn at 1/DRAW_STRIDE of the crop's resolution
RIDGE_CUTOFF = -30.0  # a ridge is 0 where its Gaussian's exponent is under this (exp(-30) is 1e-13)


def limb_ridges(keypoints: np.ndarray, size: int) -> np.ndarray:
    """The limb and head channels (size, size, len(LIMBS)) float32 in 0..1 for ``keypoints`` (17, 3: x, y in
    the crop's pixels, score)."""
    cells = max(1, size // DRAW_STRIDE)
    step = size / cells
    centres = (np.arange(cells, dtype=np.float32) + 0.5) * step
    px, py = centres[None, :], centres[:, None]
    sigma = GUIDE_SIGMA * size
    drawn = np.zeros((cells, cells, len(LIMBS)), np.float32)
    seen = keypoints[:, 2] >= MIN_SCORE
    for channel, segments in enumerate(LIMBS):
        for a, b in segments:
            if not (seen[a] and seen[b]):
                continue
            (ax, ay), (bx, by) = keypoints[a, :2], keypoints[b, :2]
            dx, dy = bx - ax, by - ay
            t = np.clip(((px - ax) * dx + (py - ay) * dy) / max(dx * dx + dy * dy, 1e-6), 0.0, 1.0)
            exponent = ((px - ax - t * dx) ** 2 + (py - ay - t * dy) ** 2) * np.float32(-0.5 / (sigma * sigma))
            ridge = np.exp(np.maximum(exponent, RIDGE_CUTOFF))
            ridge[exponent < RIDGE_CUTOFF] = 0.0  # no subnormal floats: they slow every later step
            np.maximum(drawn[..., channel], ridge, out=drawn[..., channel])
    if cells == size:
        return drawn
    return cv2.resize(drawn, (size, size), interpolation=cv2.INTER_LINEAR).reshape(size, size, len(LIMBS))


def pose_guide(keypoints: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The guide (S, S, :data:`GUIDE_CHANNELS`) float32 of one crop: ``keypoints`` (17, 3: x, y in the crop's
    pixels, score) and the person's ``mask`` over the crop (S, S; bool or 0..1)."""
    size = mask.shape[0]
    guide = np.empty((size, size, GUIDE_CHANNELS), np.float32)
    guide[..., :-1] = limb_ridges(keypoints, size)
    guide[..., -1] = mask
    return guide
