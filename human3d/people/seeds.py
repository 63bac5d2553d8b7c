"""Where people may stand: boxes from OpenCV's HOG people detector, to zoom the pose models onto.

BlazePose's detector keys on faces, so people seen from behind, in profile or in a crowd are often
missed even inside a zoomed tile. OpenCV ships a second, independent detector trained on real photos
of pedestrians: Dalal and Triggs' histogram-of-oriented-gradients detector with a linear SVM (INRIA
person set; its coefficients are part of OpenCV's library, BSD/Apache-2.0). It looks at whole-body
silhouettes rather than faces, so its boxes are good places to zoom the pose models onto; they are
only seeds: a person is kept only when the pose models find one there.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

SEED_HEIGHT = 960  # the image is scaled to this height first: HOG's 128-pixel window then spans 1/7.5 of it
SEED_SCALE_STEP = 1.05  # the image pyramid's step
SEED_ZOOM = 1.5  # a seed window's side, in seed-box heights


@functools.lru_cache(maxsize=1)
def hog_people_detector() -> cv2.HOGDescriptor:
    """OpenCV's default HOG people detector (64x128 window), built once per process."""
    hog = cv2.HOGDescriptor()
    hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
    return hog


def person_seeds(image: np.ndarray, min_weight: float = 0.0) -> np.ndarray:
    """Boxes [N, 4] (x1, y1, x2, y2, image pixels) where the HOG detector sees an upright person with an SVM
    score above ``min_weight``; ``image`` is RGB uint8."""
    height = image.shape[0]
    scale = SEED_HEIGHT / height
    gray = cv2.resize(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), None, fx=scale, fy=scale,
                      interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    rects, weights = hog_people_detector().detectMultiScale(gray, hitThreshold=min_weight, winStride=(8, 8),
                                                            padding=(8, 8), scale=SEED_SCALE_STEP)
    if len(rects) == 0:
        return np.zeros((0, 4), dtype=np.float32)
    rects = np.asarray(rects, dtype=np.float32)
    return np.concatenate([rects[:, :2], rects[:, :2] + rects[:, 2:]], axis=1) / scale


def seed_window_square(box: np.ndarray, width: int, height: int) -> tuple[int, int, int]:
    """A square window (x, y, side) centred on ``box``, ``SEED_ZOOM`` box heights wide, inside the image."""
    side = int(min(min(width, height), max(64.0, SEED_ZOOM * float(box[3] - box[1]))))
    x = int(np.clip((box[0] + box[2]) / 2 - side / 2, 0, width - side))
    y = int(np.clip((box[1] + box[3]) / 2 - side / 2, 0, height - side))
    return x, y, side
