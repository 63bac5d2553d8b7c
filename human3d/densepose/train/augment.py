"""Training items for DensePose R-CNN: a DensePose-COCO image with its people, augmented.

Augmentation: resize to a jittered shorter side (long side capped in detectron2's 800:1333
proportion), colour jitter (brightness, contrast, saturation) and a random translation (content
shifted by up to a fraction of the image; uncovered pixels take the mean colour, so they are 0 after
normalisation). No horizontal flip: mirroring would need the left/right part swap *and* a mirror of
our own per-part U,V charts (``human3d.body.charts``), which we do not have.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from human3d.densepose.train.dataset import DensePoseDataset
from human3d.formats import densepose_coco as coco

_MEAN_RGB = np.array([123.675, 116.280, 103.530], dtype=np.float32) / 255.0  # the model's BGR pixel mean, as RGB


@dataclass(frozen=True)
class AugmentationConfig:
    """Random changes applied to every training image; ``enabled=False`` only resizes to ``min_size``."""

    min_size: int = 320
    scale_jitter: tuple[float, float] = (0.8, 1.2)
    shift: float = 0.1
    brightness: float = 0.2
    contrast: float = 0.2
    saturation: float = 0.2
    enabled: bool = True

    @property
    def max_size(self) -> int:
        """Long-side cap: detectron2's 1333 for a short side of 800, in proportion."""
        return int(round(self.min_size * 1333 / 800))


def _resize(image: np.ndarray, short: int, max_size: int) -> tuple[np.ndarray, float, float]:
    height, width = image.shape[:2]
    scale = short / min(height, width)
    scale = min(scale, max_size / max(height, width))
    new_h, new_w = max(1, int(round(height * scale))), max(1, int(round(width * scale)))
    resized = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    return resized, new_w / width, new_h / height


def jitter_colour(image: np.ndarray, aug: AugmentationConfig, rng: np.random.Generator) -> np.ndarray:
    """``image`` (H, W, 3 floats in [0, 1]) with random saturation, contrast and brightness, clipped to [0, 1]."""
    gray = image.mean(axis=2, keepdims=True)
    image = gray + (image - gray) * rng.uniform(1 - aug.saturation, 1 + aug.saturation)
    mean = image.mean()
    image = mean + (image - mean) * rng.uniform(1 - aug.contrast, 1 + aug.contrast)
    return np.clip(image * rng.uniform(1 - aug.brightness, 1 + aug.brightness), 0.0, 1.0)


def _translate(image: np.ndarray, dx: int, dy: int) -> np.ndarray:
    height, width = image.shape[:2]
    out = np.empty_like(image)
    out[:] = _MEAN_RGB
    src_x, dst_x = slice(max(0, -dx), min(width, width - dx)), slice(max(0, dx), min(width, width + dx))
    src_y, dst_y = slice(max(0, -dy), min(height, height - dy)), slice(max(0, dy), min(height, height + dy))
    out[dst_y, dst_x] = image[src_y, src_x]
    return out


def augment(item: dict, dp_segm: np.ndarray, aug: AugmentationConfig, rng: np.random.Generator) -> dict:
    """A :class:`DensePoseDataset` item -> the network's training item (see :class:`TrainingItems`)."""
    image = item["image"].permute(1, 2, 0).numpy()
    short = aug.min_size
    if aug.enabled:
        short = int(round(aug.min_size * rng.uniform(*aug.scale_jitter)))
    image, sx, sy = _resize(image, short, aug.max_size)
    height, width = image.shape[:2]
    dx = dy = 0
    if aug.enabled:
        image = jitter_colour(image, aug, rng)
        dx = int(rng.integers(-int(aug.shift * width), int(aug.shift * width) + 1))
        dy = int(rng.integers(-int(aug.shift * height), int(aug.shift * height) + 1))
        image = _translate(image, dx, dy)
    scale = torch.tensor([sx, sy, sx, sy])
    move = torch.tensor([dx, dy, dx, dy], dtype=torch.float32)
    dp_boxes = item["boxes"].float() * scale + move
    boxes = dp_boxes.clone()
    boxes[:, 0::2] = boxes[:, 0::2].clamp(0, width)
    boxes[:, 1::2] = boxes[:, 1::2].clamp(0, height)
    kept = torch.where((boxes[:, 2] - boxes[:, 0] >= 1) & (boxes[:, 3] - boxes[:, 1] >= 1))[0]
    new_index = torch.full((len(boxes),), -1, dtype=torch.long)
    new_index[kept] = torch.arange(len(kept))
    xy, person, parts, us, vs = [], [], [], [], []
    for k, points in enumerate(item["dp"]):
        x, y = points["x"] * sx + dx, points["y"] * sy + dy
        inside = (x >= 0) & (x < width) & (y >= 0) & (y < height) & (new_index[k] >= 0)
        xy.append(torch.stack((x[inside], y[inside]), dim=1).float())
        person.append(torch.full((int(inside.sum()),), int(new_index[k]), dtype=torch.long))
        parts.append(points["I"][inside].long())
        us.append(points["U"][inside].float())
        vs.append(points["V"][inside].float())
    bgr = np.ascontiguousarray(image[:, :, ::-1].transpose(2, 0, 1)) * 255.0
    return {
        "image": torch.from_numpy(bgr.astype(np.float32)),
        "image_id": item["image_id"],
        "boxes": boxes[kept],
        "dp_boxes": dp_boxes[kept],
        "dp_segm": torch.from_numpy(dp_segm[kept.numpy()]),
        "xy": torch.cat(xy) if xy else torch.zeros((0, 2)),
        "person": torch.cat(person) if person else torch.zeros(0, dtype=torch.long),
        "I": torch.cat(parts) if parts else torch.zeros(0, dtype=torch.long),
        "U": torch.cat(us) if us else torch.zeros(0),
        "V": torch.cat(vs) if vs else torch.zeros(0),
    }


class TrainingItems(Dataset):
    """Augmented DensePose R-CNN training items from a :class:`DensePoseDataset`.

    Item: ``image`` (3, H, W) float BGR 0..255 (the network's input scale), ``boxes`` (K, 4) XYXY
    person boxes clipped to the image, ``dp_boxes`` (K, 4) the unclipped boxes the annotation's
    256x256 grid spans, ``dp_segm`` (K, 256, 256) uint8 coarse parts (0..14, from ``dp_masks``),
    and the annotated points ``xy`` (P, 2) image pixels, ``person`` (P,) index into the K people,
    ``I`` (1..24), ``U``, ``V``. Randomness comes from torch's generator (seeded per DataLoader worker).
    """

    def __init__(self, dataset: DensePoseDataset, augmentation: AugmentationConfig = AugmentationConfig()) -> None:
        self.dataset = dataset
        self.augmentation = augmentation

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> dict:
        item = self.dataset[index]
        annotations = self.dataset.annotations[item["image_id"]]
        dp_segm = np.stack([coco.dp_segmentation(a) for a in annotations])
        rng = np.random.default_rng(int(torch.randint(2**62, ())))
        return augment(item, dp_segm, self.augmentation, rng)
