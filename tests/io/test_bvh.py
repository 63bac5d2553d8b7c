"""BVH: written, re-read by our own parser, and forward kinematics of what was read against anny's joints."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from human3d.body import BodyModel, BodyParams
from human3d.body.motion import BodyMotion
from human3d.errors import Human3DError
from human3d.io.bvh import BvhData, read_bvh, write_bvh

TOLERANCE_M = 0.002


def _joint_positions(bvh: BvhData, frame: int) -> np.ndarray:
    """(J, 3) joint heads at ``frame``: position channels for the root, parent head + parent rotation @ offset."""
    values = iter(bvh.motion[frame])
    rotations, positions = np.zeros((len(bvh.names), 3, 3)), np.zeros((len(bvh.names), 3))
    for joint, (parent, channels) in enumerate(zip(bvh.parents, bvh.channels)):
        local, position = np.eye(3), bvh.offsets[joint].copy()
        for channel, value in zip(channels, values):
            if channel.endswith("position"):
                position["XYZ".index(channel[0])] += value
            else:
                local = local @ Rotation.from_euler(channel[0].lower(), value, degrees=True).as_matrix()
        if parent < 0:
            rotations[joint], positions[joint] = local, position
        else:
            rotations[joint] = rotations[parent] @ local
            positions[joint] = positions[parent] + rotations[parent] @ position
    return positions


@pytest.fixture(scope="module")
def written(tmp_path_factory, make_motion, body_model: BodyModel) -> tuple[BodyMotion, BvhData, Path]:
    motion = make_motion(3, frames=5, id=4, fps=25.0)
    motion.poses[1, 0] = [np.pi / 2, 0.0, 0.0]  # lying on the back: Euler ZXY at its gimbal lock
    motion.poses[2, 5] = [-np.pi / 2, 0.0, 0.0]
    motion.poses[3:, 0] = [[0.0, 3.0, 0.0], [0.0, -3.0, 0.0]]  # turning past 180 degrees between two frames
    path = tmp_path_factory.mktemp("bvh") / "person4.bvh"
    write_bvh(path, motion, body_model)
    return motion, read_bvh(path), path


def test_reread_has_anny_skeleton_and_every_frame(written, body_model: BodyModel) -> None:
    motion, bvh, _ = written
    assert sorted(bvh.names) == sorted(body_model.bone_names) and len(bvh.names) == 104
    assert bvh.names[0] == "root" and bvh.parents[0] == -1
    assert bvh.channels[0] == ("Xposition", "Yposition", "Zposition", "Zrotation", "Xrotation", "Yrotation")
    assert all(channels == ("Zrotation", "Xrotation", "Yrotation") for channels in bvh.channels[1:])
    assert bvh.motion.shape == (motion.frames, 6 + 3 * 103)
    assert bvh.frame_time == pytest.approx(1 / 25.0, abs=1e-8)
    assert np.abs(np.diff(bvh.motion[:, 3:], axis=0)).max() <= 180.0  # angles unwrapped over frames
    leaves = set(range(104)) - set(bvh.parents.tolist())
    assert set(bvh.end_sites) == leaves


def test_forward_kinematics_of_the_file_gives_anny_joints_within_2_mm(written, body_model: BodyModel) -> None:
    motion, bvh, _ = written
    order = [body_model.bone_names.index(name) for name in bvh.names]
    errors = []
    for frame in range(motion.frames):
        joints = body_model.forward_unplaced(BodyParams(motion.phenotype, motion.poses[frame]))["joints"]
        expected = joints[order] + motion.translations[frame]
        errors.append(np.linalg.norm(_joint_positions(bvh, frame) - expected, axis=1).max())
    print(f"BVH joints vs anny: max {1e3 * max(errors):.4f} mm over {len(errors)} frames")
    assert max(errors) < TOLERANCE_M


def test_bad_motions_and_files_raise_one_line_errors(tmp_path: Path, make_motion, body_model: BodyModel) -> None:
    wrong_bones = make_motion(1)
    wrong_bones.poses = wrong_bones.poses[:, :20]
    with pytest.raises(Human3DError, match=r"poses must have shape \(frames, 104, 3\)"):
        write_bvh(tmp_path / "a.bvh", wrong_bones, body_model)
    no_frames = BodyMotion({}, np.zeros((0, 104, 3)), np.zeros((0, 3)), 30.0)
    with pytest.raises(Human3DError, match="no frames"):
        write_bvh(tmp_path / "a.bvh", no_frames, body_model)
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "b.bvh").write_text("HIERARCHY\nROOT hips\n{\n  OFFSET 0 0\n")
    with pytest.raises(Human3DError, match="b.bvh: not a BVH file"):
        read_bvh(tmp_path / "b.bvh")
    with pytest.raises(Human3DError, match="not found"):
        read_bvh(tmp_path / "missing.bvh")
