"""The people finder's keypoint offsets on anny: carried by their bone, mirrored, calibrated, shipped."""

from __future__ import annotations

import json

import numpy as np
import pytest
import roma
import torch

from human3d.body.keypoint_rig import posed_keypoints
from human3d.body.keypoints import COCO17_NAMES
from human3d.fit.keypoint_offsets import ALONE, OFFSETS_PATH, load_offsets, mirrored, offset_moments
from human3d.fit.priors import FITTED_BONES


@pytest.fixture(scope="module")
def fitter():
    from human3d.fit.body_fit import BodyFitter

    return BodyFitter()


def keypoints(fitter, phenotype: torch.Tensor, pose: torch.Tensor, offsets: torch.Tensor | None) -> torch.Tensor:
    heads, moments = fitter.shaped(phenotype, offsets=False)
    if offsets is not None:
        moments = moments + offset_moments(fitter.rig, offsets)
    return posed_keypoints(fitter.rig, heads, moments, roma.rotvec_to_rotmat(pose[:, fitter.rig_order]))[:, :17]


def test_an_offset_turns_with_the_bone_that_carries_its_keypoint(fitter):
    offsets = torch.zeros(17, 3)
    wrist = COCO17_NAMES.index("left_wrist")
    offsets[wrist] = torch.tensor([0.01, -0.03, 0.02])
    phenotype = torch.full((1, 6), 0.5)
    pose = torch.zeros(1, len(FITTED_BONES), 3)
    moved = keypoints(fitter, phenotype, pose, offsets) - keypoints(fitter, phenotype, pose, None)
    assert torch.allclose(moved[0], offsets, atol=1e-6)  # the A-pose: the offset as given
    turn = torch.tensor([0.3, -1.1, 0.4])
    pose[0, FITTED_BONES.index("lowerarm01.L")] = turn  # the forearm turns about the elbow
    moved = keypoints(fitter, phenotype, pose, offsets) - keypoints(fitter, phenotype, pose, None)
    assert torch.allclose(moved[0, wrist], roma.rotvec_to_rotmat(turn) @ offsets[wrist], atol=1e-6)
    assert moved[0, np.arange(17) != wrist].abs().max() < 1e-6


def test_right_offsets_mirror_the_left_ones():
    free = torch.randn(len(ALONE), 3)
    full = mirrored(free)
    left, right = COCO17_NAMES.index("left_ankle"), COCO17_NAMES.index("right_ankle")
    assert torch.equal(full[right], full[left] * torch.tensor([-1.0, 1.0, 1.0]))
    assert full[0, 0] == 0.0  # the nose stays on the body's middle


def test_calibration_recovers_known_offsets(fitter):
    from human3d.fit.offset_calibration import Observation, calibrate

    rng = np.random.default_rng(0)
    truth = mirrored(torch.tensor(rng.normal(scale=0.02, size=(len(ALONE), 3)), dtype=torch.float32))
    observations = []
    for _ in range(24):
        phenotype = torch.tensor(rng.uniform(0.2, 0.8, size=(1, 6)), dtype=torch.float32)
        pose = torch.tensor(rng.normal(scale=0.3, size=(1, len(FITTED_BONES), 3)), dtype=torch.float32)
        yaw = roma.rotvec_to_rotmat(torch.tensor([0.0, rng.uniform(-np.pi, np.pi), 0.0])).numpy()
        rotation = np.diag([1.0, -1.0, -1.0]) @ yaw  # upright in the camera frame, facing anywhere
        points = keypoints(fitter, phenotype, pose, truth)[0].numpy() @ rotation.T + np.array([0.2, 0.1, 4.0])
        pixels = points[:, :2] / points[:, 2:] * 500.0 + np.array([320.0, 240.0])
        observations.append(Observation(phenotype[0].numpy(), pose[0].numpy(), rotation, np.array([0.2, 0.1, 4.0]),
                                        np.array([500.0, 320.0, 240.0]), pixels, np.ones(17), 220.0))
    found = calibrate(fitter, observations, steps=400, regulariser=0.0)
    assert np.abs(found - truth.numpy()).max() < 0.004  # metres


def test_the_shipped_offsets_are_small_and_named():
    document = json.loads(OFFSETS_PATH.read_text())
    assert set(document["offsets_m"]) == set(COCO17_NAMES) and document["clips"]
    offsets = load_offsets()
    assert offsets.shape == (17, 3) and 0.0 < np.abs(offsets).max() < 0.08


def test_a_clip_frames_camera_is_solved_from_its_truth():
    from human3d.fit.offset_calibration import clip_camera

    rng = np.random.default_rng(1)
    people = []
    for _ in range(2):
        joints = rng.normal(size=(17, 3)) * 0.4 + np.array([0.0, 0.0, 5.0])
        pixels = joints[:, :2] / joints[:, 2:] * 434.5 + np.array([320.0, 180.0])
        people.append({"joints_coco17_3d": joints.tolist(), "keypoints_coco17_2d": pixels.tolist()})
    assert np.allclose(clip_camera(people), [434.5, 320.0, 180.0])


def test_calibrating_on_a_folder_without_clips_is_one_line_and_writes_nothing(tmp_path, monkeypatch):
    from human3d.fit import offset_calibration

    (tmp_path / "clip.mp4").write_bytes(b"")  # a video without its truth does not count
    monkeypatch.setattr("sys.argv", ["calibrate", str(tmp_path), "--out", str(tmp_path / "offsets.json")])
    with pytest.raises(SystemExit) as error:
        offset_calibration.main()
    assert str(error.value) == f"human3d: {tmp_path}: no human3d synth-clip video with its truth here"
    assert not (tmp_path / "offsets.json").exists()
