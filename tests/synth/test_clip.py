"""``human3d synth-clip``: a walking clip is written, re-read frame by frame, shows motion, and has its truth."""

from __future__ import annotations

import json

import numpy as np

from human3d.body.keypoints import regress_keypoints
from human3d.body.model import BodyParams
from human3d.cli import main
from human3d.io.video import VideoReader


def test_clip_has_the_frames_and_people_move(tmp_path, capsys, body_model):
    out = tmp_path / "walk.mp4"
    assert main(["synth-clip", "--out", str(out), "--frames", "4", "--size", "96x64", "--fps", "8", "--seed", "1"]) == 0
    assert "wrote 4 frame(s)" in capsys.readouterr().out
    frames = [frame.astype(np.int16) for frame in VideoReader(out)]
    assert len(frames) == 4 and frames[0].shape == (64, 96, 3)
    moved = (np.abs(frames[3] - frames[0]).max(axis=2) > 40).mean()
    assert 0.005 < moved < 0.5  # the walkers moved, the scene did not
    assert np.abs(frames[3][:8, :8] - frames[0][:8, :8]).mean() < 6  # background corner stays (up to H.264 noise)


def test_clip_errors_are_one_line(tmp_path, capsys):
    assert main(["synth-clip", "--out", str(tmp_path / "a.mp4"), "--size", "96by64"]) == 1
    assert "--size 96by64: want WIDTHxHEIGHT" in capsys.readouterr().err
    assert main(["synth-clip", "--out", str(tmp_path / "a.gif")]) == 1
    assert "a.gif: the clip is written as MP4" in capsys.readouterr().err
    assert not (tmp_path / "a.gif").exists() and not (tmp_path / "a.mp4").exists()


def test_clip_truth_lies_beside_the_video_in_the_camera_frame(tmp_path, body_model):
    out = tmp_path / "walk.mp4"
    assert main(["synth-clip", "--out", str(out), "--frames", "3", "--size", "160x96", "--seed", "2"]) == 0
    truth = json.loads((tmp_path / "walk.truth.json").read_text())
    assert (truth["fps"], truth["width"], truth["height"]) == (24.0, 160, 96) and len(truth["frames"]) == 3
    people = truth["frames"][2]["people"]
    assert [p["id"] for p in people] == [0, 1]
    joints, pixels = np.array(people[0]["joints_coco17_3d"]), np.array(people[0]["keypoints_coco17_2d"])
    assert pixels.shape == (17, 2) and len(people[0]["box_xyxy"]) == 4
    assert (joints[:, 2] > 1.0).all()  # metres in front of the camera (OpenCV: z forward)
    assert joints[15, 1] > joints[5, 1] + 0.8  # ankles below shoulders (y down)
    # a pinhole: pixel = focal * (x, y) / z + centre, with one focal and centre for every joint
    rays = joints[:, :2] / joints[:, 2:]
    focal_x = np.polyfit(rays[:, 0], pixels[:, 0], 1)
    focal_y = np.polyfit(rays[:, 1], pixels[:, 1], 1)
    assert abs(focal_x[0] - focal_y[0]) < 1e-3 * focal_x[0] and abs(focal_x[1] - 80) < 1e-2
    anny = people[0]["anny"]
    assert np.array(anny["pose"]).shape == (104, 3)
    # rotation and translation place anny's unplaced body where the truth's joints are
    unplaced = body_model.forward_unplaced(BodyParams(anny["phenotype"], np.array(anny["pose"], np.float32)))
    placed = regress_keypoints(body_model.coco17_weights, unplaced["vertices"]) @ np.array(anny["rotation"]).T
    assert np.abs(placed + anny["translation"] - joints).max() < 1e-3
    first = np.array(truth["frames"][0]["people"][0]["joints_coco17_3d"])
    assert np.abs(joints - first).max() > 0.05  # walking


def test_walkers_plant_their_feet(tmp_path, body_model):
    out = tmp_path / "walk.mp4"
    assert main(["synth-clip", "--out", str(out), "--frames", "14", "--size", "64x48", "--people", "1",
                 "--seed", "3"]) == 0
    frames = json.loads((tmp_path / "walk.truth.json").read_text())["frames"]
    joints = np.array([f["people"][0]["joints_coco17_3d"] for f in frames])  # camera frame, static camera
    ankles = joints[:, 15:17]
    step = np.linalg.norm(np.diff(ankles, axis=0), axis=2)  # [frames - 1, 2] ankle motion per frame
    assert np.median(step.min(axis=1)) < 0.003  # one foot stays put (the walkers used to glide 40 mm a frame)
    assert np.median(step.max(axis=1)) > 0.03  # while the other swings
    hips = joints[:, 11:13].mean(axis=1)
    assert np.linalg.norm(hips[-1] - hips[0]) > 0.2  # and the body walks on
