"""Generated samples: maps agree with each other and with the labels, files are deterministic,
runs resume and shard, the DensePose dataset reads the layout."""

from __future__ import annotations

import json

import cv2
import numpy as np
import torch

from human3d.densepose.train.dataset import DensePoseDataset
from human3d.formats import densepose_coco as coco
from human3d.formats.synth_sample import read_depth, read_iuv, read_normals
from human3d.geometry.cameras import Camera
from human3d.synth.writer import generate, shard_indices

from .conftest import RUN_CONFIG, RUN_COUNT, RUN_SEED


def _gray(path):
    return cv2.imread(str(path), cv2.IMREAD_UNCHANGED)


def test_mask_equals_labelled_pixels_in_memory(memory_sample):
    maps = memory_sample.maps
    assert maps.mask.sum() > 1000
    assert (maps.mask == (maps.iuv[..., 0] > 0)).all()
    assert (maps.mask == (maps.instance > 0)).all() and (maps.mask == (maps.label > 0)).all()
    assert (maps.label[maps.mask] > 1).any()  # clothes and hair are visible, not only skin


def test_normals_follow_the_depth_gradient(memory_sample):
    """Orthographic: depth d(x, y) seen from +z has outward normal ~ (dd/dx, dd/dy, 1) normalised."""
    maps, camera = memory_sample.maps, memory_sample.camera
    pixel = 2.0 / camera.projection[0, 0] / camera.width  # metres per pixel
    depth = maps.depth_front.astype(np.float64)
    ddx = (depth[1:-1, 2:] - depth[1:-1, :-2]) / (2 * pixel)
    ddy = -(depth[2:, 1:-1] - depth[:-2, 1:-1]) / (2 * pixel)  # rows grow downward, y upward
    from_depth = np.stack([ddx, ddy, np.ones_like(ddx)], -1)
    from_depth /= np.linalg.norm(from_depth, axis=-1, keepdims=True)
    rendered = maps.normal_front[1:-1, 1:-1]
    # Compare where the 3 x 3 neighbourhood is one smooth surface: all in the mask, no depth jumps.
    window = np.lib.stride_tricks.sliding_window_view(depth, (3, 3))
    covered = np.lib.stride_tricks.sliding_window_view(maps.mask, (3, 3)).all(axis=(-1, -2))
    smooth = covered & (np.ptp(window, axis=(-1, -2)) < 2 * pixel)
    cosine = (from_depth * rendered).sum(-1)[smooth]
    assert smooth.sum() > 1000
    assert np.median(cosine) > 0.98 and (cosine > 0.8).mean() > 0.95


def test_back_depth_behind_front_and_back_normals_face_away(memory_sample):
    maps = memory_sample.maps
    assert (maps.depth_back[maps.mask] >= maps.depth_front[maps.mask]).all()
    assert np.median(maps.normal_back[maps.mask][:, 2]) < -0.5 < 0.5 < np.median(maps.normal_front[maps.mask][:, 2])


def test_written_maps_agree(run_dir):
    for sample_dir in sorted((run_dir / "samples").iterdir()):
        mask = _gray(sample_dir / "mask.png") > 0
        iuv = read_iuv(sample_dir)
        assert (mask == (iuv[..., 0] > 0)).all()
        assert (coco.COARSE_OF_FINE[iuv[..., 0].astype(int)] == _gray(sample_dir / "parts.png")).all()
        assert ((_gray(sample_dir / "instance.png") > 0) == mask).all()
        assert ((_gray(sample_dir / "labels.png") > 0) == mask).all()
        front, back = read_depth(sample_dir, "front"), read_depth(sample_dir, "back")
        assert (back[mask] >= front[mask]).all() and (front[~mask] == 0).all()
        normals = read_normals(sample_dir, "front")
        assert np.abs(np.linalg.norm(normals[mask], axis=1) - 1).max() < 0.02


def test_stored_points_agree_with_the_rendered_silhouette(run_dir):
    """Orthographic camera: a point outside the mask, or in front of / behind the rendered depths, is outside."""
    for sample_dir in sorted((run_dir / "samples").iterdir()):
        table = np.load(sample_dir / "points.npy")
        assert table.shape == (RUN_CONFIG.points, 4) and table[:, 3].sum() == RUN_CONFIG.points // 2
        camera = Camera.from_dict(json.loads((sample_dir / "camera.json").read_text()))
        mask = _gray(sample_dir / "mask.png") > 0
        front, back = read_depth(sample_dir, "front"), read_depth(sample_dir, "back")
        pixels = camera.to_pixels(table[:, :3])
        cols, rows, depth = np.floor(pixels[:, 0]).astype(int), np.floor(pixels[:, 1]).astype(int), pixels[:, 2]
        visible = (cols >= 0) & (cols < camera.width) & (rows >= 0) & (rows < camera.height)
        inside = table[:, 3] > 0.5
        assert visible[inside].all()
        rows, cols = rows.clip(0, camera.height - 1), cols.clip(0, camera.width - 1)
        # Sub-pixel edges: an inside point may project onto a neighbouring empty pixel, so allow 2 %.
        off_mask = inside & ~mask[rows, cols]
        off_depth = (depth < front[rows, cols] - 0.003) | (depth > back[rows, cols] + 0.003)
        outside_depths = inside & mask[rows, cols] & off_depth
        assert off_mask.mean() < 0.02 and outside_depths.mean() < 0.02


def test_coco_json_matches_the_instance_maps(run_dir):
    document = coco.read_densepose_coco(run_dir / "densepose_coco.json")
    assert len(document["images"]) == RUN_COUNT
    assert document["categories"][0]["name"] == "person"
    for annotation in document["annotations"]:
        image = next(i for i in document["images"] if i["id"] == annotation["image_id"])
        sample_dir = run_dir / image["file_name"].rsplit("/", 1)[0]
        person = annotation["id"] % 100 + 1
        instance = _gray(sample_dir / "instance.png")
        assert (coco.rle_decode(annotation["segmentation"]) == (instance == person)).all()
        assert annotation["bbox"] == coco.mask_bbox(instance == person)
        points = coco.dp_points_in_image(annotation)
        iuv = read_iuv(sample_dir)
        rows, cols = np.floor(points["y"]).astype(int), np.floor(points["x"]).astype(int)
        assert len(rows) > 10 and (iuv[rows, cols, 0] == points["I"]).all()
        assert np.abs(iuv[rows, cols, 1] - points["U"]).max() <= 0.5 / 255 + 1e-6
        assert len(annotation["keypoints"]) == 51


def test_same_seed_same_bytes_across_shards(run_dir, sharded_run_dir):
    files_a = sorted(p.relative_to(run_dir) for p in run_dir.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(sharded_run_dir) for p in sharded_run_dir.rglob("*") if p.is_file())
    assert files_a == files_b and len(files_a) == 2 + RUN_COUNT * 15
    for name in files_a:
        assert (run_dir / name).read_bytes() == (sharded_run_dir / name).read_bytes(), name


def test_rerun_skips_finished_samples(run_dir):
    before = {p: p.stat().st_mtime_ns for p in (run_dir / "samples").rglob("*.png")}
    assert generate(run_dir, RUN_COUNT, RUN_SEED, RUN_CONFIG, progress=False) == []
    assert {p: p.stat().st_mtime_ns for p in (run_dir / "samples").rglob("*.png")} == before


def test_shards_cover_every_index_once():
    for count in (1, 7, 100):
        for shards in (1, 2, 3, 8):
            parts = [shard_indices(count, i, shards) for i in range(shards)]
            flat = sorted(i for part in parts for i in part)
            assert flat == list(range(count))


def test_densepose_dataset_reads_ours_and_real_style_polygons(run_dir, tmp_path):
    ours = DensePoseDataset(run_dir / "densepose_coco.json")
    item = ours[0]
    assert item["image"].shape == (3, 128, 128) and item["masks"].shape[0] == item["boxes"].shape[0] == len(item["dp"])
    for box, mask in zip(item["boxes"], item["masks"]):
        rows, cols = torch.nonzero(mask, as_tuple=True)
        assert box.tolist() == [cols.min().item(), rows.min().item(), cols.max().item() + 1, rows.max().item() + 1]
    # The real DensePose-COCO uses polygons for people; the reader fills them.
    cv2.imwrite(str(tmp_path / "COCO_val2014_000000000001.jpg"), np.full((50, 60, 3), 128, np.uint8))
    real = {
        "images": [{"id": 1, "file_name": "COCO_val2014_000000000001.jpg", "width": 60, "height": 50}],
        "annotations": [
            {"id": 5, "image_id": 1, "category_id": 1, "iscrowd": 0, "bbox": [10.0, 5.0, 20.0, 40.0],
             "segmentation": [[10, 5, 30, 5, 30, 45, 10, 45]], "dp_x": [128.0], "dp_y": [64.0], "dp_I": [2.0],
             "dp_U": [0.5], "dp_V": [0.25]},
            {"id": 6, "image_id": 1, "category_id": 1, "iscrowd": 0, "bbox": [0, 0, 5, 5],
             "segmentation": [[0, 0, 5, 0, 5, 5]]},
        ],
    }  # fmt: skip
    (tmp_path / "real.json").write_text(json.dumps(real))
    item = DensePoseDataset(tmp_path / "real.json")[0]
    assert len(item["dp"]) == 1  # the person without DensePose points is left out
    points = item["dp"][0]
    assert points["x"].tolist() == [20.0] and points["y"].tolist() == [15.0] and points["I"].tolist() == [2]
    assert item["masks"][0, 25, 20] and not item["masks"][0, 2, 50]


def test_meta_json_holds_each_persons_anny_body(run_dir, body_model):
    import trimesh
    from scipy.spatial import cKDTree

    from human3d.synth.scene import placed_body

    sample = sorted((run_dir / "samples").iterdir())[0]
    meta = json.loads((sample / "meta.json").read_text())
    tree = cKDTree(trimesh.load(sample / "mesh.ply", process=False).vertices)
    for person in meta["people"]:
        body = placed_body(person, body_model)  # rebuilt from the file alone: phenotype, pose, yaw, offset
        assert np.asarray(person["pose"]).shape == (len(body_model.bone_names), 3)
        assert np.abs(body.keypoints_coco17 - np.asarray(person["keypoints_3d"])).max() < 1e-4
        assert tree.query(body.vertices)[0].max() < 1e-4  # the body's skin is the sample mesh's body shell
    assert placed_body({"scan": "0001.obj", "yaw": 0.0, "offset": [0, 0, 0]}, body_model) is None
