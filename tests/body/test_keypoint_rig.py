"""The keypoint rig: anny's COCO-17 keypoints, posed through a few turning bones, equal anny's own."""

from __future__ import annotations

import numpy as np
import scipy.sparse
import torch

from human3d.body.keypoint_rig import build_keypoint_rig, posed_keypoints, shaped_bodies
from human3d.body.keypoints import regress_keypoints
from human3d.body.model import PHENOTYPE_NAMES, BodyParams
from human3d.fit.priors import FITTED_BONES


def test_posed_keypoints_equal_anny_skinned_and_regressed(body_model):
    bones = [body_model.bone_names.index(bone) for bone in FITTED_BONES]
    dtype = body_model.anny.dtype
    rig = build_keypoint_rig(body_model, bones).to(dtype)
    rng = np.random.default_rng(0)
    phenotype = rng.uniform(0.05, 0.95, (3, 6))
    heads, moments = shaped_bodies(body_model.anny, rig, torch.tensor(phenotype, dtype=dtype))
    for body in range(3):
        pose = np.zeros((len(body_model.bone_names), 3), np.float32)
        pose[bones] = rng.normal(0, 0.5, (len(bones), 3))
        params = BodyParams(dict(zip(PHENOTYPE_NAMES, phenotype[body])), pose)
        full = body_model.forward_unplaced(params)
        truth = regress_keypoints(body_model.coco17_weights, full["vertices"])
        rotations = torch.tensor(np.stack([rotation(pose[bone]) for bone in rig.bones]), dtype=dtype)
        ours = posed_keypoints(rig, heads[body:body + 1], moments[body:body + 1], rotations[None])[0].numpy()
        assert np.abs(ours - truth).max() < 1e-5  # metres: the same keypoints, to rounding


def test_every_keypoint_is_shared_out_whole_and_parents_come_first(body_model):
    bones = [body_model.bone_names.index(bone) for bone in FITTED_BONES]
    rig = build_keypoint_rig(body_model, bones)
    assert sorted(rig.bones) == sorted(bones)
    assert torch.allclose(rig.masses.sum(dim=0), torch.ones(17, dtype=rig.masses.dtype))
    assert all(parent <= i for i, parent in enumerate(rig.parents))  # group i + 1's parent is an earlier group
    assert rig.parents[rig.bones.index(body_model.bone_names.index("lowerleg01.L"))] == (
        1 + rig.bones.index(body_model.bone_names.index("upperleg01.L")))


def test_points_on_the_skin_as_sparse_weights_pose_as_annys_vertices(body_model):
    bones = [body_model.bone_names.index(bone) for bone in FITTED_BONES]
    dtype = body_model.anny.dtype
    vertex_count = body_model.coco17_weights.shape[1]
    rng = np.random.default_rng(1)
    corners = rng.choice(body_model.skin_vertices, size=(20, 3))
    barycentric = rng.dirichlet(np.ones(3), size=20)
    rows = np.repeat(np.arange(20), 3)
    sparse = scipy.sparse.csr_array((barycentric.ravel(), (rows, corners.ravel())), shape=(20, vertex_count))
    rig = build_keypoint_rig(body_model, bones, sparse).to(dtype)
    dense_rig = build_keypoint_rig(body_model, bones, sparse.toarray()).to(dtype)
    assert len(rig.skin_bones) < len(body_model.bone_names)  # only the bones that skin these points are kept
    phenotype = torch.tensor(rng.uniform(0.05, 0.95, (1, 6)), dtype=dtype)
    pose = np.zeros((len(body_model.bone_names), 3), np.float32)
    pose[bones] = rng.normal(0, 0.5, (len(bones), 3))
    rotations = torch.tensor(np.stack([rotation(pose[bone]) for bone in rig.bones]), dtype=dtype)[None]
    full = body_model.forward_unplaced(BodyParams(dict(zip(PHENOTYPE_NAMES, phenotype[0].tolist())), pose))
    truth = np.einsum("nc,ncd->nd", barycentric, full["vertices"][corners])
    for built in (rig, dense_rig):
        heads, moments = shaped_bodies(body_model.anny, built, phenotype)
        ours = posed_keypoints(built, heads, moments, rotations)[0].numpy()
        assert np.abs(ours - truth).max() < 1e-5


def rotation(rotvec: np.ndarray) -> np.ndarray:
    """Rodrigues' formula."""
    angle = np.linalg.norm(rotvec)
    if angle < 1e-12:
        return np.eye(3)
    k = rotvec / angle
    cross = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(angle) * cross + (1 - np.cos(angle)) * cross @ cross
