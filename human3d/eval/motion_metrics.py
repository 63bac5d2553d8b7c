"""Scores of fitted motion against a clip's truth: MPJPE, PA-MPJPE, per-vertex error, acceleration error and
foot skate.

Both sides are ``{"fps", "width", "height", "frames": [{"frame", "people": [...]}]}`` documents (``human3d
motion``'s JSON and ``human3d synth-clip``'s ``<stem>.truth.json``). In each frame, predicted and true people
are paired by box overlap (Hungarian, IoU at least ``MIN_IOU``); a true person left unpaired is missed.
On the 12 COCO-17 body joints (shoulders to ankles), in millimetres:

- **MPJPE**: mean joint distance after moving both skeletons' hip centres to the origin;
- **PA-MPJPE**: after the similarity (Procrustes) alignment that best fits the truth, per frame;
- **PVE**: mean distance of anny's skin vertices, hip-centred (both sides rebuilt from their anny values);
- **acceleration error**: mean distance between predicted and true joint accelerations (hip-centred,
  second differences over three consecutive paired frames), in mm per frame squared: jitter;
- **foot skate**: how far a fitted ankle moves, in the camera frame (the static camera's world), from one
  paired frame to the next while the true ankle stays on the ground (moves less than ``PLANTED``), in mm
  per frame: feet that slide (or a body that jumps) where the person stands on a foot.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from human3d.body.model import BodyModel, BodyParams
from human3d.fit.body_fit import BODY_JOINTS, procrustes_aligned
from human3d.people.tiles import box_iou_cover

MIN_IOU = 0.3
HIPS = [11, 12]
ANKLES = [15, 16]
PLANTED = 0.005  # metres a true ankle moves at most between two frames to count as on the ground


@dataclass
class MotionScores:
    """One clip's (or all clips') figures, in millimetres; ``found``: paired true people over all true people."""

    mpjpe: float
    pa_mpjpe: float
    pve: float
    accel_error: float
    found: float
    pairs: int
    foot_skate: float = float("nan")

    def as_dict(self) -> dict:
        """The figures as a plain dict (rounded)."""
        return {key: round(float(value), 2) for key, value in asdict(self).items()}


def pair_people(predicted: list[dict], truth: list[dict]) -> list[tuple[int, int]]:
    """(predicted index, true index) pairs of one frame, by box IoU (at least ``MIN_IOU``)."""
    if not predicted or not truth:
        return []
    iou = np.array([[box_iou_cover(p["box_xyxy"], t["box_xyxy"])[0] for t in truth] for p in predicted])
    rows, cols = linear_sum_assignment(-iou)
    return [(int(r), int(c)) for r, c in zip(rows, cols) if iou[r, c] >= MIN_IOU]


def hip_centred(points: np.ndarray, joints: np.ndarray) -> np.ndarray:
    """``points`` moved so that the hips' centre of ``joints`` (COCO-17) is the origin."""
    return points - joints[HIPS].mean(axis=0)


def skin_in_camera(body_model: BodyModel, anny: dict) -> np.ndarray:
    """The skin vertices (V, 3) of an ``"anny"`` record, placed in the camera frame."""
    params = BodyParams(anny["phenotype"], np.asarray(anny["pose"], dtype=np.float32))
    vertices = body_model.forward_unplaced(params)["vertices"][body_model.skin_vertices]
    return vertices @ np.asarray(anny["rotation"]).T + np.asarray(anny["translation"])


def true_person_frames(truth: dict) -> int:
    """How many (frame, person) pairs a truth document holds: what ``found`` is a fraction of."""
    return sum(len(frame["people"]) for frame in truth["frames"])


def score_motion(predicted: dict, truth: dict, body_model: BodyModel) -> tuple[MotionScores, list[dict]]:
    """The clip's scores, and the per-pair rows (frame, true id, MPJPE, PA-MPJPE, PVE) they average."""
    by_frame = {frame["frame"]: frame["people"] for frame in predicted["frames"]}
    rows, tracks = [], {}
    for frame in truth["frames"]:
        people = by_frame.get(frame["frame"], [])
        for p, t in pair_people(people, frame["people"]):
            mine, true = people[p], frame["people"][t]
            ours, theirs = np.asarray(mine["joints_coco17_3d"]), np.asarray(true["joints_coco17_3d"])
            a, b = hip_centred(ours, ours)[list(BODY_JOINTS)], hip_centred(theirs, theirs)[list(BODY_JOINTS)]
            pve = np.linalg.norm(hip_centred(skin_in_camera(body_model, mine["anny"]), ours)
                                 - hip_centred(skin_in_camera(body_model, true["anny"]), theirs), axis=1).mean()
            rows.append({"frame": frame["frame"], "id": true["id"],
                         "mpjpe": 1000 * float(np.linalg.norm(a - b, axis=1).mean()),
                         "pa_mpjpe": 1000 * float(np.linalg.norm(procrustes_aligned(a, b) - b, axis=1).mean()),
                         "pve": 1000 * float(pve)})
            tracks.setdefault(true["id"], {})[frame["frame"]] = (a, b, ours[ANKLES], theirs[ANKLES])
    accelerations, skates = [], []
    for frames in tracks.values():
        for f in frames:
            if f - 1 in frames and f + 1 in frames:
                ours = frames[f + 1][0] - 2 * frames[f][0] + frames[f - 1][0]
                theirs = frames[f + 1][1] - 2 * frames[f][1] + frames[f - 1][1]
                accelerations.append(1000 * float(np.linalg.norm(ours - theirs, axis=1).mean()))
            if f - 1 in frames:
                planted = np.linalg.norm(frames[f][3] - frames[f - 1][3], axis=1) < PLANTED
                skates += (1000 * np.linalg.norm(frames[f][2] - frames[f - 1][2], axis=1)[planted]).tolist()
    mean = lambda key: float(np.mean([row[key] for row in rows])) if rows else float("nan")  # noqa: E731
    scores = MotionScores(mean("mpjpe"), mean("pa_mpjpe"), mean("pve"),
                          float(np.mean(accelerations)) if accelerations else float("nan"),
                          len(rows) / max(1, true_person_frames(truth)), len(rows),
                          float(np.mean(skates)) if skates else float("nan"))
    return scores, rows


def pooled_scores(clips: list[tuple[MotionScores, list[dict], int]]) -> MotionScores:
    """All clips' figures from each clip's (scores, rows, true person-frames): MPJPE, PA-MPJPE and PVE over
    every pair, the acceleration error and foot skate weighted by each clip's pairs (clips without one left
    out)."""
    rows = [row for _, clip_rows, _ in clips for row in clip_rows]
    mean = lambda key: sum(row[key] for row in rows) / max(1, len(rows))  # noqa: E731

    def weighted(key: str) -> float:
        known = [(getattr(s, key), s.pairs) for s, _, _ in clips if not math.isnan(getattr(s, key))]
        return sum(a * n for a, n in known) / sum(n for _, n in known) if known else float("nan")

    return MotionScores(mean("mpjpe"), mean("pa_mpjpe"), mean("pve"), weighted("accel_error"),
                        len(rows) / max(1, sum(count for _, _, count in clips)), len(rows), weighted("foot_skate"))
