"""Fitting anny: the true body recovered from a synthetic photo; Procrustes; priors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from human3d.fit.body_fit import BODY_JOINTS, procrustes_aligned, rotation_about
from human3d.fit.camera import default_intrinsics, project
from human3d.fit.priors import FITTED_BONES, pose_prior, shape_prior


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
    assert (pose_prior(backward) > 10 * pose_prior(forward)).all()
    assert shape_prior(torch.full((1, 6), 0.5)).item() == 0.0


def test_a_fit_on_a_synthetic_photo_recovers_the_true_body():
    pytest.importorskip("mediapipe")
    from human3d.body.model import get_body_model
    from human3d.fit.body_fit import BodyFitter
    from human3d.people.finder import build_people_finder
    from human3d.synth.scene import SceneConfig, make_sample

    sample = make_sample(0, 3, SceneConfig(size=512, people=1, camera="perspective"), get_body_model())
    people = build_people_finder(small_people=False).find(sample.rgb)
    assert len(people) == 1
    fit = BodyFitter().fit(people, 512, 512)[0]
    truth = sample.people[0].keypoints[list(BODY_JOINTS)]
    aligned = procrustes_aligned(fit.joints_coco17[list(BODY_JOINTS)], truth)
    assert np.linalg.norm(aligned - truth, axis=1).mean() < 0.060  # PA-MPJPE under 60 mm
    assert fit.error_px < 4.0
