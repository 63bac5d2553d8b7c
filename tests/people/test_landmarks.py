"""The 33 BlazePose landmarks -> COCO-17 and OpenPose BODY_25 (pure index maths, no model)."""

from __future__ import annotations

import numpy as np

from human3d.people.landmarks import (
    COCO17_NAMES,
    LANDMARK_NAMES,
    body25_keypoints,
    coco17_keypoints,
    mirrored_landmarks,
)


def landmarks_numbered() -> np.ndarray:
    """Landmark i at (i, 100 + i), depth 0, visibility i / 32."""
    table = np.zeros((33, 4), np.float32)
    table[:, 0] = np.arange(33)
    table[:, 1] = 100 + np.arange(33)
    table[:, 3] = np.arange(33) / 32
    return table


def test_coco17_picks_the_same_named_landmarks():
    keypoints = coco17_keypoints(landmarks_numbered())
    assert keypoints.shape == (17, 3)
    for row, name in zip(keypoints, COCO17_NAMES):
        index = LANDMARK_NAMES.index(name)
        assert row.tolist() == [index, 100 + index, np.float32(index / 32)]


def test_body25_neck_and_mid_hip_are_midpoints_scored_by_the_weaker_end():
    keypoints = body25_keypoints(landmarks_numbered())
    assert keypoints.shape == (25, 3)
    assert keypoints[1].tolist() == [11.5, 111.5, np.float32(11 / 32)]  # neck: the shoulders' midpoint
    assert keypoints[8].tolist() == [23.5, 123.5, np.float32(23 / 32)]  # mid-hip: the hips' midpoint
    assert keypoints[2, 0] == LANDMARK_NAMES.index("right_shoulder")  # OpenPose's 2 is the right shoulder
    assert keypoints[24, 0] == LANDMARK_NAMES.index("right_heel")


def test_mirrored_landmarks_name_each_side_as_the_other_and_negate_the_depths():
    landmarks = landmarks_numbered()
    landmarks[:, 2] = np.arange(33) - 16.0
    mirrored = mirrored_landmarks(landmarks)
    pairs = {"nose": "nose", "left_shoulder": "right_shoulder", "right_ankle": "left_ankle",
             "mouth_left": "mouth_right", "left_eye_outer": "right_eye_outer", "right_foot_index": "left_foot_index"}
    for name, other in pairs.items():
        row, source = mirrored[LANDMARK_NAMES.index(name)], landmarks[LANDMARK_NAMES.index(other)]
        assert row[[0, 1, 3]].tolist() == source[[0, 1, 3]].tolist() and row[2] == -source[2], name
    np.testing.assert_array_equal(mirrored_landmarks(mirrored), landmarks)  # turned round twice: as it was
    assert landmarks[11, 2] == -5.0  # the input is left as it was
