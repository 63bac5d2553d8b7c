"""BlazePose's 33 body landmarks, and the COCO-17 and OpenPose BODY_25 keypoints derived from them."""

from __future__ import annotations

import numpy as np

LANDMARK_NAMES = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye", "right_eye_outer",
    "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder", "right_shoulder", "left_elbow",
    "right_elbow", "left_wrist", "right_wrist", "left_pinky", "right_pinky", "left_index", "right_index",
    "left_thumb", "right_thumb", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    "left_heel", "right_heel", "left_foot_index", "right_foot_index",
)
FACE_LANDMARKS = tuple(range(11))  # nose, eyes, ears, mouth


def _other_side(name: str) -> str:
    return name.replace("left", "\0").replace("right", "left").replace("\0", "right")


MIRRORED_LANDMARKS = tuple(LANDMARK_NAMES.index(_other_side(name)) for name in LANDMARK_NAMES)  # left <-> right

COCO17_NAMES = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder", "left_elbow",
    "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle",
    "right_ankle",
)
COCO17_FROM_LANDMARKS = tuple(LANDMARK_NAMES.index(name) for name in COCO17_NAMES)
MIRRORED_COCO17 = tuple(COCO17_NAMES.index(_other_side(name)) for name in COCO17_NAMES)  # left <-> right
COCO17_SKELETON = (
    (15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6), (5, 7), (6, 8), (7, 9), (8, 10),
    (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6),
)

# OpenPose BODY_25: each joint is one landmark, or the midpoint of two (neck, mid-hip). BlazePose has one
# toe point per foot (the foot index), used for both the big and the small toe.
BODY25_FROM_LANDMARKS = (
    ("nose",), ("left_shoulder", "right_shoulder"), ("right_shoulder",), ("right_elbow",), ("right_wrist",),
    ("left_shoulder",), ("left_elbow",), ("left_wrist",), ("left_hip", "right_hip"), ("right_hip",),
    ("right_knee",), ("right_ankle",), ("left_hip",), ("left_knee",), ("left_ankle",), ("right_eye",),
    ("left_eye",), ("right_ear",), ("left_ear",), ("left_foot_index",), ("left_foot_index",), ("left_heel",),
    ("right_foot_index",), ("right_foot_index",), ("right_heel",),
)


def coco17_keypoints(landmarks: np.ndarray) -> np.ndarray:
    """COCO-17 keypoints ``[17, 3]`` (x, y, score) from landmarks ``[33, 4]`` (x, y, z, visibility)."""
    picked = np.asarray(landmarks, dtype=np.float32)[list(COCO17_FROM_LANDMARKS)]
    return np.stack([picked[:, 0], picked[:, 1], picked[:, 3]], axis=1)


def mirrored_landmarks(landmarks: np.ndarray) -> np.ndarray:
    """Landmarks ``[33, 4]`` read as the person turned round: each side's landmark named as the other's, and the
    relative depths negated (what BlazePose would say had it seen the person from behind, not in front)."""
    mirrored = np.array(landmarks, dtype=np.float32)[list(MIRRORED_LANDMARKS)]
    mirrored[:, 2] *= -1.0
    return mirrored


def body25_keypoints(landmarks: np.ndarray) -> np.ndarray:
    """OpenPose BODY_25 keypoints ``[25, 3]`` (x, y, score); a midpoint joint scores its weaker end."""
    landmarks = np.asarray(landmarks, dtype=np.float32)
    rows = []
    for names in BODY25_FROM_LANDMARKS:
        points = landmarks[[LANDMARK_NAMES.index(name) for name in names]]
        rows.append([points[:, 0].mean(), points[:, 1].mean(), points[:, 3].min()])
    return np.asarray(rows, dtype=np.float32)
