"""``human3d densepose``: images, folders, video, dumps re-read, errors and the no-weights message."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from PIL import Image

from human3d.cli import main
from human3d.densepose.app.dump import read_dump, write_dump
from human3d.io.video import VideoReader, video_writer

S1X = "densepose_rcnn_R_50_FPN_s1x"
RECORD = "densepose_rcnn_R_50_FPN_s1x__ryota"


@pytest.fixture(scope="session")
def ryota_ref(densepose_ref):
    with np.load(densepose_ref / "public" / f"{RECORD}.npz") as data:
        return {k: data[k] for k in ("final_boxes_xyxy_orig", "final_scores", "iuv0_labels_u8", "iuv0_uv_f32")}


def test_without_any_weights_explains_where_they_come_from(shared_dir, capsys, monkeypatch, tmp_path):
    from human3d.weights import registry

    monkeypatch.setattr(registry, "PACKAGE_DIR", tmp_path / "no_package")  # the bundled light model's file gone
    assert main(["densepose", str(shared_dir / "photos" / "ryota.png")]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "no DensePose weights are installed" in err
    url = "https://dl.fbaipublicfiles.com/densepose/densepose_rcnn_R_50_FPN_s1x/165712039/model_final_162be9.pkl"
    assert url in err


def test_image_to_picture_and_npz_dump(shared_dir, checkpoints, ryota_ref, tmp_path, capsys):
    dump, picture = tmp_path / "out.npz", tmp_path / "out.png"
    rc = main(["densepose", str(shared_dir / "photos" / "ryota.png"), "--checkpoint", str(checkpoints[S1X]),
               "--precision", "fp32",  # the reference is float32 (bf16 is the default where the CPU has it)
               "--dump", str(dump), "-o", str(picture), "--show", "iuv,parts,contours,boxes"])
    assert rc == 0
    assert "ryota.png: 8 people" in capsys.readouterr().out
    with np.load(dump) as data:
        n = len(data["scores"])
        assert n == 8 and sorted(data.files) == sorted(["boxes_xyxy", "scores"] + [f"{k}_{i}" for i in range(n)
                                                                                   for k in ("labels", "uv")])
        assert data["boxes_xyxy"].dtype == np.float32 and data["boxes_xyxy"].shape == (8, 4)
        np.testing.assert_allclose(data["boxes_xyxy"], ryota_ref["final_boxes_xyxy_orig"], atol=0.01)
        np.testing.assert_allclose(data["scores"], ryota_ref["final_scores"], atol=1e-4)
        assert data["labels_0"].dtype == np.uint8 and data["uv_0"].dtype == np.float32
        assert (data["labels_0"] == ryota_ref["iuv0_labels_u8"]).mean() >= 0.999
        assert data["uv_0"].shape == ryota_ref["iuv0_uv_f32"].shape
    shown = np.asarray(Image.open(picture))
    assert shown.shape == (512, 512, 3) and shown.std() > 0
    # the JSON dump holds the same content
    result = read_dump(dump)[""]
    write_dump(tmp_path / "out.json", [("ryota.png", result)])
    again = read_dump(tmp_path / "out.json")[""]
    raw = json.loads((tmp_path / "out.json").read_text())
    assert sorted(raw) == sorted(np.load(dump).files)
    np.testing.assert_array_equal(again.boxes_xyxy, result.boxes_xyxy)
    for a, b in zip(again.labels + again.uv, result.labels + result.uv):
        np.testing.assert_array_equal(a, b)


def test_folder_keeps_going_past_a_bad_file(shared_dir, checkpoints, tmp_path, capsys):
    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copy(shared_dir / "photos" / "ryota.png", folder / "a_person.png")
    (folder / "b_broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    out, dump = tmp_path / "pictures", tmp_path / "all.json"
    rc = main(["densepose", str(folder), "--checkpoint", str(checkpoints[S1X]), "-o", str(out),
               "--dump", str(dump), "--min-score", "0.5"])
    assert rc == 1
    captured = capsys.readouterr()
    assert "1 processed, 1 failed" in captured.out
    assert "b_broken.jpg: not a readable image" in captured.err
    assert sorted(p.name for p in out.iterdir()) == ["a_person.png"]
    results = read_dump(dump)
    assert list(results) == ["a_person.png"]
    assert len(results["a_person.png"]) >= 1 and (results["a_person.png"].scores > 0.5).all()


def test_video_to_annotated_video_and_per_frame_dump(shared_dir, checkpoints, tmp_path, capsys):
    photo = np.asarray(Image.open(shared_dir / "photos" / "ryota.png").convert("RGB").resize((160, 160)))
    clip = tmp_path / "clip.mp4"
    with video_writer(clip, fps=10) as append:
        for shift in (0, 6):
            append(np.roll(photo, shift, axis=1))
    out, dump = tmp_path / "annotated.mp4", tmp_path / "frames.npz"
    rc = main(["densepose", str(clip), "--checkpoint", str(checkpoints[S1X]), "-o", str(out), "--dump", str(dump),
               "--batch-size", "2", "--min-score", "0.5", "--show", "parts,boxes"])
    assert rc == 0
    assert "2 processed, 0 failed" in capsys.readouterr().out
    frames = list(VideoReader(out))
    assert len(frames) == 2 and frames[0].shape == (160, 160, 3)
    results = read_dump(dump)
    assert list(results) == ["frame_000000", "frame_000001"]
    for result in results.values():
        assert result.boxes_xyxy.shape == (len(result), 4)
        assert all(labels.shape == uv.shape[1:] for labels, uv in zip(result.labels, result.uv))


@pytest.mark.parametrize("name, content, problem", ids=["garbage-video", "empty-video", "bad-image"], argvalues=[
    ("clip.mp4", b"garbage" * 100, "not a readable video"),
    ("clip.mp4", b"", "empty file, not a video"),
    ("photo.png", b"not a png", "not a readable image"),
])
def test_bad_inputs_fail_in_one_line_and_write_nothing(checkpoints, tmp_path, capsys, name, content, problem):
    source = tmp_path / name
    source.write_bytes(content)
    out = tmp_path / "out" / ("result.mp4" if name.endswith(".mp4") else "result.png")
    rc = main(["densepose", str(source), "--checkpoint", str(checkpoints[S1X]), "-o", str(out),
               "--dump", str(tmp_path / "out" / "d.npz")])
    err = capsys.readouterr().err.strip()
    assert rc == 1 and problem in err and str(source) in err and "\n" not in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_bad_options(shared_dir, checkpoints, tmp_path, capsys):
    photo = str(shared_dir / "photos" / "ryota.png")
    assert main(["densepose", photo, "--checkpoint", str(checkpoints[S1X]), "--dump", str(tmp_path / "x.csv")]) == 1
    assert "dump file must end in .npz or .json" in capsys.readouterr().err
    assert main(["densepose", photo, "--checkpoint", str(checkpoints[S1X]), "--config", "R_18"]) == 1
    assert "unknown DensePose config" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["densepose", photo, "--show", "sparkles"])
