"""``torch.utils.data.Dataset`` s for both tasks, reading the synth layout (and real DensePose-COCO).

* :class:`ImplicitDataset` (PIFuHD training): image, mask, front/back normal maps, PIFu ``calib``
  and labelled 3-D points (the stored ``points.npy``, or PIFu's sampling on ``mesh.ply`` on the fly).
* :class:`DensePoseDataset` (DensePose training): one item per image with person boxes, masks and
  DensePose points, from any DensePose-COCO JSON: ours (``OUT/densepose_coco.json``) or the real one.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from human3d.errors import Human3DError
from human3d.synth import coco
from human3d.synth.sampling import sample_training_points
from human3d.synth.writer import read_camera, read_normals


def _read_rgb(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise Human3DError.for_path(path, "missing or not an image")
    return image[..., ::-1]


def _sample_dirs(root: Path) -> list[Path]:
    dirs = sorted(p.parent for p in (root / "samples").glob("[0-9]*/densepose.json"))
    if not dirs:
        raise Human3DError.for_path(root, "no finished samples (expected samples/NNNNNN/ from `human3d synth`)")
    return dirs


class ImplicitDataset(Dataset):
    """PIFuHD training items from a synth folder (orthographic samples, square images).

    Item: ``image`` (3, H, W) in [-1, 1] (PIFuHD's normalisation), ``mask`` (1, H, W),
    ``normal_front``/``normal_back`` (3, H, W) camera frame, ``calib`` (4, 4) (world -> crop frame,
    PIFuHD's convention), ``samples`` (3, N) world points, ``labels`` (1, N) occupancy 1/0.
    Points come from ``points.npy`` when it holds at least ``num_points``, else PIFu's sampling with
    ``sigma`` runs on ``mesh.ply``; the subset/sampling is seeded by (``seed``, index).
    """

    def __init__(self, root: str | Path, num_points: int = 5000, sigma: float = 0.05, seed: int = 0) -> None:
        self.root = Path(root)
        self.dirs = _sample_dirs(self.root)
        self.num_points, self.sigma, self.seed = num_points, sigma, seed

    def __len__(self) -> int:
        return len(self.dirs)

    def _points(self, sample_dir: Path, index: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng([self.seed, index])
        stored = sample_dir / "points.npy"
        if stored.is_file():
            table = np.load(stored)
            if len(table) >= self.num_points:
                pick = np.sort(rng.choice(len(table), self.num_points, replace=False))
                return table[pick, :3], table[pick, 3] > 0.5
        import trimesh

        mesh = trimesh.load(sample_dir / "mesh.ply", process=False)
        return sample_training_points(mesh.vertices, mesh.faces, self.num_points, rng, sigma=self.sigma)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        sample_dir = self.dirs[index]
        camera, _ = read_camera(sample_dir)
        image = _read_rgb(sample_dir / "rgb.png").astype(np.float32) / 255.0
        mask = cv2.imread(str(sample_dir / "mask.png"), cv2.IMREAD_GRAYSCALE) > 0
        points, inside = self._points(sample_dir, index)
        return {
            "image": torch.from_numpy((image.transpose(2, 0, 1) - 0.5) / 0.5),
            "mask": torch.from_numpy(mask[None].astype(np.float32)),
            "normal_front": torch.from_numpy(read_normals(sample_dir, "front").transpose(2, 0, 1).copy()),
            "normal_back": torch.from_numpy(read_normals(sample_dir, "back").transpose(2, 0, 1).copy()),
            "calib": torch.from_numpy(camera.pifu_calib().astype(np.float32)),
            "samples": torch.from_numpy(np.ascontiguousarray(points.T, dtype=np.float32)),
            "labels": torch.from_numpy(inside[None].astype(np.float32)),
        }


def segmentation_mask(segmentation, height: int, width: int) -> np.ndarray:
    """A COCO ``segmentation`` (RLE dict or polygon list) as a boolean (H, W) mask."""
    if isinstance(segmentation, dict):
        return coco.rle_decode(segmentation)
    mask = np.zeros((height, width), dtype=np.uint8)
    for polygon in segmentation or []:
        points = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
        cv2.fillPoly(mask, [np.rint(points).astype(np.int32)], 1)
    return mask.astype(bool)


class DensePoseDataset(Dataset):
    """DensePose training items from a DensePose-COCO JSON (ours or the real DensePose-COCO).

    Item: ``image`` (3, H, W) float in [0, 1], ``image_id``, ``boxes`` (K, 4) xyxy pixels,
    ``masks`` (K, H, W) bool, and per person ``dp`` (list of K dicts of 1-D tensors ``x``, ``y``
    (image pixels), ``I`` (1..24), ``U``, ``V``). Only people with DensePose points are kept; images
    without any are skipped. ``image_root`` holds the ``file_name`` s (default: the JSON's folder).
    Use :func:`collate_list` as the DataLoader's ``collate_fn``.
    """

    def __init__(self, coco_json: str | Path, image_root: str | Path | None = None) -> None:
        self.path = Path(coco_json)
        document = coco.read_densepose_coco(self.path)
        self.image_root = Path(image_root) if image_root is not None else self.path.parent
        by_image: dict[int, list[dict]] = {}
        for annotation in document["annotations"]:
            if annotation.get("dp_x") and not annotation.get("iscrowd", 0):
                by_image.setdefault(int(annotation["image_id"]), []).append(annotation)
        self.images = [image for image in document["images"] if int(image["id"]) in by_image]
        self.annotations = by_image

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> dict:
        info = self.images[index]
        image = _read_rgb(self.image_root / info["file_name"])
        height, width = image.shape[:2]
        annotations = self.annotations[int(info["id"])]
        boxes = np.array([[a["bbox"][0], a["bbox"][1], a["bbox"][0] + a["bbox"][2], a["bbox"][1] + a["bbox"][3]] for a in annotations])
        masks = np.stack([segmentation_mask(a.get("segmentation"), height, width) for a in annotations])
        points = [{k: torch.from_numpy(v) for k, v in coco.dp_points_in_image(a).items()} for a in annotations]
        return {
            "image": torch.from_numpy(image.transpose(2, 0, 1).astype(np.float32) / 255.0),
            "image_id": int(info["id"]),
            "boxes": torch.from_numpy(boxes.astype(np.float32)),
            "masks": torch.from_numpy(masks),
            "dp": points,
        }


def collate_list(items: list[dict]) -> list[dict]:
    """Keep a batch as a list (images and person counts differ)."""
    return items

