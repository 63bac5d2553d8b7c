"""``human3d synth`` end to end, and its one-line errors."""

from __future__ import annotations

import json

import cv2
import numpy as np
import trimesh

from human3d.cli import main
from human3d.formats import densepose_coco as coco

FILES = {"rgb.png", "mask.png", "normal_front.png", "normal_back.png", "depth_front.png", "depth_back.png", "iuv.png",
         "parts.png", "labels.png", "instance.png", "mesh.ply", "camera.json", "meta.json",
         "densepose.json"}  # fmt: skip


def _one_error_line(capsys) -> str:
    lines = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert len(lines) == 1
    return lines[0]


def test_cli_writes_two_samples_and_resumes(tmp_path, capsys, body_model):
    out = tmp_path / "out"
    args = ["synth", "--out", str(out), "--count", "2", "--seed", "3", "--size", "96", "--camera", "perspective"]
    assert main(args) == 0
    assert "wrote 2 sample(s)" in capsys.readouterr().out
    for name in ("000000", "000001"):
        sample = out / "samples" / name
        assert {p.name for p in sample.iterdir()} == FILES
        rgb = cv2.imread(str(sample / "rgb.png"))
        assert rgb.shape == (96, 96, 3)
        mesh = trimesh.load(sample / "mesh.ply", process=False)
        assert len(mesh.faces) > 20000 and abs(mesh.bounds[0, 1]) < 0.05  # feet (and soles) on the floor
        meta = json.loads((sample / "meta.json").read_text())
        assert meta["index"] == int(name) and len(meta["people"]) == 1
        assert json.loads((sample / "camera.json").read_text())["kind"] == "perspective"
    document = coco.read_densepose_coco(out / "densepose_coco.json")
    assert [image["id"] for image in document["images"]] == [1, 2]
    settings = json.loads((out / "dataset.json").read_text())
    assert settings["seed"] == 3 and settings["size"] == 96 and settings["camera"] == "perspective"
    assert main(args) == 0
    assert "wrote 0 sample(s)" in capsys.readouterr().out


def test_bad_shard(tmp_path, capsys):
    assert main(["synth", "--out", str(tmp_path / "o"), "--count", "2", "--shard", "3/2"]) == 1
    assert "--shard 3/2" in _one_error_line(capsys)


def test_unwritable_output(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["synth", "--out", str(blocker / "out"), "--count", "1", "--size", "64"]) == 1
    assert f"{blocker / 'out'}: cannot write the output folder" in _one_error_line(capsys)


def test_other_settings_in_the_same_folder(tmp_path, capsys, body_model):
    out = tmp_path / "o"
    assert main(["synth", "--out", str(out), "--count", "1", "--size", "64", "--seed", "1"]) == 0
    capsys.readouterr()
    assert main(["synth", "--out", str(out), "--count", "1", "--size", "64", "--seed", "2"]) == 1
    assert "holds a run with other settings" in _one_error_line(capsys)


def test_corrupt_scan(tmp_path, capsys):
    scans = tmp_path / "scans"
    scans.mkdir()
    (scans / "broken.obj").write_text("this is not a mesh\n")
    assert main(["synth", "--out", str(tmp_path / "o"), "--count", "1", "--size", "64", "--scans", str(scans)]) == 1
    assert "broken.obj: not a readable mesh" in _one_error_line(capsys)
    assert not list((tmp_path / "o" / "samples").glob("0*"))  # nothing half-written


def test_textured_scan_renders_into_the_layout(tmp_path, capsys):
    scans = tmp_path / "scans" / "0001"
    scans.mkdir(parents=True)
    capsule = trimesh.creation.capsule(height=1.2, radius=0.25)
    capsule.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [1, 0, 0]))  # long axis along y
    texture = np.zeros((8, 8, 3), np.uint8)
    texture[..., 0] = 255  # pure red
    from PIL import Image

    uv = np.full((len(capsule.vertices), 2), 0.5)
    capsule.visual = trimesh.visual.TextureVisuals(uv=uv, image=Image.fromarray(texture))
    capsule.export(scans / "0001.obj")
    out = tmp_path / "o"
    scans = str(tmp_path / "scans")
    args = ["synth", "--out", str(out), "--count", "1", "--size", "64", "--scans", scans, "--points", "200"]
    assert main(args) == 0
    sample = out / "samples" / "000000"
    mask = cv2.imread(str(sample / "mask.png"), cv2.IMREAD_GRAYSCALE) > 0
    rows, cols = np.nonzero(mask)
    assert (rows.max() - rows.min()) > 2.5 * (cols.max() - cols.min())  # standing upright, 1.7 x 0.5 m
    rgb = cv2.imread(str(sample / "rgb.png"))[..., ::-1]
    assert (rgb[mask][:, 0] > 2 * rgb[mask][:, 1]).mean() > 0.9  # red texture
    assert json.loads((sample / "meta.json").read_text())["people"][0]["scan"] == "0001.obj"
    assert np.load(sample / "points.npy").shape == (200, 4)


def test_real_scan_renders_upright(shared_dir):
    """A real scanned figure (untextured, watertight) through the scan path: upright, maps consistent."""
    from human3d.synth.scene import SceneConfig, make_sample

    scan = shared_dir / "scans" / "zenobia_in_chains.ply"
    sample = make_sample(0, 0, SceneConfig(size=96, scans=(scan,)), None)
    maps = sample.maps
    rows, cols = np.nonzero(maps.mask)
    assert (rows.max() - rows.min()) > 2 * (cols.max() - cols.min())  # a standing figure, head up
    assert (maps.depth_back[maps.mask] >= maps.depth_front[maps.mask]).all()
    assert (maps.iuv[..., 0] == 0).all() and (maps.instance[maps.mask] == 1).all()
