"""``human3d reconstruct`` and ``human3d weights`` end to end, re-reading what they write."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from human3d.cli import main
from human3d.io.images import read_image, write_image
from human3d.io.meshes import read_mesh
from human3d.pifuhd.checkpoint import save_checkpoint
from human3d.pifuhd.model import PifuhdNet, checkpoint_dict
from human3d.pifuhd.options import CoarseConfig, FineConfig, GeneratorConfig, PifuhdConfig
from human3d.pifuhd.pipeline import pifuhd_grid
from human3d.surface import dense_field, extract_mesh

RESOLUTION = 40


@pytest.fixture()
def weights_env(tmp_path, monkeypatch):
    """An empty weights folder, and an installation without the bundled default weights."""
    from human3d.weights import registry

    folder = tmp_path / "weights"
    folder.mkdir()
    monkeypatch.setenv("HUMAN3D_WEIGHTS", str(folder))
    monkeypatch.setattr(registry, "PACKAGE_DIR", tmp_path / "no_bundled_weights")
    return folder


def test_batch_folder_with_side_files_matches_the_library(reference_run, tmp_path, weights_env, capsys):
    """A folder: one photo with its keypoints side file, one broken image; the default weights are the reference."""
    (weights_env / "pifuhd.pt").symlink_to(reference_run.folder / "checkpoint.pt")
    photos = tmp_path / "photos"
    photos.mkdir()
    write_image(photos / "person.png", reference_run.vectors["src_image_rgb"])
    keypoints = reference_run.vectors["src_keypoints_selected"].reshape(-1).tolist()
    (photos / "person_keypoints.json").write_text(json.dumps({"people": [{"pose_keypoints_2d": keypoints}]}))
    (photos / "broken.png").write_text("not an image")
    out, normals = tmp_path / "out", tmp_path / "normals"

    args = ["reconstruct", str(photos), "-o", str(out), "--format", "ply", "--resolution", str(RESOLUTION),
            "--save-normals", str(normals), "--colors", "normal"]
    assert main(args) == 1  # one image failed
    captured = capsys.readouterr()
    assert f"{photos / 'broken.png'}: not an image" in captured.err
    assert captured.err.count("CC BY-NC 4.0") == 1  # official file name: the licence is shown once
    assert sorted(p.name for p in out.iterdir()) == ["person.ply"]

    grid = pifuhd_grid(RESOLUTION)
    vertices, faces = extract_mesh(dense_field(reference_run.predictor.occupancy, grid).values, grid)
    mesh = read_mesh(out / "person.ply")
    np.testing.assert_array_equal(mesh.faces, faces)
    np.testing.assert_allclose(mesh.vertices, vertices, atol=1e-5)
    colors = np.asarray(mesh.visual.vertex_colors)[:, :3] / 255.0
    expected = 0.5 * reference_run.predictor.surface_normals(vertices.astype(np.float32)) + 0.5
    assert np.abs(colors - expected).max() <= 0.5 / 255 + 1e-3

    for side in ("front", "back"):
        saved = np.load(normals / f"person_{side}.npy")
        assert saved.dtype == np.float32 and saved.shape == (3, 512, 512)
        np.testing.assert_allclose(saved, reference_run.vectors[f"normal_{side}"][0], atol=1e-4)
        picture = read_image(normals / f"person_{side}.png")
        assert picture.shape == (512, 512, 3)
        np.testing.assert_allclose(picture / 255.0, saved.transpose(1, 2, 0) * 0.5 + 0.5, atol=0.51 / 255)

    before = (out / "person.ply").stat().st_mtime_ns
    (photos / "broken.png").unlink()
    assert main(args) == 0  # finished outputs are skipped: nothing is recomputed
    assert "exists, skipped" in capsys.readouterr().err
    assert (out / "person.ply").stat().st_mtime_ns == before


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    """A small checkpoint of another configuration (random weights) written by our writer."""
    torch.manual_seed(0)
    options = PifuhdConfig(
        coarse=CoarseConfig(True, True, 1, 2, 32, "group", "ave_pool", (33, 32, 32, 1), (1, 2), 1, "none", 512, 200.0),
        fine=FineConfig(1, 1, 8, "group", (40, 16, 1), (1,), "none", 128),
        front_generator=GeneratorConfig(4, 3, 1),
        back_generator=GeneratorConfig(4, 3, 1),
    )
    model = PifuhdNet(options)
    with torch.no_grad():  # make the occupancy depend on depth so that a surface exists
        model.netG.mlp.filters[0].weight[:, -1] *= 50.0
        model.mlp.filters[-1].bias.fill_(0.0)
    path = tmp_path_factory.mktemp("tiny") / "tiny.pt"
    save_checkpoint(checkpoint_dict(model, "tiny"), path)
    return path


def test_single_image_with_mask_to_glb(shared_dir, tiny_checkpoint, tmp_path, capsys):
    target = tmp_path / "ryota.glb"
    photos = shared_dir / "photos"
    args = ["reconstruct", str(photos / "ryota.png"), "--mask", str(photos / "ryota_mask.png"),
            "--checkpoint", str(tiny_checkpoint), "--resolution", "32", "--largest-component", "-o", str(target)]
    assert main(args) == 0
    mesh = read_mesh(target)
    assert len(mesh.faces) > 0 and len(mesh.split(only_watertight=False)) == 1
    assert np.abs(mesh.vertices).max() <= 1.0 + 1e-6
    colors = np.asarray(mesh.visual.vertex_colors)[:, :3]
    assert colors.std() > 0
    assert "licence" not in capsys.readouterr().err  # not the official weights: no notice
    assert main(args) == 0 and "exists, skipped" in capsys.readouterr().err
    assert main(args + ["--overwrite"]) == 0 and "exists" not in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ryota.glb"]


def test_a_turntable_is_written_beside_the_mesh(shared_dir, tiny_checkpoint, tmp_path):
    from human3d.io.video import VideoReader

    photos = shared_dir / "photos"
    target, turntable = tmp_path / "ryota.obj", tmp_path / "videos" / "ryota_turn.mp4"
    assert main(["reconstruct", str(photos / "ryota.png"), "--mask", str(photos / "ryota_mask.png"),
                 "--checkpoint", str(tiny_checkpoint), "--resolution", "24", "-o", str(target),
                 "--turntable", str(turntable)]) == 0
    frames = list(VideoReader(turntable))
    assert read_mesh(target).faces.shape[0] > 0 and len(frames) == 96 and frames[0].shape == (512, 512, 3)
    assert not np.array_equal(frames[0], frames[24])  # it turns


def test_bad_inputs_fail_with_one_line_and_write_nothing(shared_dir, tiny_checkpoint, tmp_path, weights_env, capsys):
    photo = shared_dir / "photos" / "ryota.png"
    (tmp_path / "not_image.png").write_text("text")
    (tmp_path / "nobody.json").write_text(json.dumps({"people": []}))
    height, width = read_image(photo).shape[:2]
    write_image(tmp_path / "blank_mask.png", np.zeros((height, width, 3), np.uint8))
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(tiny_checkpoint.read_bytes()[:5000])
    out = tmp_path / "out.obj"
    cases = [
        ([str(tmp_path / "not_image.png")], "not_image.png: not an image"),
        ([str(photo), "--keypoints", str(tmp_path / "nobody.json")], "nobody.json: no person"),
        ([str(photo), "--mask", str(tmp_path / "blank_mask.png")], "blank_mask.png: no person-sized foreground"),
        ([str(photo), "--checkpoint", str(corrupt)], "corrupt.pt: truncated"),
        ([str(photo), "--checkpoint", str(tmp_path / "nowhere.pt")], "nowhere.pt: checkpoint not found"),
        ([str(photo)], "no PIFuHD weights are installed | run `human3d weights`"),
        ([str(photo), "-o", str(tmp_path / "out.stl")], "out.stl: unsupported mesh format"),
        ([str(photo), "--turntable", str(tmp_path / "turn.gif")], "turn.gif: the turntable is written as .mp4"),
    ]
    for extra, message in cases:
        extra = extra if "-o" in extra else extra + ["-o", str(out)]
        if "--checkpoint" not in extra and "no PIFuHD" not in message:
            extra += ["--checkpoint", str(tiny_checkpoint)]
        assert main(["reconstruct", *extra, "--resolution", "16"]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("human3d: error: "), err
        assert all(part in err[0] for part in message.split(" | ")), (message, err)
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_no_weights_message_points_to_the_weights_command(weights_env, capsys):
    assert main(["reconstruct", "missing_photo.png"]) == 1
    assert "no such image" in capsys.readouterr().err
    assert main(["weights"]) == 0
    report = capsys.readouterr().out
    assert str(weights_env) in report and "not installed" in report
    assert "https://github.com/facebookresearch/pifuhd" in report and "CC BY-NC 4.0" in report
    assert "https://dl.fbaipublicfiles.com/pifuhd/checkpoints/pifuhd.pt" in report
    (weights_env / "pifuhd.pt").write_bytes(b"x")
    assert main(["weights"]) == 0 and "installed (" in capsys.readouterr().out


def test_body_guided_weights_fit_the_person_by_themselves(tiny_checkpoint, tmp_path, capsys):
    """The bundled example alone: the person is found and fitted, and a network grown from the tiny one (its body
    weights zero) gives the tiny one's mesh; a crop with nobody in it is one line naming the photo."""
    from human3d.pifuhd.grow import grown_for_body
    from human3d.pifuhd.model import load_pifuhd

    grown = tmp_path / "grown.pt"
    save_checkpoint(checkpoint_dict(grown_for_body(load_pifuhd(tiny_checkpoint)), "grown"), grown)
    photo = Path(__file__).resolve().parents[2] / "examples" / "person.png"
    meshes = {}
    for name, checkpoint in (("tiny", tiny_checkpoint), ("grown", grown)):
        target = tmp_path / f"{name}.ply"
        assert main(["reconstruct", str(photo), "--checkpoint", str(checkpoint), "--resolution", "24",
                     "-o", str(target)]) == 0
        meshes[name] = read_mesh(target)
    np.testing.assert_array_equal(meshes["grown"].faces, meshes["tiny"].faces)
    np.testing.assert_allclose(meshes["grown"].vertices, meshes["tiny"].vertices, atol=1e-5)

    empty = tmp_path / "empty.png"
    write_image(empty, np.full((256, 256, 3), 200, np.uint8))
    rect = tmp_path / "rect.txt"
    rect.write_text("0 0 256 256")
    capsys.readouterr()
    assert main(["reconstruct", str(empty), "--checkpoint", str(grown), "--rect", str(rect),
                 "-o", str(tmp_path / "empty.ply")]) == 1
    assert capsys.readouterr().err.strip() == f"human3d: error: {empty}: no person found in the crop to fit a body " \
                                              "to (body-guided weights need one)"
    assert not (tmp_path / "empty.ply").exists()


def test_a_refused_body_fit_reconstructs_from_the_image_alone_and_says_so(tiny_checkpoint, tmp_path, capsys,
                                                                          monkeypatch):
    from human3d.pifuhd import pipeline
    from human3d.pifuhd.body_guide import BodyGuide
    from human3d.pifuhd.grow import grown_for_body
    from human3d.pifuhd.model import load_pifuhd

    grown = tmp_path / "grown.pt"
    save_checkpoint(checkpoint_dict(grown_for_body(load_pifuhd(tiny_checkpoint)), "grown"), grown)
    monkeypatch.setattr(pipeline, "photo_body_guide", lambda *_: BodyGuide.absent())
    photo = Path(__file__).resolve().parents[2] / "examples" / "person.png"
    target = tmp_path / "alone.ply"
    assert main(["reconstruct", str(photo), "--checkpoint", str(grown), "--resolution", "24", "-o", str(target)]) == 0
    out = capsys.readouterr().out
    assert f"{photo}: the fitted body disagrees with the person's outline; reconstructed from the image alone" in out
    assert len(read_mesh(target).faces) > 0


def test_weights_that_only_bound_depth_keep_a_fit_whatever_its_outline(tiny_checkpoint, monkeypatch):
    """Weights that do not read the body are bounded by the fit even where its outline leaves the person's (it
    bounds better than none), with twice the margins; where the outlines agree, with the margins asked for."""
    import trimesh

    from human3d.pifuhd import pipeline
    from human3d.pifuhd.body_guide import BodyGuide
    from human3d.pifuhd.model import load_pifuhd
    from human3d.pifuhd.photo_body import OutlineAgreement, PhotoBody
    from human3d.pifuhd.predictor import PifuhdPredictor

    ball = trimesh.creation.icosphere(subdivisions=3, radius=0.3)
    predictor = PifuhdPredictor(load_pifuhd(tiny_checkpoint))
    prepared = pipeline.prepare_image(Path(__file__).resolve().parents[2] / "examples" / "person.png")
    deepest = {}
    for name, agreement in (("agrees", OutlineAgreement(0.8, 0.0)), ("leaves", OutlineAgreement(0.8, 0.5))):
        monkeypatch.setattr(pipeline, "photo_body",
                            lambda *_: PhotoBody(BodyGuide.of_mesh(ball.vertices, ball.faces), agreement))
        result = pipeline.reconstruct(predictor, prepared, 32, depth_margin=0.06)
        assert result.bounded and result.body.present
        over = np.hypot(result.vertices[:, 0], result.vertices[:, 1]) < 0.2  # over the ball (off it: unbounded)
        deepest[name] = np.abs(result.vertices[over, 2]).max()
        assert np.abs(result.vertices[:, 2]).max() > 0.6  # the network alone reaches deeper than either bound
    assert 0.3 + 0.06 - 2 / 32 <= deepest["agrees"] <= 0.3 + 0.06 + 0.02 + 2 / 32  # the margin, its ramp, a voxel
    assert 0.3 + 0.12 - 2 / 32 <= deepest["leaves"] <= 0.3 + 0.12 + 0.02 + 2 / 32


def test_a_crop_with_no_body_to_fit_is_reconstructed_unbounded_and_says_so(tiny_checkpoint, tmp_path, capsys):
    empty = tmp_path / "empty.png"
    write_image(empty, np.full((256, 256, 3), 200, np.uint8))
    rect = tmp_path / "rect.txt"
    rect.write_text("0 0 256 256")
    target = tmp_path / "empty.ply"
    assert main(["reconstruct", str(empty), "--checkpoint", str(tiny_checkpoint), "--rect", str(rect),
                 "--resolution", "24", "--depth-bound", "on", "-o", str(target)]) == 0
    assert f"{empty}: no body could be fitted to a person in the crop; depth not bounded" in capsys.readouterr().out
    assert len(read_mesh(target).faces) > 0


def test_a_person_cut_by_the_frame_is_reconstructed_and_the_user_told(tiny_checkpoint, tmp_path, capsys):
    photo = read_image(Path(__file__).resolve().parents[2] / "examples" / "person.png")[:, :, :3]
    cut, whole = tmp_path / "cut.png", tmp_path / "whole.png"
    write_image(cut, np.ascontiguousarray(photo[100:]))  # the head and the top of the shoulders gone
    write_image(whole, photo)
    for image in (cut, whole):
        assert main(["reconstruct", str(image), "--checkpoint", str(tiny_checkpoint), "--resolution", "24",
                     "--depth-bound", "off", "-o", str(image.with_suffix(".ply"))]) == 0
        assert len(read_mesh(image.with_suffix(".ply")).faces) > 0
    out = capsys.readouterr().out
    assert f"{cut}: the person reaches past the photo's top edge; what lies outside it is guessed" in out
    assert f"{whole}: the person reaches past" not in out
