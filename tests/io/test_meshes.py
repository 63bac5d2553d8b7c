"""Meshes with vertex colours: OBJ, PLY and GLB by extension, atomically."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from human3d.errors import Human3DError
from human3d.io.meshes import read_mesh, write_mesh


@pytest.fixture()
def colored_box():
    box = trimesh.creation.box(extents=(1.0, 2.0, 0.5))
    colors = np.random.default_rng(1).random((len(box.vertices), 3))
    return np.asarray(box.vertices), np.asarray(box.faces), colors


@pytest.mark.parametrize("suffix", [".obj", ".ply", ".glb"])
def test_round_trip_keeps_geometry_and_colours(tmp_path, colored_box, suffix):
    vertices, faces, colors = colored_box
    target = tmp_path / f"mesh{suffix}"
    write_mesh(target, vertices, faces, colors)
    mesh = read_mesh(target)
    np.testing.assert_allclose(mesh.vertices, vertices, atol=1e-6)
    np.testing.assert_array_equal(mesh.faces, faces)
    got = np.asarray(mesh.visual.vertex_colors)[:, :3].astype(float) / 255.0
    np.testing.assert_allclose(got, colors, atol=0.5 / 255 + 1e-6)
    assert mesh.volume == pytest.approx(1.0, rel=1e-6)  # outward faces survive the round trip
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def test_without_colours_and_bad_extension(tmp_path, colored_box):
    vertices, faces, _ = colored_box
    write_mesh(tmp_path / "plain.ply", vertices, faces)
    assert len(read_mesh(tmp_path / "plain.ply").faces) == len(faces)
    with pytest.raises(Human3DError, match=r"mesh\.stl: unsupported mesh format"):
        write_mesh(tmp_path / "mesh.stl", vertices, faces)
    (tmp_path / "junk.obj").write_bytes(b"\x00\x01 not a mesh")
    with pytest.raises(Human3DError, match=r"junk\.obj: not a readable mesh"):
        read_mesh(tmp_path / "junk.obj")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junk.obj", "plain.ply"]
