"""Random poses: deterministic by seed, on the floor, inside joint limits, hands out of the body."""

from __future__ import annotations

import numpy as np
import pytest

from human3d.body import COCO17_NAMES, POSE_KINDS, sample_body_params
from human3d.body.poses import hand_depth


def test_same_seed_same_body(body_model) -> None:
    for kind in (None, "arms_crossed"):
        a = sample_body_params(np.random.default_rng(7), kind, body_model)
        b = sample_body_params(np.random.default_rng(7), kind, body_model)
        assert a.kind == b.kind and a.phenotype == b.phenotype and np.array_equal(a.pose, b.pose)
        assert np.array_equal(body_model.pose(a).vertices, body_model.pose(b).vertices)
    c = sample_body_params(np.random.default_rng(8), "arms_crossed", body_model)
    assert not np.array_equal(c.pose, a.pose)


def test_kinds_and_phenotypes_vary(body_model) -> None:
    rng = np.random.default_rng(0)
    params = [sample_body_params(rng, None, body_model) for _ in range(30)]
    assert {p.kind for p in params} == set(POSE_KINDS)
    ages = [p.phenotype["age"] for p in params]
    genders = [p.phenotype["gender"] for p in params]
    assert min(ages) < 0.55 < max(ages) and min(genders) < 0.3 and max(genders) > 0.7
    with pytest.raises(ValueError, match="unknown pose kind"):
        sample_body_params(rng, "cartwheel", body_model)


def test_bodies_stand_on_the_floor(posed_bodies) -> None:
    for kind, seed, body in posed_bodies:
        low = body.vertices[:, 1].min()
        assert low == pytest.approx(0.0, abs=1e-6)
        lowest = np.argsort(body.vertices[:, 1])[:20]
        assert set(body.vertex_parts[lowest]) <= {5, 6}, f"{kind} seed {seed}: not on its feet"


def _angle(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.degrees(np.arccos(np.clip(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)), -1, 1))))


def test_joints_bend_within_their_limits(posed_bodies) -> None:
    for kind, seed, body in posed_bodies:
        kp = dict(zip(COCO17_NAMES, body.keypoints_coco17.astype(np.float64)))
        for side in ("left", "right"):
            thigh = kp[f"{side}_knee"] - kp[f"{side}_hip"]
            shin = kp[f"{side}_ankle"] - kp[f"{side}_knee"]
            upper = kp[f"{side}_elbow"] - kp[f"{side}_shoulder"]
            fore = kp[f"{side}_wrist"] - kp[f"{side}_elbow"]
            assert _angle(thigh, shin) < 110, f"{kind} seed {seed}: {side} knee"
            assert _angle(upper, fore) < 150, f"{kind} seed {seed}: {side} elbow"
            # A knee only bends backward: the shin turns behind the thigh, about the body's left axis.
            hips = kp["left_hip"] - kp["right_hip"]
            backward = np.cross(thigh, shin) @ hips > -0.02 * np.linalg.norm(hips)
            assert backward, f"{kind} seed {seed}: {side} knee bends forward"


def test_hand_depth_sees_an_arm_inside_the_body(body_model) -> None:
    params = body_model.rest_params()
    assert hand_depth(body_model.pose(params)) == 0.0
    # Swing both arms 60 degrees inward about the forward axis: the forearms go through the hips.
    params.pose[body_model.bone_names.index("upperarm01.L"), 2] = -np.radians(60)
    params.pose[body_model.bone_names.index("upperarm01.R"), 2] = np.radians(60)
    assert hand_depth(body_model.pose(params)) > 0.03


def test_hands_and_forearms_stay_out_of_the_body(posed_bodies) -> None:
    for kind, seed, body in posed_bodies:
        depth = hand_depth(body)
        assert depth < 0.03, f"{kind} seed {seed}: a hand or forearm lies {depth:.3f} m deep in the body"
