"""A person's motion as a skeleton animation: anny's 104 bones with rest frames aligned with the world axes.

Each bone's rest frame has the world's axes (metres, y up, facing +z) at the bone's head in anny's rest
A-pose (all-zero pose) of the person's phenotype. Since a pose row of :class:`human3d.body.model.BodyParams`
is a rotation about world-aligned axes at the bone's head applied on top of the parent's, it *is* the bone's
rotation relative to its parent in these frames; the offsets are constant (``rest_joints[c] -
rest_joints[parent]``) and the root's head moves by the motion's translation. Forward kinematics of this
skeleton gives :meth:`human3d.body.model.BodyModel.forward_unplaced`'s joints exactly.

Skinning: anny's weights belong to its own bind pose (its template shaped by the phenotype, bones in their
rest orientations R), not to the A-pose (bones in their reference orientations U). Skinning that bind mesh
with ``inverse_binds`` and the bones' animated frames is anny's own linear-blend skinning, so it gives
``forward_unplaced``'s vertices exactly (re-binding on the A-pose mesh instead was off by up to 4.4 mm in
the tests). In anny's "local-ref" kinematics (anny.utils.kinematics.forward_kinematic) a bone's skinning
rotation is its frame's rotation times ``A = U R^T``, the turn from its bind to its reference orientation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.spatial.transform import Rotation

from human3d.body.model import ANNY_TO_WORLD, BodyModel, BodyParams
from human3d.body.motion import BodyMotion


@dataclass
class RiggedMotion:
    """One person's motion as bones (see the module docstring); J = 104 bones, F frames."""

    id: int
    fps: float
    names: tuple[str, ...]  # anny's bone labels
    parents: np.ndarray  # (J,) int parent of each bone, -1 for the root (bone 0); parents come first
    rest_joints: np.ndarray  # (J, 3) float64 bone heads in the A-pose (unplaced, world axes, metres)
    bind_vertices: np.ndarray  # (V, 3) float64 skin vertices in anny's bind pose (BodyModel.skin_vertices order)
    inverse_binds: np.ndarray  # (J, 4, 4) float64 bind-pose points to each bone's rest frame
    faces: np.ndarray  # (T, 3) int32 skin triangles, counter-clockwise seen from outside
    local_rotations: np.ndarray  # (F, J, 3, 3) float64 each bone's rotation relative to its parent
    root_positions: np.ndarray  # (F, 3) float64 the root's head per frame, placed

    @property
    def offsets(self) -> np.ndarray:
        """(J, 3) each bone's rest head relative to its parent's (the root's: its rest head)."""
        offsets = self.rest_joints - self.rest_joints[np.maximum(self.parents, 0)]
        offsets[0] = self.rest_joints[0]
        return offsets


def bone_parents(body_model: BodyModel) -> np.ndarray:
    """(104,) int parent index of each anny bone, -1 for the root (bone 0); parents come before children."""
    parents = np.array([int(p) for p in body_model.anny.bone_parents])
    parents[0] = -1
    if np.any(parents[1:] >= np.arange(1, len(parents))):
        raise ValueError("anny's bones are not ordered parents first")
    return parents


def _check_motion(motion: BodyMotion, bone_count: int) -> None:
    """Raise ``ValueError`` naming the person and the problem if ``motion`` cannot be exported."""
    poses = np.asarray(motion.poses)
    if poses.ndim != 3 or poses.shape[1:] != (bone_count, 3):
        raise ValueError(f"person {motion.id}: poses must have shape (frames, {bone_count}, 3), got {poses.shape}")
    if len(poses) == 0:
        raise ValueError(f"person {motion.id}: the motion has no frames")
    if np.shape(motion.translations) != (len(poses), 3):
        raise ValueError(
            f"person {motion.id}: translations must have shape ({len(poses)}, 3), got {np.shape(motion.translations)}"
        )
    if not (np.all(np.isfinite(poses)) and np.all(np.isfinite(motion.translations))):
        raise ValueError(f"person {motion.id}: poses and translations must be finite")
    if not motion.fps > 0:
        raise ValueError(f"person {motion.id}: fps must be positive, got {motion.fps}")


def _inverse_binds(body_model: BodyModel, phenotype: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """anny's bind-pose skin vertices (V, 3) and the (J, 4, 4) matrices ``[A | -A h]`` taking them to the bones'
    rest frames (h: a bone's head in the bind pose; A: see the module docstring), world axes."""
    anny = body_model.anny
    with torch.no_grad():
        out = anny(phenotype_kwargs={k: float(v) for k, v in phenotype.items()})
    rest = out["rest_bone_poses"][0, :, :3, :3].cpu().numpy()
    reference = rest if anny.reference_bone_orientations is None else anny.reference_bone_orientations.cpu().numpy()
    turns = ANNY_TO_WORLD @ reference @ np.swapaxes(rest, 1, 2) @ ANNY_TO_WORLD.T
    heads = out["rest_bone_heads"][0].cpu().numpy() @ ANNY_TO_WORLD.T
    inverse_binds = np.tile(np.eye(4), (len(heads), 1, 1))
    inverse_binds[:, :3, :3] = turns
    inverse_binds[:, :3, 3] = -np.einsum("jab,jb->ja", turns, heads)
    return out["rest_vertices"][0].cpu().numpy()[body_model.skin_vertices] @ ANNY_TO_WORLD.T, inverse_binds


def rig_motion(motion: BodyMotion, body_model: BodyModel) -> RiggedMotion:
    """The bones, bind pose and per-frame bone rotations of ``motion`` (``ValueError`` on a bad motion)."""
    bone_count = len(body_model.bone_names)
    _check_motion(motion, bone_count)
    rest = body_model.forward_unplaced(BodyParams(dict(motion.phenotype), np.zeros((bone_count, 3), np.float32)))
    bind_vertices, inverse_binds = _inverse_binds(body_model, motion.phenotype)
    poses = np.asarray(motion.poses, np.float64)
    local = Rotation.from_rotvec(poses.reshape(-1, 3)).as_matrix().reshape(*poses.shape, 3)
    return RiggedMotion(
        id=int(motion.id),
        fps=float(motion.fps),
        names=tuple(body_model.bone_names),
        parents=bone_parents(body_model),
        rest_joints=rest["joints"].astype(np.float64),
        bind_vertices=bind_vertices.astype(np.float64),
        inverse_binds=inverse_binds,
        faces=body_model.topology.faces,
        local_rotations=local,
        root_positions=rest["joints"][0].astype(np.float64) + np.asarray(motion.translations, np.float64),
    )


def skin_weights(body_model: BodyModel, count: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Each skin vertex's ``count`` strongest anny bones, strongest first, and their weights renormalised to
    sum 1: (V, count) int64 bone indices and (V, count) float32 weights (unused slots: bone 0, weight 0).

    anny gives up to 9 bones per vertex (2 skin vertices have 9); with 8 the skinning stays within 0.2 mm of
    anny's, with 4 vertices move by up to 2 cm in moderate poses.
    """
    indices = body_model.anny.vertex_bone_indices.cpu().numpy()[body_model.skin_vertices].astype(np.int64)
    weights = body_model.anny.vertex_bone_weights.cpu().numpy()[body_model.skin_vertices].astype(np.float64)
    order = np.argsort(-weights, axis=1, kind="stable")[:, :count]
    indices = np.take_along_axis(indices, order, axis=1)
    weights = np.take_along_axis(weights, order, axis=1)
    weights = weights / weights.sum(axis=1, keepdims=True)
    indices[weights == 0] = 0
    return indices, weights.astype(np.float32)
