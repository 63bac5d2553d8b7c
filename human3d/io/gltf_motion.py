"""People's motions as one skinned, animated glTF 2.0 binary file (.glb): a mesh, a skin and an animation each.

Per person (``p`` = ``person<id>``), both at the scene's root: a node ``p`` holding the root of 104 joint
nodes ``p_<anny bone label>``, and the node ``p_body`` of the skinned skin mesh; one skin; one animation ``p``
with one key per frame (time = frame / fps, linear) of every joint's rotation and the root's translation.
Joint nodes have the world's axes at rest (identity rotation, translation = offset from the parent) in anny's
rest A-pose of the person's phenotype, so a joint's animated rotation is the motion's pose row for that bone
and the un-animated scene shows the A-pose. The mesh's vertices are anny's own bind pose, with the inverse
bind matrices that make glTF's skinning equal anny's (see :mod:`human3d.body.rig`). Metres, +y up, the rest
body facing +z: glTF's own convention. See docs/formats.md.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pygltflib
import trimesh
from scipy.spatial.transform import Rotation

from human3d.body.model import BodyModel
from human3d.body.motion import BodyMotion
from human3d.body.rig import RiggedMotion, rig_motion, skin_weights
from human3d.errors import Human3DError
from human3d.io.atomic import atomic_path

INFLUENCE_SETS = 2
"""JOINTS_n/WEIGHTS_n sets per vertex (4 bones each): anny's skinning needs 8 bones (see ``skin_weights``)."""

_FLOAT, _UINT8, _UINT32 = pygltflib.FLOAT, pygltflib.UNSIGNED_BYTE, pygltflib.UNSIGNED_INT
_TYPES = {1: pygltflib.SCALAR, 3: pygltflib.VEC3, 4: pygltflib.VEC4, 16: pygltflib.MAT4}


class _Binary:
    """The file's one buffer, filled array by array, each behind its own buffer view and accessor."""

    def __init__(self, gltf: pygltflib.GLTF2) -> None:
        self.gltf = gltf
        self.chunks: list[bytes] = []
        self.size = 0

    def add(self, array: np.ndarray, component: int, target: int | None = None, bounds: bool = False) -> int:
        """Append ``array`` (rows of 1, 3, 4 or 16 components) and return its accessor's index."""
        array = np.ascontiguousarray(array)
        rows = array.reshape(len(array), -1)
        data = array.tobytes()
        self.gltf.bufferViews.append(
            pygltflib.BufferView(buffer=0, byteOffset=self.size, byteLength=len(data), target=target)
        )
        padding = -len(data) % 4
        self.chunks += [data, b"\0" * padding]
        self.size += len(data) + padding
        self.gltf.accessors.append(
            pygltflib.Accessor(
                bufferView=len(self.gltf.bufferViews) - 1,
                componentType=component,
                count=len(rows),
                type=_TYPES[rows.shape[1]],
                min=rows.min(axis=0).tolist() if bounds else None,
                max=rows.max(axis=0).tolist() if bounds else None,
            )
        )
        return len(self.gltf.accessors) - 1


def _continuous_quaternions(rotations: np.ndarray) -> np.ndarray:
    """(F, J, 4) float32 x, y, z, w quaternions of (F, J, 3, 3) rotations, signs chosen so that each key is
    on the same side as the one before (linear interpolation then takes the short way)."""
    quaternions = Rotation.from_matrix(rotations.reshape(-1, 3, 3)).as_quat().reshape(*rotations.shape[:2], 4)
    for frame in range(1, len(quaternions)):
        flip = np.sum(quaternions[frame] * quaternions[frame - 1], axis=1) < 0
        quaternions[frame, flip] *= -1
    return quaternions.astype(np.float32)


def _add_person(
    gltf: pygltflib.GLTF2, binary: _Binary, rig: RiggedMotion, bones: np.ndarray, weights: np.ndarray
) -> list[int]:
    """Add one person's mesh, joints, skin and animation (``bones``, ``weights``: ``skin_weights``); return the
    indices of the person's two scene nodes: the skeleton's parent and the skinned mesh."""
    prefix = f"person{rig.id}"
    normals = trimesh.Trimesh(rig.bind_vertices, rig.faces, process=False).vertex_normals
    attributes = pygltflib.Attributes(
        POSITION=binary.add(rig.bind_vertices.astype(np.float32), _FLOAT, pygltflib.ARRAY_BUFFER, bounds=True),
        NORMAL=binary.add(normals.astype(np.float32), _FLOAT, pygltflib.ARRAY_BUFFER),
    )
    for n in range(INFLUENCE_SETS):
        sets = slice(4 * n, 4 * n + 4)
        setattr(attributes, f"JOINTS_{n}", binary.add(bones[:, sets].astype(np.uint8), _UINT8, pygltflib.ARRAY_BUFFER))
        setattr(attributes, f"WEIGHTS_{n}", binary.add(weights[:, sets], _FLOAT, pygltflib.ARRAY_BUFFER))
    indices = binary.add(rig.faces.astype(np.uint32).reshape(-1), _UINT32, pygltflib.ELEMENT_ARRAY_BUFFER)
    gltf.meshes.append(
        pygltflib.Mesh(name=f"{prefix}_body", primitives=[pygltflib.Primitive(attributes=attributes, indices=indices)])
    )

    first = len(gltf.nodes)
    joints = list(range(first, first + len(rig.names)))
    for name, offset in zip(rig.names, rig.offsets):
        gltf.nodes.append(pygltflib.Node(name=f"{prefix}_{name}", translation=offset.tolist()))
    for bone, parent in enumerate(rig.parents[1:], start=1):
        gltf.nodes[joints[parent]].children.append(joints[bone])
    inverse_binds = binary.add(np.swapaxes(rig.inverse_binds, 1, 2).astype(np.float32), _FLOAT)  # column-major
    gltf.skins.append(pygltflib.Skin(name=prefix, joints=joints, skeleton=joints[0], inverseBindMatrices=inverse_binds))
    gltf.nodes.append(pygltflib.Node(name=prefix, children=[joints[0]]))
    gltf.nodes.append(pygltflib.Node(name=f"{prefix}_body", mesh=len(gltf.meshes) - 1, skin=len(gltf.skins) - 1))

    times = binary.add(np.arange(len(rig.root_positions), dtype=np.float32) / np.float32(rig.fps), _FLOAT, bounds=True)
    outputs = [binary.add(rig.root_positions.astype(np.float32), _FLOAT)]
    outputs += [binary.add(q, _FLOAT) for q in np.swapaxes(_continuous_quaternions(rig.local_rotations), 0, 1)]
    targets = [(joints[0], "translation")] + [(joint, "rotation") for joint in joints]
    gltf.animations.append(
        pygltflib.Animation(
            name=prefix,
            samplers=[pygltflib.AnimationSampler(input=times, output=o, interpolation="LINEAR") for o in outputs],
            channels=[
                pygltflib.AnimationChannel(sampler=i, target=pygltflib.AnimationChannelTarget(node=node, path=path))
                for i, (node, path) in enumerate(targets)
            ],
        )
    )
    return [len(gltf.nodes) - 2, len(gltf.nodes) - 1]


def merged_animation(animations: list[pygltflib.Animation], name: str) -> pygltflib.Animation:
    """One animation with the samplers and channels of all ``animations`` (they play together)."""
    samplers, channels = [], []
    for animation in animations:
        for channel in animation.channels:
            channels.append(pygltflib.AnimationChannel(sampler=channel.sampler + len(samplers), target=channel.target))
        samplers += animation.samplers
    return pygltflib.Animation(name=name, samplers=samplers, channels=channels)


def write_motion_glb(path: str | Path, motions: list[BodyMotion], body_model: BodyModel,
                     one_animation: bool = False) -> None:
    """Write ``motions`` (one per person, distinct ids) as one skinned, animated ``.glb`` file, atomically: one
    animation per person (Blender makes each an action), or with ``one_animation`` a single animation moving
    everyone (web viewers such as Babylon.js and three.js's examples play the first animation only).

    Bad input (no motion, a repeated id, shapes that do not fit anny's 104 bones) raises :class:`Human3DError`.
    """
    path = Path(path)
    if path.suffix.lower() != ".glb":
        raise Human3DError.for_path(path, "a motion is written as glTF binary: the file name must end in .glb")
    if not motions:
        raise Human3DError.for_path(path, "no motion to write (the list of people is empty)")
    ids = [motion.id for motion in motions]
    if len(set(ids)) != len(ids):
        raise Human3DError.for_path(path, f"people ids must be distinct, got {ids}")
    try:
        rigs = [rig_motion(motion, body_model) for motion in motions]
    except ValueError as error:
        raise Human3DError.for_path(path, str(error)) from None

    gltf = pygltflib.GLTF2(asset=pygltflib.Asset(generator="human3d", version="2.0"))
    binary = _Binary(gltf)
    bones, weights = skin_weights(body_model, 4 * INFLUENCE_SETS)
    nodes = [node for rig in rigs for node in _add_person(gltf, binary, rig, bones, weights)]
    if one_animation:
        gltf.animations = [merged_animation(gltf.animations, "people")]
    gltf.scenes = [pygltflib.Scene(name="people", nodes=nodes)]
    gltf.scene = 0
    blob = b"".join(binary.chunks)
    gltf.buffers = [pygltflib.Buffer(byteLength=len(blob))]
    gltf.set_binary_blob(blob)
    with atomic_path(path) as tmp:
        gltf.save_binary(str(tmp))
