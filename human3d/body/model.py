"""The posable body: anny's mesh with DensePose parts and charts, in the engine's world frame.

World frame of every :class:`PosedBody`: metres, y up, the person facing +z (toward a camera on
the +z axis), their left toward +x; the lowest vertex on the floor y = 0, the body's bounding box
centred on x = z = 0. anny's own frame (z up, facing -y) is converted here and nowhere else.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import anny
import numpy as np
import roma
import torch
import trimesh

from human3d.body.charts import ChartLocator, build_corner_uv
from human3d.body.keypoints import coco17_regressor, regress_keypoints
from human3d.body.parts import face_parts as compute_face_parts
from human3d.body.parts import vertex_parts as compute_vertex_parts

ANNY_TO_WORLD = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])
"""Rotation taking anny's frame (z up, facing -y) to the world frame (y up, facing +z)."""

PHENOTYPE_NAMES: tuple[str, ...] = ("gender", "age", "muscle", "weight", "height", "proportions")
"""anny's phenotype parameters, each in [0, 1] (0.5 = average). gender 0 male .. 1 female; age 0 baby,
1/3 child, 2/3 young adult, 1 old."""


@dataclass
class BodyParams:
    """A deterministic description of one person: shape and pose.

    ``pose`` is (104, 3) float32 rotation vectors (radians), one per anny bone in
    :attr:`BodyModel.bone_names` order, each about world-aligned axes (x the person's left, y up,
    z their front) at the bone's head, applied on top of its parent's (anny's "local-ref"
    parameterisation); all zeros is anny's rest A-pose. Row 0 (the root) turns the whole body.
    """

    phenotype: dict[str, float]
    pose: np.ndarray
    kind: str = "rest"


@dataclass(frozen=True, eq=False)
class BodyTopology:
    """What every posed body of one model shares: triangles, parts, charts (built once per model)."""

    faces: np.ndarray  # (F, 3) int32, counter-clockwise seen from outside
    face_parts: np.ndarray  # (F,) uint8, 1..24
    corner_uv: np.ndarray  # (F, 3, 2) float32 chart coordinates of each corner
    vertex_parts: np.ndarray  # (V,) uint8, 1..24
    locator: ChartLocator = field(repr=False)


@dataclass
class PosedBody:
    """One posed body in the world frame (see the module docstring)."""

    vertices: np.ndarray  # (V, 3) float32
    keypoints_coco17: np.ndarray  # (17, 3) float32, COCO order (keypoints.COCO17_NAMES)
    joints: np.ndarray  # (104, 3) float32 bone heads, BodyModel.bone_names order
    topology: BodyTopology = field(repr=False)

    @property
    def faces(self) -> np.ndarray:
        """(F, 3) int32 triangles, outward-facing (counter-clockwise seen from outside)."""
        return self.topology.faces

    @property
    def face_parts(self) -> np.ndarray:
        """(F,) uint8 DensePose part 1..24 of each face."""
        return self.topology.face_parts

    @property
    def corner_uv(self) -> np.ndarray:
        """(F, 3, 2) float32 (U, V) in [0, 1] of each face corner in its part's chart."""
        return self.topology.corner_uv

    @property
    def locator(self) -> ChartLocator:
        """Finds the chart triangle under a part's (U, V) (shared by every pose of the topology)."""
        return self.topology.locator

    @property
    def vertex_parts(self) -> np.ndarray:
        """(V,) uint8 DensePose part 1..24 of each vertex (the part of most faces around it)."""
        return self.topology.vertex_parts

    def to_trimesh(self) -> trimesh.Trimesh:
        """The body surface as a (watertight) trimesh."""
        return trimesh.Trimesh(self.vertices, self.faces, process=False)


def _main_component_faces(faces: np.ndarray) -> np.ndarray:
    """Indices of the faces of the largest connected piece (the skin, without eyeballs and tongue)."""
    graph = trimesh.graph.face_adjacency(faces)
    components = trimesh.graph.connected_components(graph, nodes=np.arange(len(faces)))
    return np.sort(max(components, key=len))


class BodyModel:
    """anny's full body (13k vertices, 104 bones), built once and posed many times.

    ``skin_vertices``: indices into anny's full vertex list of the skin surface (without eyeballs and
    tongue), the vertices of every :class:`PosedBody`; ``coco17_weights``: COCO-17 keypoints as weights
    over anny's full vertex list.
    """

    def __init__(self, device: str = "cpu") -> None:
        self.device = torch.device(device)
        self.anny = anny.Anny(skinning_method="lbs").to(self.device)
        self.bone_names: tuple[str, ...] = tuple(self.anny.bone_labels)
        all_faces = self.anny.faces.detach().cpu().numpy()
        skin_faces = all_faces[_main_component_faces(all_faces)]
        self.skin_vertices, faces = np.unique(skin_faces, return_inverse=True)
        faces = faces.reshape(-1, 3).astype(np.int32)
        self.coco17_weights = coco17_regressor(self.anny)  # (17, V_full): COCO-17 keypoints from all vertices

        rest = self.forward_unplaced(self.rest_params())
        self.rest_joints: np.ndarray = rest["joints"]  # (104, 3) bone heads of the average body at rest
        rest_vertices = rest["vertices"][self.skin_vertices]
        indices = self.anny.vertex_bone_indices.detach().cpu().numpy()[self.skin_vertices]
        weights = self.anny.vertex_bone_weights.detach().cpu().numpy()[self.skin_vertices]
        parts = compute_face_parts(rest_vertices, faces, self.bone_names, rest["joints"], indices, weights)
        corner_uv = build_corner_uv(rest_vertices, faces, parts)
        torso = np.unique(faces[np.isin(parts, (1, 2))])
        self.rest_torso_front = float(rest_vertices[torso, 2].max())  # chest/belly front of the average body
        self.topology = BodyTopology(
            faces=faces,
            face_parts=parts,
            corner_uv=corner_uv,
            vertex_parts=compute_vertex_parts(faces, parts, len(self.skin_vertices)),
            locator=ChartLocator(corner_uv, parts),
        )

    def rest_params(self) -> BodyParams:
        """The average adult (every phenotype 0.5) in anny's rest A-pose."""
        return BodyParams(
            phenotype={name: 0.5 for name in PHENOTYPE_NAMES},
            pose=np.zeros((len(self.bone_names), 3), dtype=np.float32),
        )

    def forward_unplaced(self, params: BodyParams) -> dict[str, np.ndarray]:
        """Run anny: ``vertices`` (V_full, 3: all of anny's vertices; ``skin_vertices`` indexes the skin) and
        ``joints`` (104, 3 bone heads) in the world frame's axes, metres, not yet placed on the floor."""
        unknown = set(params.phenotype) - set(PHENOTYPE_NAMES)
        if unknown:
            raise ValueError(f"unknown phenotype parameter(s) {sorted(unknown)}; known: {PHENOTYPE_NAMES}")
        outside = {k: v for k, v in params.phenotype.items() if not 0.0 <= float(v) <= 1.0}
        if outside:
            raise ValueError(f"phenotype values must lie in [0, 1], got {outside}")
        pose = np.asarray(params.pose, dtype=np.float64)
        if pose.shape != (len(self.bone_names), 3):
            raise ValueError(f"pose must have shape ({len(self.bone_names)}, 3), got {pose.shape}")
        dtype = self.anny.dtype
        rotvec = torch.as_tensor(pose @ ANNY_TO_WORLD, dtype=dtype, device=self.device)  # = (W^T r) per row
        delta = torch.eye(4, dtype=dtype, device=self.device).repeat(1, len(self.bone_names), 1, 1)
        delta[0, :, :3, :3] = roma.rotvec_to_rotmat(rotvec)
        phenotype = {k: float(v) for k, v in params.phenotype.items()}
        with torch.no_grad():
            out = self.anny(pose_parameters=delta, phenotype_kwargs=phenotype)
        to_world = ANNY_TO_WORLD.T
        return {
            "vertices": out["vertices"][0].cpu().numpy() @ to_world,
            "joints": out["bone_poses"][0, :, :3, 3].cpu().numpy() @ to_world,
        }

    def pose(self, params: BodyParams) -> PosedBody:
        """Shape and pose one body; place it on the floor, centred (see the module docstring)."""
        out = self.forward_unplaced(params)
        vertices = out["vertices"][self.skin_vertices]
        low, high = vertices.min(axis=0), vertices.max(axis=0)
        shift = -np.array([0.5 * (low[0] + high[0]), low[1], 0.5 * (low[2] + high[2])])
        keypoints = regress_keypoints(self.coco17_weights, out["vertices"])
        return PosedBody(
            vertices=(vertices + shift).astype(np.float32),
            keypoints_coco17=(keypoints + shift).astype(np.float32),
            joints=(out["joints"] + shift).astype(np.float32),
            topology=self.topology,
        )


@functools.lru_cache(maxsize=None)
def get_body_model(device: str = "cpu") -> BodyModel:
    """The process-wide :class:`BodyModel` for ``device`` (built on first use, then shared)."""
    return BodyModel(device)
