"""anny's COCO-17 keypoints when only a few bones turn: exact, differentiable and cheap to pose.

anny's keypoints are fixed weights ``w_kv`` over its vertices (:func:`human3d.body.keypoints.coco17_regressor`),
and its vertices are linear-blend skinned from its bind pose: ``y_v = sum_c W_vc T_c v``. In anny's
"local-ref" kinematics a bone with a zero rotation moves exactly as its parent, so when only a few bones
turn (the fitted ones), every bone moves rigidly with its nearest turning ancestor: ``T_c = D_g T0_c``,
``T0_c`` its transform in the A-pose (the all-zero pose) and ``D_g`` its group's turn about the turning
bone's A-pose head, on top of its parent's (:mod:`human3d.body.rig` gives the same skeleton). So a keypoint
is ``k = sum_g R_g m_gk + t_g mu_gk``, with one *moment* ``m_gk = sum over the group's bones c and vertices
v of w_kv W_vc T0_c v`` and *mass* ``mu_gk = sum w_kv W_vc`` per group. The per-bone sums over bind-pose
vertices are linear in anny's blendshape coefficients and are kept as a basis, so a shaped body is reduced
from its bone frames alone (:func:`shaped_bodies`, no mesh shaped or skinned) and posed by a chain of 3x3
products over the turning bones (:func:`posed_keypoints`) instead of skinning 13,718 vertices.

Frames as :meth:`human3d.body.model.BodyModel.forward_unplaced`: world axes (metres, y up, facing +z),
not placed on the floor. Rotations are about world-aligned axes at each bone's head, on top of the
parent's (:class:`human3d.body.model.BodyParams`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import anny
import numpy as np
import roma
import scipy.sparse
import torch

from human3d.body.model import ANNY_TO_WORLD, PHENOTYPE_NAMES, BodyModel


@dataclass(frozen=True)
class KeypointRig:
    """Which bones turn and how anny's keypoints weigh on its bones.

    Group 0 is the root and every bone with no turning ancestor; group ``i + 1`` is ``bones[i]`` and its
    non-turning descendants. ``parents[i]``: the group of ``bones[i]``'s nearest turning ancestor (0 for
    none); parents come before children. K keypoints (17 for COCO-17), J = the anny bones that skin the
    keypoints' vertices (``skin_bones``), G = len(bones) + 1 groups."""

    bones: tuple[int, ...]  # anny bone indices, parents first
    parents: tuple[int, ...]
    skin_bones: torch.Tensor  # (J,) anny indices of the bones with a share in some keypoint
    groups: torch.Tensor  # (J,) the group of each of those bones
    bone_masses: torch.Tensor  # (K, J) sum_v w_kv W_vc
    masses: torch.Tensor  # (G, K) each group's share of each keypoint's weight (a keypoint's shares sum to 1)
    bind_moments: torch.Tensor  # (K, J, 3) sum_v w_kv W_vc v over anny's template (bind pose, world axes)
    bind_moments_basis: torch.Tensor  # (A, K, J, 3) the same over each of anny's A blendshapes

    def to(self, dtype: torch.dtype, device: torch.device | str = "cpu") -> KeypointRig:
        """This rig's weights in ``dtype`` on ``device``."""
        return KeypointRig(self.bones, self.parents, self.skin_bones.to(device), self.groups.to(device),
                           *(getattr(self, name).to(device, dtype)
                             for name in ("bone_masses", "masses", "bind_moments", "bind_moments_basis")))


def build_keypoint_rig(body: BodyModel, bones: list[int], weights: np.ndarray | scipy.sparse.sparray | None = None
                       ) -> KeypointRig:
    """The :class:`KeypointRig` of ``body``'s COCO-17 keypoints when only ``bones`` (anny indices) turn; or of
    any points that are fixed ``weights`` [K, V_full] over anny's vertices (a keypoint regressor, or one-hot
    rows for single vertices; dense or a scipy sparse array)."""
    weights = body.coco17_weights if weights is None else weights
    parents_all = [int(p) for p in body.anny.bone_parents]
    order = sorted(bones, key=lambda bone: depth(parents_all, bone))
    group_of_bone = {bone: i + 1 for i, bone in enumerate(order)}

    def group(bone: int) -> int:
        while bone >= 0 and bone not in group_of_bone:
            bone = parents_all[bone]
        return group_of_bone.get(bone, 0)

    pairs = scipy.sparse.coo_array(weights)
    pairs.sum_duplicates()
    count, keypoints, vertices = pairs.shape[0], pairs.row, pairs.col
    indices = body.anny.vertex_bone_indices.detach().cpu().numpy()[vertices]
    skin = body.anny.vertex_bone_weights.detach()[vertices].cpu().double().numpy()
    entry_weights = pairs.data.astype(np.float64)[:, None] * skin  # (nonzero pairs, bones per vertex)
    kept = entry_weights != 0
    skin_bones, bone_columns = np.unique(indices[kept], return_inverse=True)
    entry_vertices = np.broadcast_to(vertices[:, None], kept.shape)[kept]
    cells = np.broadcast_to(keypoints[:, None], kept.shape)[kept] * len(skin_bones) + bone_columns
    size = count * len(skin_bones)  # (keypoint, skin bone) cells, flattened
    gather = scipy.sparse.csr_matrix((entry_weights[kept], (cells, np.arange(len(cells)))), shape=(size, len(cells)))
    bone_masses = np.asarray(gather.sum(axis=1)).reshape(count, len(skin_bones))
    to_world = ANNY_TO_WORLD.T  # row vectors: world = anny @ ANNY_TO_WORLD.T
    chosen = torch.as_tensor(entry_vertices, device=body.anny.blendshapes.device)
    anny_shapes = torch.cat([body.anny.template_vertices[chosen][None], body.anny.blendshapes[:, chosen]])
    shapes = anny_shapes.detach().cpu().double().numpy() @ to_world  # (A + 1, entries, 3)
    summed = (gather @ shapes.transpose(1, 0, 2).reshape(len(cells), -1)).reshape(size, len(shapes), 3)
    summed = summed.transpose(1, 0, 2).reshape(len(shapes), count, len(skin_bones), 3)
    groups = np.array([group(int(bone)) for bone in skin_bones], dtype=np.int64)
    masses = np.zeros((len(order) + 1, count))
    np.add.at(masses, groups, bone_masses.T)
    return KeypointRig(tuple(order), tuple(group(parents_all[bone]) for bone in order), torch.from_numpy(skin_bones),
                       torch.from_numpy(groups), torch.from_numpy(bone_masses), torch.from_numpy(masses),
                       torch.from_numpy(summed[0]), torch.from_numpy(summed[1:]))


def blendshape_coefficients(model: anny.Anny, phenotype: torch.Tensor) -> torch.Tensor:
    """anny's blendshape coefficients [B, A] of phenotype values [B, 6] (:data:`PHENOTYPE_NAMES` order)."""
    values = {name: phenotype[:, i] for i, name in enumerate(PHENOTYPE_NAMES)}
    return model.get_phenotype_blendshape_coefficients(**values)


def rest_bone_poses(model: anny.Anny, coefficients: torch.Tensor) -> torch.Tensor:
    """anny's bind-pose bone frames [B, J, 4, 4] (anny's axes) for blendshape ``coefficients`` [B, A], without
    shaping its mesh: heads and orientation matrices are linear in the coefficients, and each orientation is
    the rotation nearest its matrix (anny's "cached" bone orientation); other kinds go through anny."""
    if model.bone_orientation != "cached" or model.rest_orientation_refiner is not None:
        return model.get_rest_model(coefficients)["rest_bone_poses"]
    heads = model.template_bone_heads + torch.einsum("ba,ajd->bjd", coefficients, model.bone_heads_blendshapes)
    matrices = model.bone_template_orientation_matrices + torch.einsum(
        "ba,ajxy->bjxy", coefficients, model.bone_orientation_blendshapes)
    poses = torch.zeros(*heads.shape[:2], 4, 4, dtype=heads.dtype, device=heads.device)
    poses[..., :3, :3] = roma.special_procrustes(matrices)
    poses[..., :3, 3] = heads
    poses[..., 3, 3] = 1.0
    if model.root_identity_orientation:
        poses[:, 0, :3, :3] = torch.eye(3, dtype=heads.dtype, device=heads.device)
    return poses


def shaped_bodies(model: anny.Anny, rig: KeypointRig, phenotype: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Heads and moments (:func:`shaped_rig`) of bodies with phenotype values [B, 6], from anny's bind pose and
    A-pose skeleton, without shaping or skinning its mesh (``model`` and ``rig`` of one dtype)."""
    coefficients = blendshape_coefficients(model, phenotype)
    identity = torch.eye(4, dtype=phenotype.dtype, device=phenotype.device).expand(
        len(phenotype), len(model.bone_parents), 4, 4)
    transforms, poses = model.get_bone_transforms(identity, rest_bone_poses(model, coefficients))
    to_world = torch.as_tensor(ANNY_TO_WORLD, dtype=phenotype.dtype, device=phenotype.device)
    world = transforms.clone()  # anny's axes -> world axes: conjugate the rotations, turn the shifts
    world[..., :3, :3] = to_world @ transforms[..., :3, :3] @ to_world.T
    world[..., :3, 3] = transforms[..., :3, 3] @ to_world.T
    return shaped_rig(rig, coefficients, world, poses[..., :3, 3] @ to_world.T)


def depth(parents: list[int], bone: int) -> int:
    """How many ancestors ``bone`` has in the tree ``parents`` (-1 above the root)."""
    count = 0
    while parents[bone] >= 0:
        bone, count = parents[bone], count + 1
    return count


def shaped_rig(rig: KeypointRig, coefficients: torch.Tensor, bind_transforms: torch.Tensor,
               joints: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Heads [B, G, 3] and moments [B, G, K, 3] of bodies shaped by anny's blendshape ``coefficients``
    [B, A], from the skinning transforms of their A-pose (all-zero pose) [B, J, 4, 4] and A-pose bone heads
    [B, J, 3] (world axes, unplaced). A moment is a group's share of a keypoint in the A-pose:
    ``m_gk = sum over the group's bones c and vertices v of w_kv W_vc T_c v``, v in the bind pose."""
    batch = len(coefficients)
    per_bone = rig.bind_moments + torch.einsum("ba,akcd->bkcd", coefficients, rig.bind_moments_basis)
    bind_transforms = bind_transforms[:, rig.skin_bones]
    posed = (torch.einsum("bcij,bkcj->bkci", bind_transforms[..., :3, :3], per_bone)
             + bind_transforms[:, None, :, :3, 3] * rig.bone_masses[None, :, :, None])
    groups = len(rig.bones) + 1
    moments = posed.new_zeros(batch, len(rig.bone_masses), groups, 3).index_add(2, rig.groups, posed)
    heads = torch.cat([joints[:, :1], joints[:, list(rig.bones)]], dim=1)
    return heads, moments.transpose(1, 2)


@functools.lru_cache(maxsize=None)
def chain_levels(parents: tuple[int, ...]) -> tuple[tuple[int, int, list[int]], ...]:
    """The turning bones (``KeypointRig.parents``) in runs ``(start, stop, parent groups)`` of consecutive
    bones whose parents all come before the run: each run can be posed at once."""
    levels, start = [], 0
    while start < len(parents):
        stop = start + 1
        while stop < len(parents) and parents[stop] <= start:
            stop += 1
        levels.append((start, stop, list(parents[start:stop])))
        start = stop
    return tuple(levels)


def posed_keypoints(rig: KeypointRig, heads: torch.Tensor, moments: torch.Tensor, rotations: torch.Tensor,
                    masses: torch.Tensor | None = None) -> torch.Tensor:
    """Keypoints [B, K, 3] of shaped bodies (:func:`shaped_rig`) whose turning bones have ``rotations``
    [B, len(bones), 3, 3], in ``rig.bones`` order (world-aligned axes, about each bone's head). ``masses``
    [B, G, K]: the groups' shares of other points than the rig's own (per body), with their ``moments``."""
    batch = len(heads)
    linear = torch.eye(3, dtype=heads.dtype, device=heads.device).expand(batch, 1, 3, 3)
    shift = heads.new_zeros(batch, 1, 3)
    for start, stop, parents in chain_levels(rig.parents):  # the bones of a level turn at once
        rotation, head = rotations[:, start:stop], heads[:, start + 1:stop + 1]
        above, moved = linear[:, parents], shift[:, parents]
        turned = head - (rotation @ head[..., None])[..., 0]  # rotation about the head
        linear = torch.cat([linear, above @ rotation], dim=1)
        shift = torch.cat([shift, moved + (above @ turned[..., None])[..., 0]], dim=1)
    # linear, shift: (B, G, 3, 3), (B, G, 3)
    shifted = (torch.einsum("bgi,gk->bki", shift, rig.masses) if masses is None
               else torch.einsum("bgi,bgk->bki", shift, masses))
    return torch.einsum("bgij,bgkj->bki", linear, moments) + shifted
