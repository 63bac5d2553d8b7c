"""The sample's true anny body as the reconstruction's body (``human3d eval reconstruction --body true``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from human3d.cli import main
from human3d.errors import Human3DError
from human3d.eval.true_bodies import true_body_guide, true_body_vertices
from human3d.formats import synth_sample as layout
from human3d.formats.synth_sample import read_calib, sample_dirs
from human3d.geometry.crop import crop_to_world, depth_origin
from human3d.io.meshes import read_mesh
from human3d.pifuhd.pipeline import prepare_image
from human3d.synth.scene import SceneConfig
from human3d.synth.writer import generate

pytest.importorskip("anny")


@pytest.fixture(scope="module")
def person_data(tmp_path_factory) -> Path:
    """One synthetic person at 256 px (orthographic, as the benchmark needs)."""
    folder = tmp_path_factory.mktemp("true_body_person")
    generate(folder, 1, 43, SceneConfig(size=256, people=1), progress=False)
    return folder


def test_the_true_body_lies_where_the_benchmark_scores_the_mesh(person_data):
    from human3d.body.model import get_body_model
    from human3d.body.parts import HEAD_PARTS
    from human3d.synth.scene import placed_body

    sample = sample_dirs(person_data)[0]
    calib, size = read_calib(sample)
    truth = read_mesh(sample / layout.MESH)
    rect = prepare_image(sample / layout.RGB, mask=sample / layout.MASK).rect
    vertices = true_body_vertices(sample, rect)
    # the crop frame back to the world through the benchmark's own mapping (z = 0 at the truth's median depth)
    to_world = crop_to_world(rect, size, calib, depth_origin(truth.vertices, calib))
    world = vertices.astype(np.float64) @ to_world[:3, :3].T + to_world[:3, 3]
    placed = np.asarray(placed_body(layout.read_meta(sample)["people"][0], get_body_model()).vertices)
    np.testing.assert_allclose(world, placed, atol=1e-4)
    low, high = truth.bounds
    assert np.all(world > low - 0.01) and np.all(world < high + 0.01)  # inside the clothed person's box
    guide = true_body_guide(sample, rect)
    assert guide.present and np.isin(HEAD_PARTS, guide.face_parts).all()  # the head band can find the head


def test_a_sample_without_an_anny_person_is_refused_naming_it(tmp_path, person_data):
    sample = sample_dirs(person_data)[0]
    copy = tmp_path / "samples" / sample.name
    copy.mkdir(parents=True)
    for path in sample.iterdir():
        if path.is_file():
            (copy / path.name).write_bytes(path.read_bytes())
    meta = layout.read_meta(copy)
    meta["people"][0].pop("pose")  # as a rendered scan's
    (copy / layout.META).write_text(json.dumps(meta))
    rect = prepare_image(copy / layout.RGB, mask=copy / layout.MASK).rect
    with pytest.raises(Human3DError, match=f"^{copy}: no true body to read"):
        true_body_vertices(copy, rect)


def test_a_blind_network_bounded_by_the_true_body_scores_the_body(person_data, tmp_path, blind_checkpoint):
    out = tmp_path / "eval.json"
    args = ["eval", "reconstruction", "--data", str(person_data), "--checkpoint", str(blind_checkpoint),
            "--resolution", "64", "--json", str(out), "--body", "true"]  # fmt: skip
    assert main(args + ["--depth-bound", "on"]) == 0
    data = json.loads(out.read_text())
    assert data["settings"]["body"] == "true" and data["failed"] == 0
    # the network sees no one: the mesh is the body the bound fills, a few cm inside the clothes
    assert 0.3 < data["mean"]["chamfer_cm"] < 2.5, data["mean"]  # measured 1.5


def test_body_true_with_nothing_to_read_is_one_line(person_data, blind_checkpoint, capsys):
    args = ["eval", "reconstruction", "--data", str(person_data), "--checkpoint", str(blind_checkpoint),
            "--body", "true"]  # fmt: skip
    assert main(args) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("human3d: error: --body true changes nothing here") and "--depth-bound on" in err
    assert len(err.splitlines()) == 1
