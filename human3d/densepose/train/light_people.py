"""Training of the light people model (``human3d train densepose --model light-people``): the light network
on one person's square crop and pose guide, as :class:`human3d.densepose.light.person_crops.PersonCropPredictor`
runs it on the people finder's people.

An item is one annotated person of a DensePose-COCO image (ours or the real one):

* the crop: the person's box (from their mask), its side :data:`CROP_MARGIN` times the box's longer side
  times a random factor in :data:`SIDE_JITTER`, its centre moved by up to :data:`CENTRE_JITTER` of the side
  (the finder's boxes are not the truth's), resized to :data:`CROP_SIZE`;
* the guide (:mod:`human3d.densepose.light.pose_guide`) from the annotated COCO-17 keypoints, moved by
  Gaussian noise (:data:`KEYPOINT_NOISE` of the side), some dropped as a finder drops them
  (:data:`KEYPOINT_DROP`; an occluded keypoint is kept with :data:`OCCLUDED_KEPT`), and the person's
  mask grown or shrunk by up to :data:`MASK_EDGE` crop pixels;
* the realism of real photos the synthetic images lack: with :data:`PHOTO_BACKGROUND_CHANCE` a real photo
  (:mod:`human3d.synth.library_photos`, CC0 and public domain) replaces the background around the people;
  with :data:`BORDER_CUT_CHANCE` the image border cuts the person (a band of the crop becomes the border
  fill, its keypoints and mask gone); with :data:`OCCLUDER_CHANCE` something stands in front of them (a
  rectangle of a real photo, or of another place of the crop, over the person, its mask gone there);
  colours jittered.

Supervision, at :data:`POINTS` random places of the crop (bilinear samples of the stride-4 maps, the
light model's :meth:`~human3d.densepose.train.light.LightObjective.point_losses`): the person's part
(cross-entropy over background + 24 parts) and U,V where a synth sample has its dense ``iuv.png``;
everything else in the crop (other people, occluders, the border) is background. Real data: the
annotated DensePose points of the person, "some person" on the rest of their mask.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

from human3d.densepose.light.model import PIXEL_MEAN_BGR, LightConfig, LightDensePose, build_light_densepose, split_maps
from human3d.densepose.light.person_crops import CROP_MARGIN, CROP_SIZE, crop_keypoints, crop_square, cut_square
from human3d.densepose.light.pose_guide import GUIDE_CHANNELS, pose_guide
from human3d.densepose.rcnn.checkpoint import read_state_dict
from human3d.densepose.train.augment import AugmentationConfig, jitter_colour
from human3d.densepose.train.config import DensePoseTrainConfig
from human3d.densepose.train.dataset import DensePoseDataset
from human3d.densepose.train.light import LOSS_WEIGHTS, UNLABELLED, LightObjective, dense_iuv, run_light_training
from human3d.synth.library_photos import photo_patch

STAGE = "densepose_light_people"
SIDE_JITTER = (0.95, 1.25)
CENTRE_JITTER = 0.05
KEYPOINT_NOISE = 0.012
KEYPOINT_DROP = 0.05
OCCLUDED_KEPT = 0.6
MASK_EDGE = 3
BORDER_CUT_CHANCE = 0.2
BORDER_CUT_DEPTH = (0.1, 0.45)
OCCLUDER_CHANCE = 0.25
OCCLUDER_SIDE = (0.15, 0.45)
PHOTO_BACKGROUND_CHANCE = 0.5
POINTS = 2048
MEAN_RGB = np.array(PIXEL_MEAN_BGR[::-1], np.float32) / 255.0


def guide_keypoints(keypoints: np.ndarray, side: float, rng: np.random.Generator) -> np.ndarray:
    """Annotated COCO-17 ``keypoints`` (17, 3: x, y, visibility 0/1/2) as a finder might report them: moved,
    some dropped; score 1 (kept) or 0."""
    guide = np.array(keypoints, np.float32, copy=True)
    kept = (guide[:, 2] >= 2) | ((guide[:, 2] >= 1) & (rng.random(17) < OCCLUDED_KEPT))
    kept &= rng.random(17) >= KEYPOINT_DROP
    guide[:, :2] += rng.normal(0.0, KEYPOINT_NOISE * side, (17, 2))
    guide[:, 2] = kept
    return guide


def changed_edge(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A boolean ``mask`` grown or shrunk by a random number of pixels (up to :data:`MASK_EDGE`)."""
    radius = int(rng.integers(-MASK_EDGE, MASK_EDGE + 1))
    if radius == 0:
        return mask
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * abs(radius) + 1,) * 2)
    change = cv2.dilate if radius > 0 else cv2.erode
    return change(mask.astype(np.uint8), kernel).astype(bool)


def hidden_region(size: int, rng: np.random.Generator, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where the crop's person is hidden, and where the image's border cuts them (both bool, size x size);
    ``image`` (the crop, float RGB) is changed in place: a border band and/or an occluding rectangle of a
    real photo or of elsewhere in the crop."""
    hidden = np.zeros((size, size), bool)
    if rng.random() < BORDER_CUT_CHANCE:
        depth = int(rng.uniform(*BORDER_CUT_DEPTH) * size)
        band = [slice(None, depth), slice(size - depth, None)][int(rng.integers(2))]
        region = (band, slice(None)) if rng.random() < 0.5 else (slice(None), band)
        hidden[region] = True
        image[region] = MEAN_RGB
    cut = hidden.copy()
    if rng.random() < OCCLUDER_CHANCE:
        h, w = (int(rng.uniform(*OCCLUDER_SIDE) * size) for _ in range(2))
        y, x = int(rng.integers(0, size - h)), int(rng.integers(0, size - w))
        sy, sx = int(rng.integers(0, size - h)), int(rng.integers(0, size - w))
        image[y:y + h, x:x + w] = photo_patch(h, w, rng) if rng.random() < 0.5 else image[sy:sy + h, sx:sx + w].copy()
        hidden[y:y + h, x:x + w] = True
    return hidden, cut


class PersonCropItems(Dataset):
    """Augmented person crops of a :class:`DensePoseDataset` (see the module docstring).

    Item: ``image`` (3, S, S) float BGR 0..255, ``guide`` (GUIDE_CHANNELS, S, S), per point ``xy`` (P, 2)
    crop pixels, ``I`` (0..24, or UNLABELLED: "some person"), ``U``, ``V``, ``centre`` (NaN: no instance
    vectors here).
    """

    def __init__(self, dataset: DensePoseDataset, size: int = CROP_SIZE,
                 augmentation: AugmentationConfig = AugmentationConfig()) -> None:
        self.dataset, self.size, self.augmentation = dataset, size, augmentation
        self.people = [(index, k) for index, info in enumerate(dataset.images)
                       for k in range(len(dataset.annotations[int(info["id"])]))]

    def __len__(self) -> int:
        return len(self.people)

    def __getitem__(self, number: int) -> dict:
        rng = np.random.default_rng(int(torch.randint(2**62, ())))
        index, k = self.people[number]
        item = self.dataset[index]
        image = np.ascontiguousarray(item["image"].permute(1, 2, 0).numpy())
        height, width = image.shape[:2]
        mask = item["masks"][k].numpy()
        left, top, side = crop_square(item["boxes"][k].numpy(), CROP_MARGIN * rng.uniform(*SIDE_JITTER))
        left, top = left + rng.normal(0, CENTRE_JITTER) * side, top + rng.normal(0, CENTRE_JITTER) * side
        size = self.size
        crop = cut_square(image, left, top, side, size, fill=tuple(MEAN_RGB.tolist()))
        if rng.random() < PHOTO_BACKGROUND_CHANCE:
            people = cut_square(item["masks"].numpy().any(axis=0).astype(np.float32), left, top, side, size, fill=0.0)
            crop = people[..., None] * crop + (1 - people[..., None]) * photo_patch(size, size, rng)
        hidden, cut = hidden_region(size, rng, crop)
        keypoints = crop_keypoints(guide_keypoints(item["keypoints"][k].numpy(), side, rng), left, top, side, size)
        cells = np.clip(keypoints[:, :2].astype(int), 0, size - 1)
        under = (hidden[cells[:, 1], cells[:, 0]] & (rng.random(17) < 0.5)) | cut[cells[:, 1], cells[:, 0]]
        keypoints[under, 2] = 0
        person = changed_edge(cut_square(mask.astype(np.float32), left, top, side, size, fill=0.0) > 0.5, rng)
        guide = pose_guide(keypoints, person & ~hidden)
        crop = jitter_colour(crop, self.augmentation, rng)
        points = self.points(item, k, dense_iuv(self.dataset, index, (height, width)), (left, top, side), hidden, rng)
        bgr = np.ascontiguousarray(crop[:, :, ::-1].transpose(2, 0, 1)) * 255.0
        return {"image": torch.from_numpy(bgr.astype(np.float32)),
                "guide": torch.from_numpy(guide.transpose(2, 0, 1).copy()), **points}

    def points(self, item: dict, k: int, iuv: np.ndarray | None, square: tuple[float, float, float],
               hidden: np.ndarray, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        """The supervised places of person ``k``'s crop (``square``: left, top, side in the image)."""
        left, top, side = square
        size, scale = self.size, side / self.size
        mask = item["masks"][k].numpy()
        height, width = mask.shape
        xy = rng.uniform(0, size, (POINTS, 2))
        cols, rows = np.floor(left + xy[:, 0] * scale).astype(int), np.floor(top + xy[:, 1] * scale).astype(int)
        inside = (cols >= 0) & (cols < width) & (rows >= 0) & (rows < height)
        cols, rows = np.clip(cols, 0, width - 1), np.clip(rows, 0, height - 1)
        on_person = inside & mask[rows, cols] & ~hidden[xy[:, 1].astype(int), xy[:, 0].astype(int)]
        parts, u, v = np.zeros(POINTS), np.zeros(POINTS), np.zeros(POINTS)
        if iuv is not None:
            parts = np.where(on_person, iuv[rows, cols, 0], 0)
            u, v = np.where(parts > 0, iuv[rows, cols, 1], 0.0), np.where(parts > 0, iuv[rows, cols, 2], 0.0)
        else:
            parts = np.where(on_person, UNLABELLED, 0)
            annotated = {key: value.numpy() for key, value in item["dp"][k].items()}
            dx, dy = (annotated["x"] - left) / scale, (annotated["y"] - top) / scale
            seen = (dx >= 0) & (dx < size) & (dy >= 0) & (dy < size)
            seen[seen] &= ~hidden[dy[seen].astype(int), dx[seen].astype(int)]
            xy = np.concatenate([xy, np.stack([dx[seen], dy[seen]], axis=1)])
            parts = np.concatenate([parts, annotated["I"][seen]])
            u, v = np.concatenate([u, annotated["U"][seen]]), np.concatenate([v, annotated["V"][seen]])
        return {"xy": torch.as_tensor(xy, dtype=torch.float32), "I": torch.as_tensor(parts, dtype=torch.long),
                "U": torch.as_tensor(u, dtype=torch.float32), "V": torch.as_tensor(v, dtype=torch.float32),
                "centre": torch.full((len(xy), 2), float("nan"))}


def collate_crops(items: list[dict]) -> dict[str, torch.Tensor]:
    """Stack crops and guides; concatenate points with their ``points_batch`` index."""
    batch = {"image": torch.stack([i["image"] for i in items]), "guide": torch.stack([i["guide"] for i in items])}
    for key in ("xy", "I", "U", "V", "centre"):
        batch[key] = torch.cat([i[key] for i in items])
    batch["points_batch"] = torch.cat([torch.full((len(i["xy"]),), b, dtype=torch.long) for b, i in enumerate(items)])
    return batch


class PeopleObjective(nn.Module):
    """The guided light model plus its point losses: ``forward(batch)`` -> dict of weighted losses under ``loss``."""

    def __init__(self, model: LightDensePose) -> None:
        super().__init__()
        self.model = model

    def forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        output = self.model(batch["image"], batch["guide"])
        _, _, rows, cols = output.shape
        losses = LightObjective.point_losses(split_maps(output.float()), batch, rows, cols, output.sum() * 0)
        losses.pop("instance")
        weighted = {name: value * LOSS_WEIGHTS[name] for name, value in losses.items()}
        return {"loss": sum(weighted.values()), **weighted}


def guided_model(init: Path | None, config: LightConfig = LightConfig()) -> LightDensePose:
    """A trainable guided light model: fresh (``config`` with the guide's channels), or from a light ``.pkl``;
    a network-alone checkpoint keeps every weight, its first convolution reading the guide with zeros."""
    if init is None:
        return LightDensePose(replace(config, guide=GUIDE_CHANNELS)).train()
    start = build_light_densepose(read_state_dict(init), str(init), fuse=False)
    if start.guide_channels == GUIDE_CHANNELS:
        return start.train().requires_grad_(True)
    model = LightDensePose(replace(start.config, guide=GUIDE_CHANNELS))
    state = start.state_dict()
    stem = "light_encoder.stem.conv.weight"
    weight = torch.zeros_like(model.state_dict()[stem])
    weight[:, :3] = state[stem][:, :3]
    model.load_state_dict({**state, stem: weight})
    return model.train()


def train_light_people(options: DensePoseTrainConfig, config: LightConfig = LightConfig(), progress: bool = True
                       ) -> Path:
    """Train the light people model (see the module docstring); checkpoints as the light model's. Returns
    the final checkpoint's path."""
    items = PersonCropItems(DensePoseDataset(options.data, options.image_root))
    return run_light_training(options, items, collate_crops,
                              lambda: PeopleObjective(guided_model(options.init, config)), STAGE, progress)
