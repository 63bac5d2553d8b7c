"""DensePose's 24 body parts on the anny mesh, derived from anny's skinning weights.

Each bone of anny's rig belongs to one limb group (torso, head, a hand, an upper arm ...). A face
takes the group with the largest summed skinning weight over its three corners; groups are then
split into DensePose's front/back halves (torso, arms, legs) or right/left halves (head) in the
body's own frame, and cleaned so that every part is one connected, manifold patch.

Numbering (DensePose's; "left"/"right" are the person's own):
1/2 torso back/front, 3 right hand, 4 left hand, 5 left foot, 6 right foot,
7/9 right upper leg back/front, 8/10 left upper leg back/front,
11/13 right lower leg back/front, 12/14 left lower leg back/front,
15/17 left upper arm front/back, 16/18 right upper arm front/back,
19/21 left lower arm front/back, 20/22 right lower arm front/back, 23/24 head right/left.
(Note the arms list front first, unlike the torso and legs: DensePose's documentation names only
"upper arm left" for 15/17; a model's output on a person facing the camera shows 15/16/19/20 on
the arms, see github.com/robotology/assistive-rehab/issues/80.)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

PART_NAMES: tuple[str, ...] = (
    "torso_back",
    "torso_front",
    "right_hand",
    "left_hand",
    "left_foot",
    "right_foot",
    "right_upper_leg_back",
    "left_upper_leg_back",
    "right_upper_leg_front",
    "left_upper_leg_front",
    "right_lower_leg_back",
    "left_lower_leg_back",
    "right_lower_leg_front",
    "left_lower_leg_front",
    "left_upper_arm_front",
    "right_upper_arm_front",
    "left_upper_arm_back",
    "right_upper_arm_back",
    "left_lower_arm_front",
    "right_lower_arm_front",
    "left_lower_arm_back",
    "right_lower_arm_back",
    "head_right",
    "head_left",
)
"""Name of DensePose part ``i`` at index ``i - 1`` (0 is the background and has no name)."""
HEAD_PARTS = (23, 24)  # DensePose's head, right and left halves (with the neck)

# Limb groups: (back part, front part) for the groups split front/back, one part otherwise.
# "L"/"R" are anny's bone suffixes: the person's left and right.
_SPLIT_GROUPS: dict[str, tuple[int, int]] = {
    "torso": (1, 2),
    "upper_leg.R": (7, 9),
    "upper_leg.L": (8, 10),
    "lower_leg.R": (11, 13),
    "lower_leg.L": (12, 14),
    "upper_arm.L": (17, 15),
    "upper_arm.R": (18, 16),
    "lower_arm.L": (21, 19),
    "lower_arm.R": (22, 20),
}
_WHOLE_GROUPS: dict[str, int] = {"hand.R": 3, "hand.L": 4, "foot.L": 5, "foot.R": 6}
GROUP_NAMES: tuple[str, ...] = ("head", *_SPLIT_GROUPS, *_WHOLE_GROUPS)

# The bones whose head and tail span each split group, as (start bone's head, end bone's head).
_GROUP_AXES: dict[str, tuple[str, str]] = {
    "upper_leg.R": ("upperleg01.R", "lowerleg01.R"),
    "upper_leg.L": ("upperleg01.L", "lowerleg01.L"),
    "lower_leg.R": ("lowerleg01.R", "foot.R"),
    "lower_leg.L": ("lowerleg01.L", "foot.L"),
    "upper_arm.L": ("upperarm01.L", "lowerarm01.L"),
    "upper_arm.R": ("upperarm01.R", "lowerarm01.R"),
    "lower_arm.L": ("lowerarm01.L", "wrist.L"),
    "lower_arm.R": ("lowerarm01.R", "wrist.R"),
}

_PREFIX_GROUPS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("neck", "head", "eye", "jaw", "tongue"), "head"),
    (("upperarm",), "upper_arm"),
    (("lowerarm",), "lower_arm"),
    (("wrist", "metacarpal", "finger"), "hand"),
    (("upperleg",), "upper_leg"),
    (("lowerleg",), "lower_leg"),
    (("foot", "toe"), "foot"),
)


def bone_group(bone_name: str) -> str:
    """The limb group of one anny bone, e.g. ``"lowerarm02.L"`` -> ``"lower_arm.L"``.

    Bones not on a limb or the head (root, spine, pelvis, clavicles, shoulders) are ``"torso"``.
    """
    base, _, side = bone_name.partition(".")
    for prefixes, group in _PREFIX_GROUPS:
        if base.startswith(prefixes):
            return group if group == "head" else f"{group}.{side}"
    return "torso"


def face_adjacency(faces: np.ndarray) -> sp.csr_matrix:
    """Sparse (F, F) matrix, 1 where two faces share an edge."""
    n_faces = len(faces)
    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    edges = np.sort(edges, axis=1)
    owner = np.tile(np.arange(n_faces), 3)
    order = np.lexsort((edges[:, 1], edges[:, 0]))
    edges, owner = edges[order], owner[order]
    same = np.all(edges[1:] == edges[:-1], axis=1)
    a, b = owner[:-1][same], owner[1:][same]
    data = np.ones(2 * len(a), dtype=np.int8)
    return sp.csr_matrix((data, (np.concatenate([a, b]), np.concatenate([b, a]))), shape=(n_faces, n_faces))


def face_groups(
    faces: np.ndarray,
    bone_names: Sequence[str],
    vertex_bone_indices: np.ndarray,
    vertex_bone_weights: np.ndarray,
    smoothing: int = 8,
) -> np.ndarray:
    """Index into :data:`GROUP_NAMES` of each face: the group with most skinning weight on its corners.

    The per-vertex group weights are first averaged with their neighbours ``smoothing`` times, which
    straightens the group boundaries (raw skinning weights give ragged ones).
    """
    n_vertices = len(vertex_bone_indices)
    bone_to_group = np.array([GROUP_NAMES.index(bone_group(name)) for name in bone_names])
    vertex_weights = np.zeros((n_vertices, len(GROUP_NAMES)))
    rows = np.repeat(np.arange(n_vertices), vertex_bone_indices.shape[1])
    np.add.at(vertex_weights, (rows, bone_to_group[vertex_bone_indices.ravel()]), vertex_bone_weights.ravel())
    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    neighbours = sp.csr_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n_vertices, n_vertices))
    neighbours = ((neighbours + neighbours.T) > 0).astype(np.float64) + sp.identity(n_vertices)
    average = sp.diags(1.0 / np.asarray(neighbours.sum(axis=1)).ravel()) @ neighbours
    for _ in range(smoothing):
        vertex_weights = average @ vertex_weights
    return vertex_weights[faces].sum(axis=1).argmax(axis=1)


def _front_is_positive(
    centroids: np.ndarray, start: np.ndarray, end: np.ndarray, forward: np.ndarray, n_slices: int = 16
) -> np.ndarray:
    """Whether each centroid lies on the front half of a limb running from ``start`` to ``end``.

    The limb is cut into slices along its axis; in each slice the front/back boundary is the middle
    of the slice's extent along ``forward`` (made perpendicular to the axis), interpolated between slices.
    """
    axis = (end - start) / np.linalg.norm(end - start)
    ahead = forward - axis * (forward @ axis)
    ahead /= np.linalg.norm(ahead)
    offset = centroids - start
    along = offset @ axis
    depth = offset @ ahead
    edges = np.quantile(along, np.linspace(0.0, 1.0, n_slices + 1))
    slice_index = np.clip(np.searchsorted(edges, along, side="right") - 1, 0, n_slices - 1)
    centres, middles = [], []
    for k in range(n_slices):
        inside = slice_index == k
        if inside.any():
            centres.append(along[inside].mean())
            middles.append(0.5 * (depth[inside].max() + depth[inside].min()))
    return depth > np.interp(along, centres, middles)


def _absorb_islands(labels: np.ndarray, adjacency: sp.csr_matrix, max_rounds: int = 20) -> np.ndarray:
    """Give every face label one connected patch: smaller islands join their most common neighbour label."""
    labels = labels.copy()
    coo = adjacency.tocoo()
    for _ in range(max_rounds):
        same = labels[coo.row] == labels[coo.col]
        graph = sp.csr_matrix((np.ones(same.sum()), (coo.row[same], coo.col[same])), shape=adjacency.shape)
        n_components, component = connected_components(graph, directed=False)
        sizes = np.bincount(component, minlength=n_components)
        component_label = np.zeros(n_components, dtype=np.int64)
        component_label[component] = labels
        order = np.lexsort((-sizes, component_label))
        first = np.r_[True, component_label[order][1:] != component_label[order][:-1]]
        largest = np.full(labels.max() + 1, -1)
        largest[component_label[order][first]] = order[first]
        island = component != largest[labels]
        if not island.any():
            return labels
        crossing = island[coo.row] & ~same
        votes = sp.csr_matrix(
            (np.ones(crossing.sum()), (component[coo.row[crossing]], labels[coo.col[crossing]])),
            shape=(n_components, labels.max() + 1),
        )
        has_votes = np.asarray(votes.sum(axis=1)).ravel() > 0
        best = np.asarray(votes.argmax(axis=1)).ravel()
        move = island & has_votes[component]
        labels[move] = best[component[move]]
    return labels


def _bowtie_vertices(faces: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Vertices where some part's faces meet in more than one fan (the patch is not manifold there)."""
    bad = []
    for label in np.unique(labels):
        patch = faces[labels == label]
        directed = np.concatenate([patch[:, [0, 1]], patch[:, [1, 2]], patch[:, [2, 0]]])
        key = directed[:, 0].astype(np.int64) * (faces.max() + 1) + directed[:, 1]
        reverse = directed[:, 1].astype(np.int64) * (faces.max() + 1) + directed[:, 0]
        boundary = directed[~np.isin(key, reverse)]
        counts = np.bincount(boundary[:, 0], minlength=faces.max() + 1)
        bad.append(np.flatnonzero(counts > 1))
    return np.unique(np.concatenate(bad))


def _smooth(labels: np.ndarray, adjacency: sp.csr_matrix, rounds: int = 3) -> np.ndarray:
    """Majority filter: a face whose neighbours (two or more of three) agree on another label takes it."""
    labels = labels.copy()
    coo = adjacency.tocoo()
    n_labels = labels.max() + 1
    for _ in range(rounds):
        votes = sp.csr_matrix(
            (np.ones(len(coo.row)), (coo.row, labels[coo.col])), shape=(len(labels), n_labels)
        ).toarray()
        best = votes.argmax(axis=1)
        change = (votes.max(axis=1) >= 2) & (best != labels)
        if not change.any():
            break
        labels[change] = best[change]
    return labels


def face_parts(
    vertices: np.ndarray,
    faces: np.ndarray,
    bone_names: Sequence[str],
    bone_heads: np.ndarray,
    vertex_bone_indices: np.ndarray,
    vertex_bone_weights: np.ndarray,
) -> np.ndarray:
    """DensePose part (1..24, uint8) of each face of a body in its rest pose.

    ``vertices`` and ``bone_heads`` are in the body frame (metres, y up, the person facing +z, their
    left toward +x); ``bone_heads`` is indexed like ``bone_names``. Each part comes out as one
    connected patch whose faces meet edge to edge (no two fans touching at a single vertex).
    """
    adjacency = face_adjacency(faces)
    groups = face_groups(faces, bone_names, vertex_bone_indices, vertex_bone_weights)
    groups = _absorb_islands(_smooth(groups, adjacency), adjacency)
    centroids = vertices[faces].mean(axis=1)
    head = {name: bone_heads[list(bone_names).index(name)] for name in bone_names}
    forward = np.array([0.0, 0.0, 1.0])
    parts = np.zeros(len(faces), dtype=np.int64)
    for g, name in enumerate(GROUP_NAMES):
        member = groups == g
        if name == "head":
            parts[member] = np.where(centroids[member, 0] >= 0.0, 24, 23)
        elif name in _WHOLE_GROUPS:
            parts[member] = _WHOLE_GROUPS[name]
        else:
            if name == "torso":
                start = 0.5 * (head["upperleg01.L"] + head["upperleg01.R"])
                end = head["neck01"]
            else:
                start, end = (head[bone] for bone in _GROUP_AXES[name])
            back, front = _SPLIT_GROUPS[name]
            parts[member] = np.where(_front_is_positive(centroids[member], start, end, forward), front, back)
    for _ in range(10):
        parts = _absorb_islands(_smooth(parts, adjacency), adjacency)
        bowties = _bowtie_vertices(faces, parts)
        if len(bowties) == 0:
            break
        around = np.flatnonzero(np.isin(faces, bowties).any(axis=1))
        for vertex in bowties:
            ring = around[np.any(faces[around] == vertex, axis=1)]
            parts[ring] = np.bincount(parts[ring]).argmax()
    return parts.astype(np.uint8)


def vertex_parts(faces: np.ndarray, face_parts: np.ndarray, n_vertices: int) -> np.ndarray:
    """Per-vertex part (uint8): the part owning most of the faces around each vertex (0 if none)."""
    votes = np.zeros((n_vertices, len(PART_NAMES) + 1), dtype=np.int64)
    np.add.at(votes, (faces.ravel(), np.repeat(face_parts.astype(np.int64), 3)), 1)
    return votes.argmax(axis=1).astype(np.uint8)
