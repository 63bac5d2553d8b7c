"""Motion scores: a perfect fit scores zero; a sliding foot is counted as foot skate, in mm per frame."""

from __future__ import annotations

import numpy as np

from human3d.body.keypoints import regress_keypoints
from human3d.body.model import get_body_model
from human3d.eval.motion_metrics import pooled_scores, score_motion, true_person_frames


def walk(model, ankle_step: float, frames: int = 4) -> dict:
    """One person standing 3 m in front of the camera, moving 20 mm a frame sideways, the left ankle kept
    where it is plus ``ankle_step`` metres a frame along x."""
    params = model.rest_params()
    joints = regress_keypoints(model.coco17_weights, model.forward_unplaced(params)["vertices"])
    people = []
    for f in range(frames):
        shift = np.array([0.02 * f, 0.0, 3.0])
        placed = joints + shift
        placed[15] = joints[15] + np.array([ankle_step * f, 0.0, 3.0])
        anny = {"phenotype": params.phenotype, "pose": params.pose.tolist(), "rotation": np.eye(3).tolist(),
                "translation": shift.tolist()}
        people.append({"frame": f, "people": [{"id": 0, "box_xyxy": [100, 50, 200, 350],
                                                "joints_coco17_3d": placed.tolist(), "anny": anny}]})
    return {"fps": 24.0, "width": 640, "height": 360, "frames": people}


def test_a_perfect_fit_scores_zero_and_a_sliding_foot_is_skate():
    model = get_body_model()
    truth = walk(model, ankle_step=0.0)
    scores, rows = score_motion(truth, truth, model)
    assert scores.pairs == 4 and scores.found == 1.0 and len(rows) == 4
    assert scores.mpjpe < 1e-6 and scores.pa_mpjpe < 1e-3 and scores.accel_error < 1e-6
    # the right ankle moves with the body (20 mm a frame), the left one stands: only the left counts
    assert scores.foot_skate < 1e-6
    sliding, _ = score_motion(walk(model, ankle_step=0.01), truth, model)
    assert abs(sliding.foot_skate - 10.0) < 1e-6
    pooled = pooled_scores([(sliding, rows, true_person_frames(truth)), (scores, rows, 4)])
    assert abs(pooled.foot_skate - 5.0) < 1e-6
