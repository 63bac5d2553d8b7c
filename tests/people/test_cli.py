"""``human3d people``: image, folder and video end to end; JSON re-read; face blurring; bad input; no network."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from human3d.cli import main
from human3d.formats.densepose_coco import rle_decode
from human3d.io.images import read_image, write_image

pytest.importorskip("mediapipe")


def test_one_image_writes_the_picture_json_and_masks(shared_dir, tmp_path, capsys):
    photo = shared_dir / "photos" / "ryota.png"
    out, report, masks = tmp_path / "ryota_people.png", tmp_path / "people.json", tmp_path / "masks"
    assert main(["people", str(photo), "-o", str(out), "--json", str(report), "--masks", str(masks)]) == 0
    assert "ryota.png: 1 person" in capsys.readouterr().out
    entries = json.loads(report.read_text())
    assert len(entries) == 1 and entries[0]["image"] == "ryota.png"
    assert (entries[0]["width"], entries[0]["height"]) == (512, 512)
    person = entries[0]["people"][0]
    assert person["id"] == 0 and len(person["box_xyxy"]) == 4 and 0 < person["score"] <= 1
    assert np.asarray(person["keypoints_coco17"]).shape == (17, 3)
    assert np.asarray(person["landmarks33"]).shape == (33, 4)
    mask = rle_decode(person["mask_rle"])
    assert (read_image(masks / "ryota_person0.png")[..., 0] > 127).tolist() == mask.tolist()
    assert read_image(out).shape == (512, 512, 3)


def test_blurring_changes_the_face_and_nothing_far_from_it(shared_dir, tmp_path):
    photo = shared_dir / "photos" / "ryota.png"
    plain, blurred, report = tmp_path / "plain.png", tmp_path / "blurred.png", tmp_path / "people.json"
    common = ["people", str(photo), "--show", "boxes", "--no-small-people"]
    assert main([*common, "-o", str(plain), "--json", str(report)]) == 0
    assert main([*common, "-o", str(blurred), "--blur-faces"]) == 0
    x1, y1, x2, y2 = (int(round(v)) for v in json.loads(report.read_text())[0]["people"][0]["face_box_xyxy"])
    a, b = read_image(plain).astype(int), read_image(blurred).astype(int)
    assert np.abs(a[y1 + 2:y2 - 2, x1 + 2:x2 - 2] - b[y1 + 2:y2 - 2, x1 + 2:x2 - 2]).mean() > 3
    far = np.ones(a.shape[:2], bool)  # the face detector's own box may reach a little past the landmarks' one
    margin = (x2 - x1) // 2
    far[max(0, y1 - margin):y2 + margin, max(0, x1 - margin):x2 + margin] = False
    assert (a[far] == b[far]).all()


def test_a_folder_goes_on_past_a_bad_file(shared_dir, tmp_path, capsys):
    folder = tmp_path / "photos"
    folder.mkdir()
    write_image(folder / "a.png", read_image(shared_dir / "photos" / "ryota.png")[..., :3])
    (folder / "b.jpg").write_bytes(b"not a jpeg")
    out, report = tmp_path / "out", tmp_path / "people.json"
    assert main(["people", str(folder), "-o", str(out), "--json", str(report), "--no-small-people"]) == 1
    captured = capsys.readouterr()
    assert "1 processed, 1 failed" in captured.out
    last_line = captured.err.strip().splitlines()[-1]  # after the progress bar
    assert last_line == f"human3d: failed: {folder / 'b.jpg'}: not an image (or a truncated one)"
    assert [e["image"] for e in json.loads(report.read_text())] == ["a.png"]
    assert sorted(p.name for p in out.iterdir()) == ["a_people.png"]


def test_a_video_keeps_ids_across_frames(shared_dir, tmp_path):
    from human3d.io.video import VideoReader, video_writer

    photo = read_image(shared_dir / "photos" / "ryota.png")[..., :3]
    clip = tmp_path / "clip.mp4"
    with video_writer(clip, 10) as append:
        for shift in range(0, 24, 4):
            append(np.roll(photo, shift, axis=1))
    out, report = tmp_path / "clip_people.mp4", tmp_path / "clip.json"
    assert main(["people", str(clip), "-o", str(out), "--json", str(report), "--no-small-people"]) == 0
    frames = json.loads(report.read_text())
    assert [f["frame"] for f in frames] == list(range(6))
    assert all([p["id"] for p in f["people"]] == [0] for f in frames)
    assert sum(1 for _ in VideoReader(out)) == 6


@pytest.mark.parametrize("content, suffix, message", [
    (b"plain text", ".png", "not an image (or a truncated one)"),
    (b"", ".jpg", "empty file, not an image"),
    (b"\x00\x00\x00\x18ftypmp42 broken", ".mp4", "not a readable video"),
])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys, content, suffix, message):
    bad = tmp_path / f"bad{suffix}"
    bad.write_bytes(content)
    report = tmp_path / "people.json"
    assert main(["people", str(bad), "--json", str(report), "-o", str(tmp_path / f"out{suffix}")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"human3d: error: {bad}: {message}") and "\n" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == [bad.name]


def test_it_runs_with_the_network_blocked(shared_dir, tmp_path):
    """Nothing is ever sent anywhere: with socket creation refused, the command still works, every model
    included (whole image, squares, HOG seeds and the landmark model alone, faces for blurring)."""
    code = (
        "import sys\n"
        "def refuse(event, args):\n"
        "    if event.startswith('socket.') and event != 'socket.gethostname':\n"
        "        raise OSError(f'network blocked by the test ({event})')\n"
        "sys.addaudithook(refuse)\n"
        "from human3d.cli import main\n"
        f"sys.exit(main(['people', {str(shared_dir / 'photos' / 'ryota.png')!r}, '--json', "
        f"{str(tmp_path / 'p.json')!r}, '-o', {str(tmp_path / 'p.png')!r}, '--blur-faces']))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert len(json.loads((tmp_path / "p.json").read_text())[0]["people"]) == 1


def test_unknown_picture_layers_are_refused(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["people", str(tmp_path), "--show", "faces"])
    assert "choose from boxes,keypoints,masks" in capsys.readouterr().err


def changed_rows(a: np.ndarray, b: np.ndarray) -> tuple[int, int]:
    """First and last row where two pictures differ."""
    rows = np.nonzero((a.astype(int) != b.astype(int)).any(axis=(1, 2)))[0]
    return int(rows.min()), int(rows.max())


def test_densepose_pictures_blur_faces_only(shared_dir, tmp_path):
    photo = shared_dir / "photos" / "ryota.png"
    plain, blurred = tmp_path / "plain.png", tmp_path / "blurred.png"
    assert main(["densepose", str(photo), "-o", str(plain)]) == 0
    assert main(["densepose", str(photo), "-o", str(blurred), "--blur-faces"]) == 0
    first, last = changed_rows(read_image(plain), read_image(blurred))
    assert 0 < first and last < 512 * 0.25  # only the head, in the top quarter of this full-body photo


def test_reconstruct_blurs_the_face_colours_and_keeps_the_shape(shared_dir, tmp_path):
    import trimesh

    photo = tmp_path / "photo.png"
    photo.write_bytes((shared_dir / "photos" / "pifuhd_test.png").read_bytes())  # no side files: found
    plain, blurred = tmp_path / "plain.ply", tmp_path / "blurred.ply"
    assert main(["reconstruct", str(photo), "-o", str(plain), "--resolution", "64"]) == 0
    assert main(["reconstruct", str(photo), "-o", str(blurred), "--resolution", "64", "--blur-faces"]) == 0
    a, b = trimesh.load(plain, process=False), trimesh.load(blurred, process=False)
    assert np.array_equal(a.vertices, b.vertices) and np.array_equal(a.faces, b.faces)
    changed = (a.visual.vertex_colors != b.visual.vertex_colors).any(axis=1)
    assert changed.any()
    top = a.vertices[:, 1].max()
    assert a.vertices[changed, 1].min() > top - 0.4  # only the head (the crop spans 2 units)
