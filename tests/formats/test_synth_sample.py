"""The synthetic sample layout: names, folder listing and the readers, on a hand-written sample."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from human3d.errors import Human3DError
from human3d.formats import synth_sample as layout
from human3d.geometry.cameras import orthographic


def _write_sample(folder: Path, size: int = 8) -> dict:
    """A 8x8 sample: person on the left half, known normals, depths, IUV and camera."""
    folder.mkdir(parents=True)
    mask = np.zeros((size, size), bool)
    mask[:, : size // 2] = True
    rgb = np.zeros((size, size, 3), np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 10, 20, 30
    cv2.imwrite(str(folder / layout.RGB), rgb[..., ::-1])
    cv2.imwrite(str(folder / layout.MASK), mask.astype(np.uint8) * 255)
    normal = np.where(mask[..., None], np.uint8([128, 128, 255]), 0).astype(np.uint8)  # (0, 0, 1) facing the camera
    for side in layout.SIDES:
        cv2.imwrite(str(folder / layout.normal_map(side)), normal[..., ::-1])
    offset, unit = 4.5, 1e-4
    depth = {"front": 4.75, "back": 5.25}
    for side, metres in depth.items():
        steps = np.where(mask, np.rint((metres - offset) / unit) + 1, 0).astype(np.uint16)
        cv2.imwrite(str(folder / layout.depth_map(side)), steps)
    iuv = np.where(mask[..., None], np.uint8([3, 255, 51]), 0).astype(np.uint8)
    cv2.imwrite(str(folder / layout.IUV), iuv[..., ::-1])
    camera = orthographic([0.0, 1.0, 0.0], 1.0, size, size)
    (folder / layout.CAMERA).write_text(json.dumps({**camera.to_dict(), "depth_offset": offset, "depth_unit": unit}))
    (folder / layout.DENSEPOSE).write_text(json.dumps({"image": {}, "annotations": []}))
    np.save(folder / layout.POINTS, np.zeros((12, 4), np.float32))
    return {"mask": mask, "rgb": rgb, "depth": depth, "camera": camera}


def test_readers_decode_every_map(tmp_path):
    sample = tmp_path / layout.SAMPLES / layout.sample_name(3)
    truth = _write_sample(sample)
    mask = truth["mask"]
    np.testing.assert_array_equal(layout.read_rgb(sample), truth["rgb"])
    np.testing.assert_array_equal(layout.read_mask(sample), mask)
    normals = layout.read_normals(sample, "back")
    assert normals.dtype == np.float32 and (normals[~mask] == 0).all()
    np.testing.assert_allclose(normals[mask], [[1 / 255, 1 / 255, 1.0]] * mask.sum(), atol=1e-6)
    assert (layout.read_normal_png(sample, "front")[mask] == [128, 128, 255]).all()
    for side, metres in truth["depth"].items():
        depth = layout.read_depth(sample, side)
        assert (depth[~mask] == 0).all()
        np.testing.assert_allclose(depth[mask], metres, atol=1e-6)
    iuv = layout.read_iuv(sample)
    np.testing.assert_allclose(iuv[mask], [[3, 1.0, 0.2]] * mask.sum(), atol=1e-6)
    assert layout.has_iuv(sample) and not layout.has_iuv(tmp_path)
    camera, data = layout.read_camera(sample)
    np.testing.assert_array_equal(camera.pifu_calib(), truth["camera"].pifu_calib())
    assert data["depth_unit"] == 1e-4
    calib, size = layout.read_calib(sample)
    np.testing.assert_array_equal(calib, truth["camera"].pifu_calib())
    assert size == (8, 8)
    assert layout.read_points(sample).shape == (12, 4) and layout.stored_point_count(tmp_path) == 12


def test_names_and_folder_listings(tmp_path):
    assert layout.sample_name(42) == "000042"
    assert layout.image_file_name(42) == "samples/000042/rgb.png"
    assert layout.normal_map("front") == "normal_front.png" and layout.depth_map("back") == "depth_back.png"
    assert layout.EVAL_FILES == ("rgb.png", "mask.png", "camera.json", "mesh.ply")
    with pytest.raises(Human3DError, match="no finished samples"):
        layout.finished_sample_dirs(tmp_path)
    assert layout.stored_point_count(tmp_path) == 0
    for index in (1, 0):
        _write_sample(tmp_path / layout.SAMPLES / layout.sample_name(index))
    (tmp_path / layout.SAMPLES / ".000002.tmp").mkdir()  # still being written
    expected = [tmp_path / layout.SAMPLES / "000000", tmp_path / layout.SAMPLES / "000001"]
    assert layout.finished_sample_dirs(tmp_path) == expected == layout.sample_dirs(tmp_path)
    assert layout.sample_dirs(tmp_path / layout.SAMPLES) == expected  # a folder of sample folders
    assert layout.is_finished(tmp_path, 1) and not layout.is_finished(tmp_path, 2)
    assert layout.densepose_fragments(tmp_path) == [d / layout.DENSEPOSE for d in expected]
    with pytest.raises(Human3DError, match="data folder not found"):
        layout.sample_dirs(tmp_path / "nowhere")
    with pytest.raises(Human3DError, match=r"no samples \(folders with rgb.png, mask.png, camera.json, mesh.ply\)"):
        layout.sample_dirs(tmp_path / layout.SAMPLES / ".000002.tmp")


def test_camera_json_errors_are_one_line(tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    with pytest.raises(Human3DError, match=r"camera.json: unreadable camera \(FileNotFoundError\)"):
        layout.read_camera(folder)
    (folder / layout.CAMERA).write_text("{not json")
    with pytest.raises(Human3DError, match=r"unreadable camera \(JSONDecodeError\)"):
        layout.read_calib(folder)
    (folder / layout.CAMERA).write_text(json.dumps({"kind": "orthographic"}))
    with pytest.raises(Human3DError, match=r"unreadable camera \(KeyError\)"):
        layout.read_calib(folder)
    (folder / layout.CAMERA).write_text(json.dumps({"kind": "perspective", "width": 8, "height": 8}))
    with pytest.raises(Human3DError, match="needs a square orthographic camera"):
        layout.read_calib(folder)
    with pytest.raises(Human3DError, match="missing or not an image"):
        layout.read_rgb(folder)
