"""``human3d motion`` and ``human3d eval motion``: a synthetic clip end to end; world placement; held poses."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pygltflib
import pytest
import roma
import torch

from human3d.body.model import BodyParams, get_body_model
from human3d.cli import main
from human3d.fit.body_fit import BodyFit
from human3d.fit.camera import default_intrinsics
from human3d.fit.motion import CAMERA_TO_WORLD, MotionTrack, world_placement
from human3d.io.bvh import read_bvh
from human3d.io.video import VideoReader


def a_fit(seed: int) -> BodyFit:
    """A body placed at random in front of the camera (only what the motion code reads is filled in)."""
    rng = np.random.default_rng(seed)
    pose = np.zeros((104, 3), np.float32)
    pose[1:] = rng.normal(0, 0.1, (103, 3))
    params = BodyParams({"gender": 0.3, "height": 0.7}, pose, "fitted")
    rotation = roma.rotvec_to_rotmat(torch.tensor(rng.normal(0, 1.0, 3))).numpy()
    return BodyFit(params, rotation, np.array([0.3, 0.2, 4.0], np.float32), np.zeros((0, 3)), np.zeros((17, 3)),
                   np.zeros((17, 2)), default_intrinsics(640, 360), 1.0)


def test_the_world_placement_puts_the_body_where_the_camera_saw_it():
    model, fit = get_body_model(), a_fit(0)
    unplaced = model.forward_unplaced(fit.params)["vertices"][model.skin_vertices]
    seen = unplaced @ fit.rotation.T + fit.translation  # camera frame
    pose, translation = world_placement(fit)
    world = model.forward_unplaced(BodyParams(fit.params.phenotype, pose))["vertices"][model.skin_vertices]
    assert np.abs(world + translation - seen @ CAMERA_TO_WORLD.T).max() < 1e-4


def test_a_track_holds_its_pose_before_and_after_it_is_seen():
    first, second = a_fit(1), a_fit(2)
    track = MotionTrack(7, first.params.phenotype, first)
    track.add(1, first)
    track.add(2, second)
    motion = track.motion(frame_count=4, fps=24.0)
    assert motion.frames == 4 and motion.id == 7
    assert np.allclose(motion.poses[0], motion.poses[1]) and np.allclose(motion.poses[3], motion.poses[2])
    assert not np.allclose(motion.poses[1], motion.poses[2])


def test_a_person_seen_again_after_a_gap_is_refitted_with_their_first_shape(monkeypatch):
    from human3d.fit import motion
    from human3d.people.finder import Person

    def person(identity: int) -> Person:
        return Person(np.array([0, 0, 10, 20.0]), 1.0, np.zeros((33, 4)), np.zeros((1, 1), bool), np.zeros(4), identity)

    frames = [[person(3)], [person(3)], [], [person(3), person(4)]]  # person 3 unseen in frame 2, 4 new in 3
    monkeypatch.setattr(motion, "found_people", lambda *args: ((np.zeros((360, 640, 3), np.uint8), people)
                                                              for people in frames))

    class RecordingFitter:
        """Records what each frame's fit is given; frame k's fits have the shape {"age": 0.1 (k + 1)}."""

        def __init__(self) -> None:
            self.calls = []

        def fit(self, people, width, height, previous, earlier, meshes, densepose, shapes):
            self.calls.append((previous, shapes))
            fit = a_fit(len(self.calls))
            return [replace(fit, params=replace(fit.params, phenotype={"age": 0.1 * len(self.calls)}))] * len(people)

    fitter = RecordingFitter()
    tracks = motion.track_and_fit(range(4), None, fitter, memory=24, on_frame=lambda *args: None)
    (previous, shapes), (back, back_shapes) = fitter.calls[1], fitter.calls[3]
    assert previous[0] is not None and shapes == [{"age": 0.1}]  # a warm start (its shape is the last fit's)
    assert back == [None, None] and back_shapes == [{"age": 0.1}, None]  # from scratch, the first shape held
    assert tracks[3].frames == [0, 1, 3] and tracks[3].phenotype == {"age": 0.1}


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    pytest.importorskip("mediapipe")
    folder = tmp_path_factory.mktemp("clips")
    assert main(["synth-clip", "--out", str(folder / "one.mp4"), "--frames", "4", "--people", "1",
                 "--size", "320x240", "--seed", "1"]) == 0
    return folder


def test_a_clip_gives_an_animated_gltf_bvh_json_and_preview(clip, tmp_path, capsys):
    glb, bvh, report, preview = (tmp_path / name for name in ("m.glb", "m.bvh", "m.json", "m.mp4"))
    args = ["motion", str(clip / "one.mp4"), "-o", str(glb), "--bvh", str(bvh), "--json", str(report),
            "--preview", str(preview), "--blur-faces"]
    assert main(args) == 0
    assert "person 0: 4 frames" in capsys.readouterr().out
    document = json.loads(report.read_text())
    assert (document["fps"], document["width"], document["height"]) == (24.0, 320, 240)
    assert [len(frame["people"]) for frame in document["frames"]] == [1, 1, 1, 1]
    gltf = pygltflib.GLTF2().load(str(glb))
    assert len(gltf.skins) == 1 and len(gltf.skins[0].joints) == 104 and len(gltf.animations) == 1
    times = gltf.accessors[gltf.animations[0].samplers[0].input]
    assert times.count == 4  # one key per video frame
    motion = read_bvh(bvh)
    assert motion.motion.shape[0] == 4 and abs(motion.frame_time - 1 / 24) < 1e-6
    assert len(list(VideoReader(preview))) == 4


def test_eval_motion_scores_the_clip_against_its_truth(clip, tmp_path, capsys):
    report = tmp_path / "scores.json"
    assert main(["eval", "motion", "--clips", str(clip), "--json", str(report)]) == 0
    assert "| one.mp4 | 100% |" in capsys.readouterr().out
    scores = json.loads(report.read_text())
    assert scores["clips"][0]["pairs"] == 4 and scores["overall"]["found"] == 1.0
    assert 0 < scores["overall"]["pa_mpjpe"] < 150 and 0 < scores["overall"]["accel_error"] < 100


def test_densepose_runs_on_every_frames_people_and_reaches_the_fit(clip, tmp_path):
    from human3d.densepose.predictor import densepose_predictor
    from human3d.fit.motion import found_people, with_densepose
    from human3d.people.finder import build_people_finder

    finder = build_people_finder(small_people=False)
    frames = list(VideoReader(clip / "one.mp4"))
    done = list(with_densepose(found_people(frames, finder, memory=24), densepose_predictor(finder=finder)))
    assert len(done) == 4
    for frame, people, result in done:
        assert len(people) == 1 and len(result) == 1
        assert np.allclose(result.boxes_xyxy[0], people[0].box_xyxy, atol=1)
        x, y, w, h = result.boxes_xywh_int[0]
        labelled = result.labels[0] > 0
        assert labelled.mean() > 0.2 and not (labelled & ~people[0].mask[y:y + h, x:x + w]).any()
    plain, dense = tmp_path / "plain.json", tmp_path / "dense.json"
    assert main(["motion", str(clip / "one.mp4"), "--json", str(plain)]) == 0
    assert main(["motion", str(clip / "one.mp4"), "--json", str(dense), "--densepose"]) == 0
    joints = [np.array([f["people"][0]["joints_coco17_3d"] for f in json.loads(path.read_text())["frames"]])
              for path in (plain, dense)]
    moved = np.linalg.norm((joints[0] - joints[0].mean(axis=1, keepdims=True))
                           - (joints[1] - joints[1].mean(axis=1, keepdims=True)), axis=2)
    assert 0.001 < moved.mean() < 0.1  # metres: the points were fitted, and the body stayed the same body


def test_a_bad_video_is_one_line_and_writes_nothing(tmp_path, capsys):
    video = tmp_path / "bad.mp4"
    video.write_bytes(b"\x00" * 100)
    out = tmp_path / "out.glb"
    assert main(["motion", str(video), "-o", str(out), "--json", str(tmp_path / "out.json")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"human3d: error: {video}: not a readable video")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.mp4"]


def test_calibration_pairs_the_found_people_with_their_true_bodies(clip):
    from human3d.body.keypoint_rig import posed_keypoints
    from human3d.fit.body_fit import BodyFitter
    from human3d.fit.offset_calibration import observations_from_clip
    from human3d.people.finder import build_people_finder

    fitter = BodyFitter()
    observations = observations_from_clip(clip / "one.mp4", build_people_finder(small_people=False), fitter)
    assert len(observations) >= 3  # one person, 4 frames
    for seen in observations:  # the true body, projected with the solved camera, lies under the found keypoints
        heads, moments = fitter.shaped(torch.tensor(seen.phenotype[None], dtype=torch.float32), offsets=False)
        pose = roma.rotvec_to_rotmat(torch.tensor(seen.pose[None], dtype=torch.float32)[:, fitter.rig_order])
        points = posed_keypoints(fitter.rig, heads, moments, pose)[0, :17].numpy() @ seen.rotation.T + seen.translation
        pixels = points[:, :2] / points[:, 2:] * seen.camera[0] + seen.camera[1:]
        error = np.linalg.norm(pixels - seen.keypoints, axis=1)[seen.weight > 0.5] / seen.scale
        assert np.median(error) < 0.05


def test_smoothing_the_keypoints_cuts_jitter(tmp_path, capsys):
    pytest.importorskip("mediapipe")
    from human3d.eval.motion_metrics import score_motion
    from human3d.fit.body_fit import default_fitter

    video = tmp_path / "walk.mp4"
    assert main(["synth-clip", "--out", str(video), "--frames", "24", "--people", "1", "--size", "320x240",
                 "--seed", "4"]) == 0
    truth = json.loads((tmp_path / "walk.truth.json").read_text())
    scores = {}
    for seconds in ("0", "0.75"):
        report = tmp_path / f"smoothing_{seconds}.json"
        assert main(["motion", str(video), "--json", str(report), "--smoothing", seconds]) == 0
        document = json.loads(report.read_text())
        assert [len(frame["people"]) for frame in document["frames"]] == [1] * 24  # every frame, in order
        scores[seconds], _ = score_motion(document, truth, default_fitter().body)
    assert scores["0.75"].accel_error < 0.8 * scores["0"].accel_error
    assert main(["motion", str(video), "--smoothing", "-1"]) == 1
    assert "--smoothing must be between 0 and 5 seconds" in capsys.readouterr().err
