"""``human3d body``: a photo end to end (mesh, JSON, picture re-read); a folder past a bad file; bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import trimesh

from human3d.cli import main
from human3d.io.images import read_image, write_image

pytest.importorskip("mediapipe")

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "person.png"


def test_a_photo_gives_a_mesh_json_and_picture_that_agree(shared_dir, tmp_path, capsys):
    photo = shared_dir / "photos" / "pifuhd_test.png"
    mesh, report, picture = tmp_path / "body.glb", tmp_path / "body.json", tmp_path / "body.png"
    args = ["body", str(photo), "-o", str(mesh), "--json", str(report), "--show", str(picture), "--no-small-people"]
    assert main(args) == 0
    assert "pifuhd_test.png: 1 body fitted" in capsys.readouterr().out
    document = json.loads(report.read_text())
    assert document["fps"] is None and (document["width"], document["height"]) == (512, 512)
    frame = document["frames"][0]
    person = frame["people"][0]
    joints, pixels = np.array(person["joints_coco17_3d"]), np.array(person["keypoints_coco17_2d"])
    assert joints.shape == (17, 3) and pixels.shape == (17, 2)
    assert (joints[:, 2] > 0.5).all()  # in front of the camera (OpenCV frame), metres
    focal, cx, cy = frame["camera_focal_cx_cy"]
    assert np.abs(joints[:, :2] / joints[:, 2:] * focal + [cx, cy] - pixels).max() < 0.05  # they agree
    assert joints[15, 1] > joints[5, 1] + 0.8  # ankles well below shoulders (y down), as a standing man's
    anny = person["anny"]
    assert set(anny["phenotype"]) == {"gender", "age", "muscle", "weight", "height", "proportions"}
    assert np.array(anny["pose"]).shape == (104, 3) and np.array(anny["rotation"]).shape == (3, 3)
    loaded = trimesh.load(mesh, force="mesh", process=False)
    assert len(loaded.vertices) > 10000 and loaded.is_watertight
    height = np.ptp(loaded.vertices[:, 1])
    assert 1.4 < height < 2.1  # a grown man, in metres
    assert np.abs(loaded.vertices.mean(axis=0)[2] - joints[:, 2].mean()) < 0.3  # where the joints are
    shown, original = read_image(picture), read_image(photo)[..., :3]
    changed = np.abs(shown.astype(int) - original.astype(int)).sum(axis=2) > 0
    x1, y1, x2, y2 = person["box_xyxy"]
    inside = changed[int(y1):int(y2), int(x1):int(x2)].mean()
    assert inside > 0.3 and changed.mean() < inside  # the body is painted over the man, not elsewhere


def test_densepose_points_are_fitted_unless_left_out(tmp_path, capsys):
    reports = {flag: tmp_path / f"body{flag}.json" for flag in ("", "--no-densepose")}
    for flag, report in reports.items():
        assert main(["body", str(EXAMPLE), "--json", str(report), "--no-small-people", *([flag] if flag else [])]) == 0
    joints = [np.array(json.loads(report.read_text())["frames"][0]["people"][0]["joints_coco17_3d"])
              for report in reports.values()]
    centred = [j - j.mean(axis=0) for j in joints]
    moved = np.linalg.norm(centred[0] - centred[1], axis=1)
    assert 0.001 < moved.mean() < 0.1  # metres: DensePose's points moved the fit, not to another body


def test_a_folder_goes_on_past_a_bad_file(shared_dir, tmp_path, capsys):
    folder = tmp_path / "photos"
    folder.mkdir()
    write_image(folder / "a.png", read_image(shared_dir / "photos" / "pifuhd_test.png")[..., :3])
    (folder / "b.jpg").write_bytes(b"not a jpeg")
    meshes, report = tmp_path / "meshes", tmp_path / "bodies.json"
    assert main(["body", str(folder), "-o", str(meshes), "--json", str(report), "--no-small-people"]) == 1
    captured = capsys.readouterr()
    assert "1 processed, 1 failed" in captured.out
    last_line = captured.err.strip().splitlines()[-1]
    assert last_line == f"human3d: failed: {folder / 'b.jpg'}: not an image (or a truncated one)"
    assert [f["image"] for f in json.loads(report.read_text())["frames"]] == ["a.png"]
    assert sorted(p.name for p in meshes.iterdir()) == ["a_body.glb"]


@pytest.mark.parametrize("content, message", [(b"", "empty file, not an image"), (None, "no person found")])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys, content, message):
    photo = tmp_path / "in.png"
    if content is None:
        write_image(photo, np.full((240, 320, 3), 127, np.uint8))
    else:
        photo.write_bytes(content)
    mesh, report = tmp_path / "out.glb", tmp_path / "out.json"
    assert main(["body", str(photo), "-o", str(mesh), "--json", str(report), "--no-small-people"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"human3d: error: {photo}: {message}")
    assert not mesh.exists() and not report.exists()


def test_an_unknown_mesh_format_is_refused(shared_dir, tmp_path, capsys):
    assert main(["body", str(shared_dir / "photos" / "pifuhd_test.png"), "-o", str(tmp_path / "x.fbx")]) == 1
    assert "unsupported mesh format" in capsys.readouterr().err


def test_blur_faces_pixelates_the_face_in_the_picture_only(tmp_path):
    photo = EXAMPLE
    plain, blurred = tmp_path / "plain.png", tmp_path / "blurred.png"
    assert main(["body", str(photo), "--show", str(plain), "--no-small-people"]) == 0
    assert main(["body", str(photo), "--show", str(blurred), "--no-small-people", "--blur-faces"]) == 0
    changed = np.abs(read_image(plain).astype(int) - read_image(blurred).astype(int)).sum(axis=2) > 0
    rows, _ = np.nonzero(changed)
    assert changed.sum() > 100 and rows.max() < changed.shape[0] * 0.3  # the head only
