"""The 24 DensePose parts: cover all skin, one patch each, and sit where their names say."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from human3d.body import COCO17_NAMES, PART_NAMES, PosedBody
from human3d.body.parts import bone_group, face_adjacency, vertex_parts
from human3d.geometry.closest import closest_surface_points

# Each part's centre (mean of its face corners) lies near the segment between these keypoints,
# nearer than to the mirrored segment on the other side of the body.
EXPECTED_SEGMENT = {
    "right_hand": ("right_wrist", "right_wrist"),
    "left_hand": ("left_wrist", "left_wrist"),
    "left_foot": ("left_ankle", "left_ankle"),
    "right_foot": ("right_ankle", "right_ankle"),
    "head_right": ("right_ear", "nose"),
    "head_left": ("left_ear", "nose"),
}
for _side in ("left", "right"):
    for _half in ("back", "front"):
        EXPECTED_SEGMENT[f"{_side}_upper_leg_{_half}"] = (f"{_side}_hip", f"{_side}_knee")
        EXPECTED_SEGMENT[f"{_side}_lower_leg_{_half}"] = (f"{_side}_knee", f"{_side}_ankle")
        EXPECTED_SEGMENT[f"{_side}_upper_arm_{_half}"] = (f"{_side}_shoulder", f"{_side}_elbow")
        EXPECTED_SEGMENT[f"{_side}_lower_arm_{_half}"] = (f"{_side}_elbow", f"{_side}_wrist")


def _mirror(name: str) -> str:
    return name.replace("left", "@").replace("right", "left").replace("@", "right")


def _segment_distance(point: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    ab = b - a
    t = 0.0 if not ab.any() else float(np.clip((point - a) @ ab / (ab @ ab), 0.0, 1.0))
    return float(np.linalg.norm(point - (a + t * ab)))


def test_part_names_follow_densepose_numbering() -> None:
    assert len(PART_NAMES) == 24
    assert PART_NAMES[2] == "right_hand" and PART_NAMES[3] == "left_hand"
    assert PART_NAMES[4] == "left_foot" and PART_NAMES[5] == "right_foot"
    assert PART_NAMES[6] == "right_upper_leg_back" and PART_NAMES[8] == "right_upper_leg_front"
    assert PART_NAMES[14] == "left_upper_arm_front" and PART_NAMES[16] == "left_upper_arm_back"
    assert PART_NAMES[19] == "right_lower_arm_front" and PART_NAMES[21] == "right_lower_arm_back"
    assert PART_NAMES[22] == "head_right" and PART_NAMES[23] == "head_left"


def test_bone_groups() -> None:
    assert bone_group("lowerarm02.L") == "lower_arm.L"
    assert bone_group("finger3-2.R") == "hand.R"
    assert bone_group("toe1-1.L") == "foot.L"
    assert bone_group("neck02") == "head"
    assert bone_group("spine03") == "torso" and bone_group("clavicle.R") == "torso"


def test_parts_cover_all_skin(rest_body: PosedBody) -> None:
    parts = rest_body.face_parts
    assert parts.min() >= 1 and parts.max() <= 24
    assert set(np.unique(parts)) == set(range(1, 25))
    labels = rest_body.vertex_parts
    assert labels.shape == (len(rest_body.vertices),) and labels.min() >= 1 and labels.max() <= 24
    assert np.array_equal(labels, vertex_parts(rest_body.faces, parts, len(rest_body.vertices)))


def test_each_part_is_one_patch(rest_body: PosedBody) -> None:
    adjacency = face_adjacency(rest_body.faces).tocoo()
    for part in range(1, 25):
        member = np.flatnonzero(rest_body.face_parts == part)
        keep = np.isin(adjacency.row, member) & np.isin(adjacency.col, member)
        graph = sp.csr_matrix((np.ones(keep.sum()), (adjacency.row[keep], adjacency.col[keep])), shape=adjacency.shape)
        n, labels = connected_components(graph[member][:, member], directed=False)
        assert n == 1, f"{PART_NAMES[part - 1]} falls into {n} pieces"


def test_left_and_right_mirror_each_other(rest_body: PosedBody) -> None:
    counts = np.bincount(rest_body.face_parts, minlength=25)
    assert counts[3] == counts[4] and counts[5] == counts[6] and counts[23] == counts[24]
    for right, left in ((7, 8), (9, 10), (11, 12), (13, 14), (16, 15), (18, 17), (20, 19), (22, 21)):
        assert counts[right] == counts[left]


def _check_parts_near_keypoints(body: PosedBody) -> None:
    kp = dict(zip(COCO17_NAMES, body.keypoints_coco17.astype(np.float64)))
    for part, name in enumerate(PART_NAMES, start=1):
        if name not in EXPECTED_SEGMENT:
            continue
        centre = body.vertices[body.faces[body.face_parts == part]].reshape(-1, 3).mean(axis=0)
        a, b = EXPECTED_SEGMENT[name]
        near = _segment_distance(centre, kp[a], kp[b])
        mirrored = _segment_distance(centre, kp[_mirror(a)], kp[_mirror(b)])
        limit = 0.2 if name.endswith("foot") else 0.15  # a foot's centre lies toward the toes
        assert near < limit and near < mirrored, f"{name}: {near:.3f} m from {a}-{b}, {mirrored:.3f} m from its mirror"


def test_parts_sit_where_their_names_say_at_rest(rest_body: PosedBody) -> None:
    _check_parts_near_keypoints(rest_body)
    mesh = rest_body.to_trimesh()
    normals = mesh.face_normals * mesh.area_faces[:, None]
    for back, front in ((1, 2), (7, 9), (8, 10), (11, 13), (12, 14), (17, 15), (18, 16), (21, 19), (22, 20)):
        front_z = normals[rest_body.face_parts == front].sum(axis=0)
        back_z = normals[rest_body.face_parts == back].sum(axis=0)
        assert front_z[2] > 0 > back_z[2], f"parts {back}/{front}"
    torso_front = normals[rest_body.face_parts == 2].sum(axis=0)
    assert torso_front[2] > 0.8 * np.linalg.norm(torso_front)  # faces +z, the person's front
    centres = mesh.triangles_center
    assert np.all(centres[rest_body.face_parts == 24, 0] > -0.01)  # head left on the person's left, +x
    assert np.all(centres[rest_body.face_parts == 23, 0] < 0.01)


# The part under the surface point nearest to each keypoint.
EXPECTED_UNDER_KEYPOINT = {
    "nose": {23, 24},
    "left_eye": {24},
    "right_eye": {23},
    "left_ear": {24},
    "right_ear": {23},
    "left_shoulder": {1, 2, 15, 17},
    "right_shoulder": {1, 2, 16, 18},
    "left_elbow": {15, 17, 19, 21},
    "right_elbow": {16, 18, 20, 22},
    "left_wrist": {4, 19, 21},
    "right_wrist": {3, 20, 22},
    "left_hip": {1, 2, 8, 10},
    "right_hip": {1, 2, 7, 9},
    "left_knee": {8, 10, 12, 14},
    "right_knee": {7, 9, 11, 13},
    "left_ankle": {5, 12, 14},
    "right_ankle": {6, 11, 13},
}


def test_parts_follow_the_pose(posed_bodies) -> None:
    for kind, seed, body in posed_bodies:
        faces, _, _ = closest_surface_points(body.vertices, body.faces, body.keypoints_coco17)
        for name, face in zip(COCO17_NAMES, faces):
            part = int(body.face_parts[face])
            assert part in EXPECTED_UNDER_KEYPOINT[name], f"{kind} seed {seed}: {name} lies under part {part}"
        for hand, wrist in ((3, "right_wrist"), (4, "left_wrist")):
            hand_vertices = body.vertices[body.faces[body.face_parts == hand]].reshape(-1, 3)
            own = np.linalg.norm(hand_vertices - body.keypoints_coco17[COCO17_NAMES.index(wrist)], axis=1).min()
            other_wrist = body.keypoints_coco17[COCO17_NAMES.index(_mirror(wrist))]
            other = np.linalg.norm(hand_vertices - other_wrist, axis=1).min()
            assert own < 0.05 and own < other, f"{kind} seed {seed}: part {hand} is {own:.3f} m from the {wrist}"
