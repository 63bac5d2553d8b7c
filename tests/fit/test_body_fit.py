"""Fitting anny: the true body recovered from a synthetic photo; Procrustes; priors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from human3d.fit.body_fit import BODY_JOINTS, procrustes_aligned, rotation_about
from human3d.fit.camera import default_intrinsics, project
from human3d.fit.priors import FITTED_BONES, SPREAD_IN_SIGHT, pose_prior_residuals, shape_prior


def test_procrustes_undoes_a_similarity():
    rng = np.random.default_rng(0)
    truth = rng.normal(size=(12, 3))
    moved = 1.7 * truth @ rotation_about(1, 0.8).T @ rotation_about(0, -0.3).T + np.array([1.0, -2.0, 3.0])
    assert np.abs(procrustes_aligned(moved, truth) - truth).max() < 1e-9


def test_projection_puts_the_optical_axis_at_the_centre():
    intrinsics = default_intrinsics(640, 480)
    assert intrinsics.focal == 640 and (intrinsics.cx, intrinsics.cy) == (320, 240)
    pixels = project(torch.tensor([[0.0, 0.0, 2.0], [1.0, -0.5, 2.0]]), intrinsics)
    assert torch.allclose(pixels, torch.tensor([[320.0, 240.0], [640.0, 80.0]]))


def test_a_knee_bent_backwards_costs_more_than_forwards():
    knee = FITTED_BONES.index("lowerleg01.L")
    forward, backward = torch.zeros(2, len(FITTED_BONES), 3), torch.zeros(2, len(FITTED_BONES), 3)
    forward[:, knee, 0], backward[:, knee, 0] = 0.8, -0.8  # +x: the shin goes back, as a knee bends
    cost = lambda pose: pose_prior_residuals(pose).pow(2).sum(dim=-1)  # noqa: E731
    assert (cost(backward) > 10 * cost(forward)).all()
    assert shape_prior(torch.full((1, 6), 0.5)).item() == 0.0


@pytest.fixture(scope="module")
def synthetic_fit():
    """A synthetic photo of one person, the people found in it, a fitter and its cold fit."""
    pytest.importorskip("mediapipe")
    from human3d.body.model import get_body_model
    from human3d.fit.body_fit import BodyFitter
    from human3d.people.finder import build_people_finder
    from human3d.synth.scene import SceneConfig, make_sample

    sample = make_sample(0, 3, SceneConfig(size=512, people=1, camera="perspective"), get_body_model())
    people = build_people_finder(small_people=False).find(sample.rgb)
    assert len(people) == 1
    fitter = BodyFitter()
    return sample, people, fitter, fitter.fit(people, 512, 512)[0]


def test_a_fit_on_a_synthetic_photo_recovers_the_true_body(synthetic_fit):
    sample, _, _, fit = synthetic_fit
    truth = sample.people[0].keypoints[list(BODY_JOINTS)]
    aligned = procrustes_aligned(fit.joints_coco17[list(BODY_JOINTS)], truth)
    assert np.linalg.norm(aligned - truth, axis=1).mean() < 0.060  # PA-MPJPE under 60 mm
    assert fit.error_px < 4.0


def test_a_warm_start_on_the_same_frame_stays_on_the_fit(synthetic_fit):
    _, people, fitter, fit = synthetic_fit
    warm = fitter.fit(people, 512, 512, previous=[fit], earlier=[fit])[0]
    assert np.linalg.norm(warm.joints_coco17 - fit.joints_coco17, axis=1).max() < 0.03
    assert warm.error_px < 4.0
    held = warm.params.phenotype  # a warm start holds the shape (to float32 rounding of its logits)
    assert held.keys() == fit.params.phenotype.keys()
    assert all(abs(held[name] - fit.params.phenotype[name]) < 1e-6 for name in held)


def test_a_held_shape_is_kept_and_the_pose_still_fitted(synthetic_fit):
    sample, people, fitter, fit = synthetic_fit
    true_shape = sample.people[0].description["phenotype"]
    held = fitter.fit(people, 512, 512, shapes=[true_shape])[0]
    assert all(abs(held.params.phenotype[name] - value) < 1e-4 for name, value in true_shape.items())
    assert max(abs(fit.params.phenotype[name] - value) for name, value in true_shape.items()) > 0.05  # not by chance
    truth = sample.people[0].keypoints[list(BODY_JOINTS)]
    aligned = procrustes_aligned(held.joints_coco17[list(BODY_JOINTS)], truth)
    assert np.linalg.norm(aligned - truth, axis=1).mean() < 0.060 and held.error_px < 4.0


def test_a_warm_start_carries_the_motion_on_at_constant_velocity(synthetic_fit):
    from dataclasses import replace

    from human3d.fit.body_fit import Candidate

    _, _, fitter, fit = synthetic_fit
    turn = rotation_about(1, 0.1)
    earlier = replace(fit, rotation=turn.T @ fit.rotation, translation=fit.translation - np.array([0.1, 0, 0]))
    start = Candidate.from_fits(fit, earlier, fitter.bones)
    assert np.allclose(start.translation, fit.translation + np.array([0.1, 0, 0]), atol=1e-6)
    assert np.allclose(start.base, turn @ fit.rotation, atol=1e-6)
    assert np.allclose(start.base @ start.base.T, np.eye(3), atol=1e-9) and start.warm


def test_a_warm_start_carries_the_bones_on_at_a_damped_velocity(synthetic_fit):
    from dataclasses import replace

    from human3d.fit.body_fit import Candidate

    _, _, fitter, fit = synthetic_fit
    pose = fit.params.pose.copy()
    pose[fitter.bones] -= 0.2  # every fitted bone turned by 0.2 rad about each axis since the frame before
    earlier = replace(fit, params=replace(fit.params, pose=pose))
    last = fit.params.pose[fitter.bones]
    assert np.allclose(Candidate.from_fits(fit, earlier, fitter.bones).pose, last + 0.2, atol=1e-6)
    damped = Candidate.from_fits(fit, earlier, fitter.bones, fitter.config.pose_velocity).pose
    assert fitter.config.pose_velocity == 0.5 and np.allclose(damped, last + 0.1, atol=1e-6)


def test_a_hip_spreading_toward_the_camera_costs_more_than_swinging_forward():
    hip = FITTED_BONES.index("upperleg01.R")
    swing, spread = torch.zeros(1, len(FITTED_BONES), 3), torch.zeros(1, len(FITTED_BONES), 3)
    swing[0, hip, 0], spread[0, hip, 2] = 0.5, 0.5  # about x: forward and back; about z: sideways
    cost = lambda pose, sight: pose_prior_residuals(pose, torch.tensor([sight])).pow(2).sum().item()  # noqa: E731
    assert cost(swing, 1.0) == pytest.approx(0.25) and cost(swing, 0.0) == pytest.approx(0.25)
    assert cost(spread, 0.0) == pytest.approx(0.25)  # seen from the front: in plain view
    assert cost(spread, 1.0) == pytest.approx(SPREAD_IN_SIGHT * 0.25)  # seen from the side: along the line of sight
    assert pose_prior_residuals(spread).pow(2).sum().item() == pytest.approx(0.25)


@pytest.fixture(scope="module")
def exact_fitter():
    """A fitter for anny's own keypoints (the finder's offsets off), built once for the tests that use it."""
    from human3d.fit.body_fit import BodyFitter, FitConfig

    return BodyFitter(FitConfig(keypoint_offsets=False))


@pytest.mark.parametrize("yaw", [0.0, 0.5])
def test_a_wide_stance_seen_from_the_front_is_fitted_as_it_is(exact_fitter, yaw):
    """Exact keypoints of anny with both legs spread 0.5 rad, seen from the front or turned 0.5 rad: the
    fit recovers the spread (the prior's extra cost applies only where the spread is along the line of
    sight)."""
    from human3d.fit.body_fit import FACING_CAMERA

    fitter = exact_fitter
    left, right = (fitter.bones.index(fitter.body.bone_names.index(f"upperleg01.{side}")) for side in "LR")
    pose = torch.zeros(1, len(fitter.bones), 3)
    pose[0, left, 2], pose[0, right, 2] = 0.5, -0.5
    person, camera = exact_person(fitter, FACING_CAMERA @ rotation_about(1, yaw), pose)
    fit = fitter.fit([person], 512, 512, meshes=False)[0]
    joints, truth = fit.joints_coco17[list(BODY_JOINTS)], camera[list(BODY_JOINTS)]
    assert np.linalg.norm(procrustes_aligned(joints, truth) - truth, axis=1).mean() < 0.025  # PA-MPJPE, m
    assert fit.params.pose[fitter.body.bone_names.index("upperleg01.L"), 2] > 0.4


def test_a_fit_without_meshes_has_the_same_joints(synthetic_fit):
    _, people, fitter, fit = synthetic_fit
    with_mesh = fitter.fit(people, 512, 512, previous=[fit], earlier=[fit])[0]
    without = fitter.fit(people, 512, 512, previous=[fit], earlier=[fit], meshes=False)[0]
    assert without.vertices is None and with_mesh.vertices is not None
    assert np.abs(without.joints_coco17 - with_mesh.joints_coco17).max() < 1e-4  # metres
    assert np.abs(without.keypoints_coco17_2d - with_mesh.keypoints_coco17_2d).max() < 0.05  # pixels


def exact_person(fitter, rotation: np.ndarray, pose: torch.Tensor | None = None, distance: float = 3.5):
    """A :class:`Person` whose landmarks are anny's own keypoints (the average body, fitted bones at ``pose``
    [1, bones, 3], else at rest) turned by ``rotation`` ``distance`` metres in front of the camera: exact
    pixels and exact relative depths (BlazePose's z, in pixels); and the keypoints in the camera frame."""
    from human3d.people.finder import Person
    from human3d.people.landmarks import COCO17_FROM_LANDMARKS

    pose = torch.zeros(1, len(fitter.bones), 3) if pose is None else pose
    with torch.no_grad():
        keypoints = fitter.forward(torch.full((1, 6), 0.5), pose)[1][0].numpy()
    camera = keypoints @ rotation.T + np.array([0.0, 0.0, distance])
    intrinsics = default_intrinsics(512, 512)
    pixels = project(torch.tensor(camera, dtype=torch.float32), intrinsics).numpy()
    hips = camera[[11, 12], 2].mean()
    landmarks = np.zeros((33, 4), dtype=np.float32)
    rows = list(COCO17_FROM_LANDMARKS)
    landmarks[rows, :2], landmarks[rows, 3] = pixels, 1.0
    landmarks[rows, 2] = (camera[:, 2] - hips) * intrinsics.focal / hips
    box = np.array([*(pixels.min(axis=0) - 20), *(pixels.max(axis=0) + 20)])
    return Person(box, 1.0, landmarks, np.ones((512, 512), dtype=bool), box.copy()), camera


@pytest.mark.parametrize("yaw", [np.pi - 0.6, np.pi + 0.6, 0.6, -0.6])
def test_a_turned_person_is_fitted_turned_the_way_they_are(exact_fitter, yaw):
    """Seen from behind or from the front, turned 0.6 rad one way or the other, 10 m away (little
    perspective to tell the turns apart): the fit's far shoulder is the true far shoulder, as far back."""
    from human3d.fit.body_fit import FACING_CAMERA

    person, camera = exact_person(exact_fitter, FACING_CAMERA @ rotation_about(1, yaw), distance=10.0)
    fit = exact_fitter.fit([person], 512, 512, meshes=False)[0]
    true_order = camera[5, 2] - camera[6, 2]  # left shoulder's depth minus the right one's
    fitted_order = fit.joints_coco17[5, 2] - fit.joints_coco17[6, 2]
    assert abs(true_order) > 0.15 and fitted_order * true_order > 0
    assert abs(fitted_order - true_order) < 0.08


def test_the_best_start_is_chosen_by_the_shape_it_fitted():
    """A person seen from behind and turned (the data engine's seed 3, sample 16, yaw 157 degrees): chosen by
    costs of the average shape rather than of the fitted ones, the mirrored turn won (PA-MPJPE 111 mm)."""
    pytest.importorskip("mediapipe")
    from human3d.body.model import get_body_model
    from human3d.fit.body_fit import BodyFitter
    from human3d.people.finder import build_people_finder
    from human3d.synth.scene import SceneConfig, make_sample

    sample = make_sample(16, 3, SceneConfig(size=512, people=1, camera="perspective"), get_body_model())
    people = build_people_finder(small_people=False).find(sample.rgb)
    fit = BodyFitter().fit(people[:1], 512, 512, meshes=False)[0]
    truth = sample.people[0].keypoints[list(BODY_JOINTS)]
    aligned = procrustes_aligned(fit.joints_coco17[list(BODY_JOINTS)], truth)
    assert np.linalg.norm(aligned - truth, axis=1).mean() < 0.080  # 61 mm


def test_relative_depths_are_read_at_the_landmark_depth_scale(exact_fitter):
    """A thigh swung toward the camera, seen from the front, its landmark depths exaggerated 1/0.3 times (as
    BlazePose's are on rendered people): read at ``landmark_depth_scale`` 0.3 and trusted as a reconstruction
    trusts them, the fit puts the knee as far in front of the hips as it is; read as they come, too far."""
    from human3d.fit.body_fit import FACING_CAMERA, BodyFitter, FitConfig

    thigh = exact_fitter.bones.index(exact_fitter.body.bone_names.index("upperleg01.L"))
    pose = torch.zeros(1, len(exact_fitter.bones), 3)
    pose[0, thigh, 0] = -0.9
    person, camera = exact_person(exact_fitter, FACING_CAMERA, pose)
    person.landmarks[:, 2] /= 0.3
    knee_in_front = lambda joints: joints[[11, 12], 2].mean() - joints[13, 2]  # noqa: E731
    assert knee_in_front(camera) > 0.3  # metres
    errors = {}
    for scale in (0.3, 1.0):
        fitter = BodyFitter(FitConfig(keypoint_offsets=False, landmark_depth_scale=scale, facing_depth_weight=10.0))
        fitted = fitter.fit([person], 512, 512, meshes=False)[0].joints_coco17
        errors[scale] = knee_in_front(fitted) - knee_in_front(camera)
    assert abs(errors[0.3]) < 0.03 and errors[1.0] > 0.1  # metres: 0.1 and 17 cm


def test_the_depth_term_is_trusted_more_only_for_a_body_facing_the_camera(exact_fitter):
    """With ``facing_depth_weight``, the bones' depth weight is it facing the camera and the usual one from the
    side and from behind; without, always the usual one."""
    from human3d.fit.body_fit import FACING_CAMERA, BodyFitter, FitConfig

    yaws = (0.0, np.pi / 3, np.pi / 2, np.pi)
    turns = torch.tensor(np.stack([FACING_CAMERA @ rotation_about(1, yaw) for yaw in yaws]))
    weights = BodyFitter(FitConfig(facing_depth_weight=10.0)).bone_depth_weight(turns)
    assert weights.tolist() == pytest.approx([10.0, 0.02 + 9.98 * 0.5, 0.02, 0.02])
    assert exact_fitter.bone_depth_weight(turns) == exact_fitter.config.depth_weight
