"""Where people may stand: boxes from OpenCV's HOG people detector, for the pose landmark model to look at.

BlazePose's detector keys on faces, so people seen from behind, in profile or in a crowd are often
missed even inside a zoomed tile. OpenCV ships a second, independent detector trained on real photos
of pedestrians: Dalal and Triggs' histogram-of-oriented-gradients detector with a linear SVM (INRIA
person set; its coefficients are part of OpenCV's library, BSD/Apache-2.0). It looks at whole-body
silhouettes rather than faces, so its boxes are good places for the pose landmark model to look at
(:mod:`human3d.people.roi_landmarks`); they are only seeds: a person is kept only when that model
sees one there.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

SEED_HEIGHT = 960  # the image is scaled to this height first: HOG's 128-pixel window then spans 1/7.5 of it
SEED_SCALE_STEP = 1.05  # the image pyramid's step
SEED_REGION_SCALE = 1.1  # the landmark model's square region around a seed, in seed-box heights


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
