"""Preparing real scans for the benchmark: plinth cut, cap, life-size scaling, command line."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from human3d.cli import main
from human3d.errors import Human3DError
from human3d.eval.scans import cut_plinth, scale_to_height
from human3d.synth.writer import write_ply

SIDES = 32


def statue() -> trimesh.Trimesh:
    """A closed solid of revolution about y: a plinth (radius 0.5, y 0..0.1), a column (radius 0.2, up to 1.0)."""
    heights = np.round(np.arange(0.1, 1.0001, 0.02), 6)
    profile = [[0.0, 0.0], [0.5, 0.0], [0.5, 0.1], *[[0.2, y] for y in heights], [0.0, 1.0]]
    # revolve works in the (radius, z) plane about z; turn z up into y
    mesh = trimesh.creation.revolve(np.asarray(profile), sections=SIDES)
    mesh.apply_transform(trimesh.transformations.rotation_matrix(-np.pi / 2, [1, 0, 0]))
    mesh.merge_vertices()
    return mesh


def open_edges(mesh: trimesh.Trimesh) -> int:
    _, counts = np.unique(np.sort(mesh.edges, axis=1), axis=0, return_counts=True)
    return int((counts == 1).sum())


def test_cutting_the_plinth_leaves_the_column_closed():
    mesh = statue()
    assert open_edges(mesh) == 0 and mesh.bounds[0, 1] == pytest.approx(0.0, abs=1e-9)
    figure = cut_plinth(mesh, 0.11)
    # the first ring above the cut is at y = 0.12: a closed 32-sided prism from 0.12 to 1.0
    assert figure.bounds[0, 1] == pytest.approx(0.12) and figure.bounds[1, 1] == pytest.approx(1.0)
    assert open_edges(figure) == 0
    prism = 0.5 * SIDES * 0.2**2 * np.sin(2 * np.pi / SIDES) * (1.0 - 0.12)
    assert abs(figure.volume) == pytest.approx(prism, rel=1e-6)
    assert figure.volume > 0  # the cap faces outward (down), like the rest of the surface


def test_scaling_to_a_height():
    scaled = scale_to_height(cut_plinth(statue(), 0.11), 1.75)
    assert scaled.bounds[1, 1] - scaled.bounds[0, 1] == pytest.approx(1.75)
    assert scaled.bounds[1, 0] - scaled.bounds[0, 0] == pytest.approx(0.4 * 1.75 / 0.88, rel=1e-6)


def test_nothing_above_the_cut_is_an_error():
    with pytest.raises(Human3DError, match="nothing of the scan lies above the plinth top y = 2.0"):
        cut_plinth(statue(), 2.0)


def test_prepare_scans_command(tmp_path, capsys):
    source = tmp_path / "scans"
    source.mkdir()
    mesh = statue()
    write_ply(source / "statue.ply", np.asarray(mesh.vertices, np.float32), np.asarray(mesh.faces, np.int32))
    out = tmp_path / "out"
    assert main(["prepare-scans", str(source), str(out), "--plinth", "statue.ply=0.11", "--height", "1.75"]) == 0
    written = trimesh.load(out / "statue.ply", process=False)
    assert written.bounds[1, 1] - written.bounds[0, 1] == pytest.approx(1.75, rel=1e-6)
    assert written.bounds[0, 1] > 0.12  # the plinth is gone: the figure starts at the first ring above the cut
    assert open_edges(written) == 0
    assert f"{out / 'statue.ply'}: " in capsys.readouterr().out
    assert main(["prepare-scans", str(source), str(out), "--height", "tall"]) == 1
    assert capsys.readouterr().err.strip() == "human3d: error: --height tall: expected NUMBER or NAME=NUMBER"


def test_prepare_scans_unknown_name_is_one_line_and_writes_nothing(tmp_path, capsys):
    source = tmp_path / "scans"
    source.mkdir()
    mesh = statue()
    write_ply(source / "statue.ply", np.asarray(mesh.vertices, np.float32), np.asarray(mesh.faces, np.int32))
    out = tmp_path / "out"
    assert main(["prepare-scans", str(source), str(out), "--plinth", "other.ply=0.1"]) == 1
    assert capsys.readouterr().err.strip() == f"human3d: error: {source}: no scan named other.ply"
    assert not out.exists()
