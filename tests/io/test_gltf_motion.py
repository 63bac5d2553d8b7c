"""The animated .glb: re-read with pygltflib and trimesh, skinned here by hand frame by frame against anny."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pygltflib
import pytest
import trimesh
from scipy.spatial.transform import Rotation

from human3d.body import BodyModel, BodyParams
from human3d.body.motion import BodyMotion
from human3d.errors import Human3DError
from human3d.io.gltf_motion import write_motion_glb

TOLERANCE_M = 0.002

_DTYPES = {5121: np.uint8, 5123: np.uint16, 5125: np.uint32, 5126: np.float32}
_WIDTHS = {"SCALAR": 1, "VEC3": 3, "VEC4": 4, "MAT4": 16}


@pytest.fixture(scope="module")
def written(tmp_path_factory, make_motion, body_model: BodyModel) -> tuple[Path, list[BodyMotion], pygltflib.GLTF2]:
    motions = [make_motion(1, frames=4, id=3, fps=30.0), make_motion(2, frames=3, id=7, fps=24.0)]
    path = tmp_path_factory.mktemp("glb") / "people.glb"
    write_motion_glb(path, motions, body_model)
    return path, motions, pygltflib.GLTF2().load(str(path))


def _accessor(gltf: pygltflib.GLTF2, index: int) -> np.ndarray:
    """An accessor's data as (count, width) (tightly packed buffer views, as the writer makes them)."""
    accessor = gltf.accessors[index]
    view = gltf.bufferViews[accessor.bufferView]
    assert view.byteStride in (None, 0)
    dtype, width = _DTYPES[accessor.componentType], _WIDTHS[accessor.type]
    start = view.byteOffset + (accessor.byteOffset or 0)
    data = np.frombuffer(gltf.binary_blob(), dtype, accessor.count * width, start)
    return data.reshape(accessor.count, width)


def _local_matrix(node: pygltflib.Node, translation=None, rotation=None) -> np.ndarray:
    matrix = np.eye(4)
    matrix[:3, :3] = Rotation.from_quat(rotation if rotation is not None else node.rotation or [0, 0, 0, 1]).as_matrix()
    matrix[:3, 3] = translation if translation is not None else node.translation or [0, 0, 0]
    return matrix


def _skinned(gltf: pygltflib.GLTF2, person: int, frame: int | None) -> np.ndarray:
    """Linear-blend skinning of person ``person``'s mesh at animation key ``frame`` (None: the nodes at rest)."""
    keys: dict[int, dict[str, np.ndarray]] = {}
    if frame is not None:
        animation = gltf.animations[person]
        for channel in animation.channels:
            values = _accessor(gltf, animation.samplers[channel.sampler].output)[frame]
            keys.setdefault(channel.target.node, {})[channel.target.path] = values
    world: dict[int, np.ndarray] = {}

    def visit(node_index: int, parent: np.ndarray) -> None:
        node = gltf.nodes[node_index]
        world[node_index] = parent @ _local_matrix(node, **keys.get(node_index, {}))
        for child in node.children:
            visit(child, world[node_index])

    for root in gltf.scenes[gltf.scene].nodes:
        visit(root, np.eye(4))
    skin = gltf.skins[person]
    inverse_binds = _accessor(gltf, skin.inverseBindMatrices).reshape(-1, 4, 4).transpose(0, 2, 1)
    joint_matrices = np.stack([world[j] for j in skin.joints]) @ inverse_binds
    attributes = gltf.meshes[person].primitives[0].attributes
    rest = _accessor(gltf, attributes.POSITION).astype(np.float64)
    skinned = np.zeros_like(rest)
    for n in (0, 1):
        joints = _accessor(gltf, getattr(attributes, f"JOINTS_{n}")).astype(int)
        weights = _accessor(gltf, getattr(attributes, f"WEIGHTS_{n}")).astype(np.float64)
        for k in range(4):
            matrices = joint_matrices[joints[:, k]]
            moved = np.einsum("vab,vb->va", matrices[:, :3, :3], rest) + matrices[:, :3, 3]
            skinned += weights[:, k, None] * moved
    return skinned


def test_pygltflib_reads_one_skin_and_one_animation_per_person(written, body_model: BodyModel) -> None:
    path, motions, gltf = written
    assert len(gltf.meshes) == len(gltf.skins) == len(gltf.animations) == len(motions) == 2
    names = [node.name for node in gltf.nodes]
    assert len(set(names)) == len(names)
    for person, motion in enumerate(motions):
        skin, animation = gltf.skins[person], gltf.animations[person]
        assert len(skin.joints) == 104
        assert [gltf.nodes[j].name for j in skin.joints] == [f"person{motion.id}_{b}" for b in body_model.bone_names]
        assert animation.name == f"person{motion.id}"
        assert len(animation.channels) == 105  # every joint's rotation and the root's translation
        for sampler in animation.samplers:
            times = _accessor(gltf, sampler.input)[:, 0]
            np.testing.assert_allclose(times, np.arange(motion.frames) / motion.fps, atol=1e-6)
            assert len(_accessor(gltf, sampler.output)) == motion.frames
        attributes = gltf.meshes[person].primitives[0].attributes
        weights = sum(_accessor(gltf, getattr(attributes, f"WEIGHTS_{n}")).sum(axis=1) for n in (0, 1))
        np.testing.assert_allclose(weights, 1.0, atol=1e-5)
        assert max(_accessor(gltf, getattr(attributes, f"JOINTS_{n}")).max() for n in (0, 1)) < 104


def test_one_animation_moves_everyone_with_the_same_channels(written, tmp_path, body_model: BodyModel) -> None:
    _, motions, apart = written
    path = tmp_path / "together.glb"
    write_motion_glb(path, motions, body_model, one_animation=True)
    together = pygltflib.GLTF2().load(str(path))
    assert len(together.animations) == 1 and together.animations[0].name == "people"
    merged = together.animations[0]
    expected = [(c.target.node, c.target.path, s.input, s.output) for a in apart.animations
                for c, s in ((c, a.samplers[c.sampler]) for c in a.channels)]
    got = [(c.target.node, c.target.path, merged.samplers[c.sampler].input, merged.samplers[c.sampler].output)
           for c in merged.channels]
    assert got == expected and len(got) == 2 * 105


def test_trimesh_reads_a_scene_with_each_person_mesh(written, body_model: BodyModel) -> None:
    path, motions, _ = written
    scene = trimesh.load(path)
    assert isinstance(scene, trimesh.Scene)
    meshes = list(scene.geometry.values())
    assert len(meshes) == len(motions)
    for mesh in meshes:
        assert mesh.vertices.shape == (len(body_model.skin_vertices), 3)
        assert len(mesh.faces) == len(body_model.topology.faces)


def test_the_scene_at_rest_is_anny_rest_pose(written, body_model: BodyModel) -> None:
    _, motions, gltf = written
    for person, motion in enumerate(motions):
        zeros = np.zeros((104, 3), np.float32)
        rest = body_model.forward_unplaced(BodyParams(motion.phenotype, zeros))["vertices"][body_model.skin_vertices]
        error = np.linalg.norm(_skinned(gltf, person, None) - rest, axis=1).max()
        print(f"glTF skinning at rest vs anny: max {1e3 * error:.4f} mm")
        assert error < TOLERANCE_M


def test_every_frame_skins_to_anny_within_2_mm(written, body_model: BodyModel) -> None:
    _, motions, gltf = written
    errors = []
    for person, motion in enumerate(motions):
        for frame in range(motion.frames):
            out = body_model.forward_unplaced(BodyParams(motion.phenotype, motion.poses[frame]))
            expected = out["vertices"][body_model.skin_vertices] + motion.translations[frame]
            errors.append(np.linalg.norm(_skinned(gltf, person, frame) - expected, axis=1).max())
    print(f"glTF skinning vs anny: max {1e3 * max(errors):.3f} mm over {len(errors)} frames")
    assert max(errors) < TOLERANCE_M


def test_bad_inputs_raise_one_line_errors(tmp_path: Path, make_motion, body_model: BodyModel) -> None:
    path = tmp_path / "bad.glb"
    with pytest.raises(Human3DError, match="empty"):
        write_motion_glb(path, [], body_model)
    wrong_bones = make_motion(1)
    wrong_bones.poses = wrong_bones.poses[:, :50]
    with pytest.raises(Human3DError, match=r"poses must have shape \(frames, 104, 3\)"):
        write_motion_glb(path, [wrong_bones], body_model)
    wrong_translations = make_motion(1)
    wrong_translations.translations = wrong_translations.translations[:2]
    with pytest.raises(Human3DError, match=r"translations must have shape \(4, 3\)"):
        write_motion_glb(path, [wrong_translations], body_model)
    no_frames = BodyMotion({}, np.zeros((0, 104, 3)), np.zeros((0, 3)), 30.0)
    with pytest.raises(Human3DError, match="no frames"):
        write_motion_glb(path, [no_frames], body_model)
    with pytest.raises(Human3DError, match="distinct"):
        write_motion_glb(path, [make_motion(1, id=2), make_motion(2, id=2)], body_model)
    with pytest.raises(Human3DError, match=".glb"):
        write_motion_glb(tmp_path / "bad.gltf", [make_motion(1)], body_model)
    assert list(tmp_path.iterdir()) == []
