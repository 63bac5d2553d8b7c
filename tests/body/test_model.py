"""The posed body: frame, placement, watertight outward mesh, phenotypes, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from human3d.body import COCO17_NAMES, BodyParams, PosedBody
from human3d.geometry.winding import WindingNumber


def test_shapes_and_dtypes(rest_body: PosedBody) -> None:
    n_faces = len(rest_body.faces)
    assert rest_body.vertices.dtype == np.float32 and rest_body.vertices.shape[1] == 3
    assert rest_body.faces.dtype == np.int32 and rest_body.faces.shape == (n_faces, 3)
    assert rest_body.face_parts.dtype == np.uint8 and rest_body.face_parts.shape == (n_faces,)
    assert rest_body.corner_uv.dtype == np.float32 and rest_body.corner_uv.shape == (n_faces, 3, 2)
    assert rest_body.keypoints_coco17.dtype == np.float32 and rest_body.keypoints_coco17.shape == (17, 3)
    assert rest_body.faces.min() == 0 and rest_body.faces.max() == len(rest_body.vertices) - 1


def test_mesh_is_closed_and_faces_outward(rest_body: PosedBody) -> None:
    mesh = rest_body.to_trimesh()
    assert mesh.is_watertight and mesh.is_winding_consistent
    assert mesh.volume > 0.02  # positive: outward normals; an adult holds tens of litres
    # Points 1 mm off the face centres along the normals are outside; 1 mm against them, inside
    # (a few may cross a thin crease, e.g. between fingers).
    centres = mesh.triangles_center[::97]
    outside = WindingNumber(mesh.vertices, mesh.faces, far_factor=math.inf)(centres + 0.001 * mesh.face_normals[::97])
    inside = WindingNumber(mesh.vertices, mesh.faces, far_factor=math.inf)(centres - 0.001 * mesh.face_normals[::97])
    assert np.mean(outside < 0.5) > 0.97 and np.mean(inside > 0.5) > 0.97


def test_world_frame_and_placement(rest_body: PosedBody) -> None:
    v = rest_body.vertices
    assert v[:, 1].min() == pytest.approx(0.0, abs=1e-6)
    assert 1.4 < v[:, 1].max() < 2.0  # the average adult, metres, y up
    centre = 0.5 * (v.min(axis=0) + v.max(axis=0))
    assert abs(centre[0]) < 1e-5 and abs(centre[2]) < 1e-5
    kp = dict(zip(COCO17_NAMES, rest_body.keypoints_coco17))
    assert kp["nose"][2] > kp["left_ear"][2] + 0.05  # facing +z
    assert kp["left_shoulder"][0] > 0.1 and kp["right_shoulder"][0] < -0.1  # the person's left is +x
    assert kp["nose"][1] > kp["left_shoulder"][1] > kp["left_hip"][1] > kp["left_knee"][1] > kp["left_ankle"][1]


def test_keypoints_lie_inside_the_body(rest_body: PosedBody) -> None:
    joints = [COCO17_NAMES.index(n) for n in ("left_shoulder", "left_hip", "left_knee", "right_ankle", "right_elbow")]
    winding = WindingNumber(rest_body.vertices, rest_body.faces, far_factor=math.inf)
    assert np.all(winding(rest_body.keypoints_coco17[joints]) > 0.99)


def test_phenotype_changes_the_body(body_model) -> None:
    zero = np.zeros((len(body_model.bone_names), 3), dtype=np.float32)
    short = body_model.pose(BodyParams({"height": 0.1}, zero)).vertices[:, 1].max()
    tall = body_model.pose(BodyParams({"height": 0.9}, zero)).vertices[:, 1].max()
    child = body_model.pose(BodyParams({"age": 0.3}, zero)).vertices[:, 1].max()
    adult = body_model.pose(BodyParams({"age": 0.7}, zero)).vertices[:, 1].max()
    assert tall > short + 0.3 and adult > child + 0.3
    thin = body_model.pose(BodyParams({"weight": 0.0}, zero)).to_trimesh().volume
    heavy = body_model.pose(BodyParams({"weight": 1.0}, zero)).to_trimesh().volume
    assert heavy > 1.15 * thin


def test_bad_params_are_refused(body_model) -> None:
    zero = np.zeros((len(body_model.bone_names), 3), dtype=np.float32)
    with pytest.raises(ValueError, match="unknown phenotype parameter"):
        body_model.pose(BodyParams({"shoe_size": 0.5}, zero))
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]"):
        body_model.pose(BodyParams({"age": 1.5}, zero))
    with pytest.raises(ValueError, match="pose must have shape"):
        body_model.pose(BodyParams({}, zero[:10]))
