"""The DensePose training ``torch.utils.data.Dataset``: :class:`DensePoseDataset`, one item per image
with person boxes, masks and DensePose points, from any DensePose-COCO JSON: ours
(``OUT/densepose_coco.json``) or the real one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from human3d.formats import densepose_coco as coco
from human3d.formats.densepose_coco import segmentation_mask
from human3d.formats.synth_sample import read_image_rgb


class DensePoseDataset(Dataset):
    """DensePose training items from a DensePose-COCO JSON (ours or the real DensePose-COCO).

    Item: ``image`` (3, H, W) float in [0, 1], ``image_id``, ``boxes`` (K, 4) xyxy pixels,
    ``masks`` (K, H, W) bool, ``keypoints`` (K, 17, 3) COCO-17 x, y, visibility (0 where not annotated),
    and per person ``dp`` (list of K dicts of 1-D tensors ``x``, ``y`` (image pixels), ``I`` (1..24),
    ``U``, ``V``). Only people with DensePose points are kept; images
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
        image = read_image_rgb(self.image_root / info["file_name"])
        height, width = image.shape[:2]
        annotations = self.annotations[int(info["id"])]
        boxes = np.array([[x, y, x + w, y + h] for x, y, w, h in (a["bbox"] for a in annotations)])
        masks = np.stack([segmentation_mask(a.get("segmentation"), height, width) for a in annotations])
        points = [{k: torch.from_numpy(v) for k, v in coco.dp_points_in_image(a).items()} for a in annotations]
        keypoints = np.zeros((len(annotations), 17, 3), np.float32)
        for k, annotation in enumerate(annotations):
            if len(annotation.get("keypoints") or ()) == 51:
                keypoints[k] = np.asarray(annotation["keypoints"], np.float32).reshape(17, 3)
        return {
            "image": torch.from_numpy(image.transpose(2, 0, 1).astype(np.float32) / 255.0),
            "image_id": int(info["id"]),
            "boxes": torch.from_numpy(boxes.astype(np.float32)),
            "masks": torch.from_numpy(masks),
            "keypoints": torch.from_numpy(keypoints),
            "dp": points,
        }


def collate_list(items: list[dict]) -> list[dict]:
    """Keep a batch as a list (images and person counts differ)."""
    return items

