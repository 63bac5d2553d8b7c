"""Training of the light DensePose model (``human3d train densepose --model light``).

Items: a DensePose-COCO image, scaled by a random factor (log-uniform, ``SCALE_RANGE`` around
``min_size`` for the shorter side), cut or padded (mean colour) to a ``min_size`` square at a random
place, colour-jittered (the R-CNN's :mod:`human3d.densepose.train.augment` jitter; no flip, as there).

Supervision, all read at points by bilinear sampling of the stride-4 maps:

* people: a Gaussian at each box centre cell (CenterNet's penalty-reduced focal loss), L1 on the
  log box size and on the sub-cell centre position at the centre cell;
* parts (cross-entropy over background + 24 parts) and U,V (smooth L1 on the labelled part's
  chart): at the annotated DensePose points; where a synth sample has its dense ``iuv.png`` next to
  the image, at ``DENSE_POINTS`` random person pixels of it instead (exact labels everywhere);
* background: ``BACKGROUND_POINTS`` pixels outside every person mask (part 0);
* "some person here" (real data, pixels of a mask without a part label): -log P(not background);
* instance vectors: at mask pixels, the vector to their person's box centre (L1).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import Dataset

from human3d.densepose.light.model import (
    NUM_PARTS,
    OFFSET_UNIT,
    PIXEL_MEAN_BGR,
    STRIDE,
    LightConfig,
    LightDensePose,
    build_light_densepose,
    checkpoint_state,
    split_maps,
)
from human3d.densepose.rcnn.checkpoint import read_state_dict, write_state_dict
from human3d.densepose.train.augment import AugmentationConfig, jitter_colour
from human3d.densepose.train.config import FINAL_CHECKPOINT, DensePoseTrainConfig
from human3d.densepose.train.dataset import DensePoseDataset
from human3d.errors import Human3DError
from human3d.formats.synth_sample import has_iuv, read_iuv
from human3d.io.atomic import write_text_atomic
from human3d.training.data import infinite_batches
from human3d.training.loop import fit
from human3d.training.runtime import setup_runtime, teardown

STAGE = "densepose_light"
SCALE_RANGE = (0.5, 1.4)
DENSE_POINTS = 1024
MASK_POINTS = 384
BACKGROUND_POINTS = 512
SIGMA_FRACTION = 0.06  # Gaussian sigma per axis as a fraction of the box side (at least 0.7 cell)
LOSS_WEIGHTS = {"heat": 1.0, "size": 1.0, "offset": 1.0, "parts": 1.0, "foreground": 1.0, "uv": 4.0, "instance": 0.5}
UNLABELLED = -1  # part of a person pixel without a part label


def _random_points(mask: np.ndarray, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``count`` distinct random pixels of a boolean mask, as (rows, cols)."""
    rows, cols = np.nonzero(mask)
    if len(rows) > count:
        pick = rng.choice(len(rows), count, replace=False)
        rows, cols = rows[pick], cols[pick]
    return rows, cols


def dense_iuv(dataset: DensePoseDataset, index: int, shape: tuple[int, int]) -> np.ndarray | None:
    """The synth ``iuv.png`` beside the image (H, W, 3: I, U, V), or None for real data."""
    sample_dir = (dataset.image_root / dataset.images[index]["file_name"]).parent
    if not has_iuv(sample_dir):
        return None
    iuv = read_iuv(sample_dir)
    return iuv if iuv.shape[:2] == shape else None


def _points(item: dict, iuv: np.ndarray | None, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Supervised pixels of one image: ``x``, ``y`` (pixels), ``I`` (0..24 or UNLABELLED), ``U``, ``V``, ``owner``."""
    masks = item["masks"].numpy()
    anyone = masks.any(axis=0)
    columns: dict[str, list[np.ndarray]] = {k: [] for k in ("x", "y", "I", "U", "V", "owner")}

    def add(x, y, parts, u, v, owner) -> None:
        for key, value in zip(columns, (x, y, parts, u, v, owner)):
            columns[key].append(np.asarray(value, dtype=np.float64))

    def owner_of(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        inside = masks[:, rows, cols]
        return np.where(inside.any(axis=0), inside.argmax(axis=0), -1)

    if iuv is not None:
        rows, cols = _random_points(iuv[..., 0] > 0, DENSE_POINTS, rng)
        add(cols + 0.5, rows + 0.5, iuv[rows, cols, 0], iuv[rows, cols, 1], iuv[rows, cols, 2], owner_of(rows, cols))
    else:
        for k, dp in enumerate(item["dp"]):
            add(dp["x"].numpy(), dp["y"].numpy(), dp["I"].numpy(), dp["U"].numpy(), dp["V"].numpy(),
                np.full(len(dp["x"]), k))
        rows, cols = _random_points(anyone, MASK_POINTS, rng)
        zeros = np.zeros(len(rows))
        add(cols + 0.5, rows + 0.5, zeros + UNLABELLED, zeros, zeros, owner_of(rows, cols))
    background = ~anyone if iuv is None else ~anyone & (iuv[..., 0] == 0)
    rows, cols = _random_points(background, BACKGROUND_POINTS, rng)
    zeros = np.zeros(len(rows))
    add(cols + 0.5, rows + 0.5, zeros, zeros, zeros, zeros - 1)
    return {k: np.concatenate(v) for k, v in columns.items()}


def _place(image: np.ndarray, size: int, scale: float, rng: np.random.Generator) -> tuple[np.ndarray, float, float]:
    """Scale an RGB float image and put it at a random place of a ``size`` square (mean colour around it)."""
    height, width = image.shape[:2]
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    scaled = cv2.resize(image, (new_w, new_h), interpolation=interpolation)
    dx = -rng.integers(0, new_w - size + 1) if new_w > size else rng.integers(0, size - new_w + 1)
    dy = -rng.integers(0, new_h - size + 1) if new_h > size else rng.integers(0, size - new_h + 1)
    canvas = np.empty((size, size, 3), np.float32)
    canvas[:] = np.array(PIXEL_MEAN_BGR[::-1], np.float32) / 255.0
    src_x, src_y = slice(max(0, -dx), min(new_w, size - dx)), slice(max(0, -dy), min(new_h, size - dy))
    canvas[src_y.start + dy: src_y.stop + dy, src_x.start + dx: src_x.stop + dx] = scaled[src_y, src_x]
    return canvas, float(dx), float(dy)


def heat_targets(boxes: np.ndarray, cells: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Gaussian centre heatmap (cells, cells), centre cells (K, 2) as (row, col), log sizes (K, 2),
    sub-cell offsets (K, 2)."""
    heat = np.zeros((cells, cells), np.float32)
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2 / STRIDE
    sizes = (boxes[:, 2:] - boxes[:, :2]) / STRIDE
    cell = np.clip(np.floor(centres).astype(np.int64), 0, cells - 1)
    grid = np.arange(cells, dtype=np.float32)
    for (col, row), (w, h) in zip(cell, sizes):
        sx, sy = max(0.7, SIGMA_FRACTION * w), max(0.7, SIGMA_FRACTION * h)
        gauss = np.exp(-((grid[None, :] - col) ** 2) / (2 * sx * sx) - ((grid[:, None] - row) ** 2) / (2 * sy * sy))
        np.maximum(heat, gauss, out=heat)
    return heat, cell[:, ::-1].copy(), np.log(sizes).astype(np.float32), (centres - cell).astype(np.float32)


class LightTrainingItems(Dataset):
    """Augmented training items for the light model from a :class:`DensePoseDataset`.

    Item: ``image`` (3, S, S) float BGR 0..255, ``heat`` (S/4, S/4) target, per person ``cells``
    (K, 2) row/col, ``log_size`` (K, 2), ``offset`` (K, 2); per point ``xy`` (P, 2) pixels, ``I``,
    ``U``, ``V``, ``centre`` (P, 2) its person's box centre (NaN when unknown).
    """

    def __init__(self, dataset: DensePoseDataset, size: int = 320, dense: bool = True,
                 augmentation: AugmentationConfig = AugmentationConfig()) -> None:
        if size % 32:
            raise Human3DError(f"light DensePose: training size {size} must be a multiple of 32")
        self.dataset, self.size, self.dense, self.augmentation = dataset, size, dense, augmentation

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> dict:
        rng = np.random.default_rng(int(torch.randint(2**62, ())))
        item = self.dataset[index]
        image = item["image"].permute(1, 2, 0).numpy()
        height, width = image.shape[:2]
        iuv = dense_iuv(self.dataset, index, (height, width)) if self.dense else None
        points = _points(item, iuv, rng)
        scale = self.size / min(height, width) * math.exp(rng.uniform(*np.log(SCALE_RANGE)))
        image, dx, dy = _place(image, self.size, scale, rng)
        image = jitter_colour(image, self.augmentation, rng)
        boxes = item["boxes"].numpy().astype(np.float64) * scale + np.array([dx, dy, dx, dy])
        boxes = np.clip(boxes, 0, self.size)
        kept = np.nonzero((boxes[:, 2] - boxes[:, 0] >= 2) & (boxes[:, 3] - boxes[:, 1] >= 2))[0]
        boxes = boxes[kept]
        heat, cells, log_size, offset = heat_targets(boxes, self.size // STRIDE)
        x, y = points["x"] * scale + dx, points["y"] * scale + dy
        inside = (x >= 0) & (x < self.size) & (y >= 0) & (y < self.size)
        new_owner = np.full(len(item["boxes"]) + 1, -1)
        new_owner[kept] = np.arange(len(kept))
        owner = new_owner[points["owner"].astype(np.int64)][inside]
        box_centres = np.concatenate([(boxes[:, :2] + boxes[:, 2:]) / 2, np.full((1, 2), np.nan)])
        bgr = np.ascontiguousarray(image[:, :, ::-1].transpose(2, 0, 1)) * 255.0

        def tensor(values, dtype=torch.float32) -> torch.Tensor:
            return torch.as_tensor(np.asarray(values), dtype=dtype)

        return {
            "image": tensor(bgr), "heat": tensor(heat), "cells": tensor(cells, torch.long),
            "log_size": tensor(log_size).reshape(-1, 2), "offset": tensor(offset).reshape(-1, 2),
            "xy": tensor(np.stack([x[inside], y[inside]], axis=1)), "I": tensor(points["I"][inside], torch.long),
            "U": tensor(points["U"][inside]), "V": tensor(points["V"][inside]), "centre": tensor(box_centres[owner]),
        }


def collate_light(items: list[dict]) -> dict[str, torch.Tensor]:
    """Stack images and heatmaps; concatenate people and points with their ``batch`` index."""
    batch = {"image": torch.stack([i["image"] for i in items]), "heat": torch.stack([i["heat"] for i in items])}
    for group, keys in (("people", ("cells", "log_size", "offset")), ("points", ("xy", "I", "U", "V", "centre"))):
        for key in keys:
            batch[key] = torch.cat([i[key] for i in items])
        batch[f"{group}_batch"] = torch.cat([torch.full((len(i[keys[0]]),), b, dtype=torch.long)
                                             for b, i in enumerate(items)])
    return batch


def focal_heat_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """CenterNet's penalty-reduced pixel-wise focal loss (alpha 2, beta 4), normalised by the number of centres."""
    logits = logits.float()
    positive = target >= 1.0
    log_p, log_not_p = F.logsigmoid(logits), F.logsigmoid(-logits)
    p = log_p.exp()
    positive_term = ((1 - p) ** 2 * log_p)[positive].sum()
    negative_term = ((1 - target) ** 4 * p ** 2 * log_not_p)[~positive].sum()
    return -(positive_term + negative_term) / positive.sum().clamp(min=1)


class LightObjective(nn.Module):
    """The light model plus its losses: ``forward(batch)`` -> dict of weighted losses, total under ``loss``."""

    def __init__(self, model: LightDensePose) -> None:
        super().__init__()
        self.model = model

    def forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        output = self.model(batch["image"])
        maps = split_maps(output.float())
        _, _, rows, cols = output.shape
        losses = {"heat": focal_heat_loss(maps.heat[:, 0], batch["heat"])}
        b, cell = batch["people_batch"], batch["cells"]
        zero = output.sum() * 0
        if len(b):
            losses["size"] = F.l1_loss(maps.size[b, :, cell[:, 0], cell[:, 1]], batch["log_size"])
            losses["offset"] = F.l1_loss(maps.offset[b, :, cell[:, 0], cell[:, 1]], batch["offset"])
        else:
            losses["size"] = losses["offset"] = zero
        losses.update(self.point_losses(maps, batch, rows, cols, zero))
        weighted = {name: value * LOSS_WEIGHTS[name] for name, value in losses.items()}
        return {"loss": sum(weighted.values()), **weighted}

    @staticmethod
    def point_losses(maps, batch: dict[str, torch.Tensor], rows: int, cols: int, zero: torch.Tensor
                     ) -> dict[str, torch.Tensor]:
        """Parts, foreground, U,V and instance-vector losses at the batch's points (bilinear samples of the maps)."""
        dense = torch.cat([maps.parts, maps.u, maps.v, maps.instance], dim=1)
        b, xy = batch["points_batch"], batch["xy"]
        grid = torch.stack([xy[:, 0] / (cols * STRIDE), xy[:, 1] / (rows * STRIDE)], dim=1) * 2 - 1
        sampled = []
        for image in range(dense.shape[0]):  # one grid_sample per image: its own points
            g = grid[b == image].view(1, -1, 1, 2)
            sampled.append(F.grid_sample(dense[image:image + 1], g, align_corners=False)[0, :, :, 0].T)
        sampled = torch.cat(sampled) if sampled else dense.new_zeros((0, dense.shape[1]))
        k = NUM_PARTS + 1
        parts, u, v, vector = sampled[:, :k], sampled[:, k:k + NUM_PARTS], sampled[:, k + NUM_PARTS:-2], sampled[:, -2:]
        labels = batch["I"]
        losses = {}
        labelled, unlabelled, on_part = labels >= 0, labels == UNLABELLED, labels >= 1
        losses["parts"] = F.cross_entropy(parts[labelled], labels[labelled]) if labelled.any() else zero
        if unlabelled.any():  # -log P(not background) = logsumexp(all) - logsumexp(parts)
            logits = parts[unlabelled]
            losses["foreground"] = (logits.logsumexp(1) - logits[:, 1:].logsumexp(1)).mean()
        else:
            losses["foreground"] = zero
        if on_part.any():
            index = (labels[on_part] - 1)[:, None]
            predicted = torch.cat([u[on_part].gather(1, index), v[on_part].gather(1, index)], dim=1)
            target = torch.stack([batch["U"][on_part], batch["V"][on_part]], dim=1)
            losses["uv"] = F.smooth_l1_loss(predicted, target, beta=0.05)
        else:
            losses["uv"] = zero
        owned = torch.isfinite(batch["centre"][:, 0])
        if owned.any():
            target = (batch["centre"][owned] - xy[owned]) / OFFSET_UNIT
            losses["instance"] = F.l1_loss(vector[owned], target)
        else:
            losses["instance"] = zero
        return losses


def build_training_light(init: Path | None, config: LightConfig = LightConfig()) -> LightDensePose:
    """A fresh light model (``config``), or one starting from a light ``.pkl`` (its own widths)."""
    if init is None:
        return LightDensePose(config)
    state = read_state_dict(init)
    model = build_light_densepose(state, str(init), fuse=False)
    return model.train().requires_grad_(True)


def lr_factor(steps: int, warmup: int = 200, floor: float = 0.02):
    """Linear warm-up, then cosine decay to ``floor`` of the learning rate (a LambdaLR factor)."""
    warmup = min(warmup, max(1, steps // 10))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, steps - warmup)
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    return factor


def train_light(options: DensePoseTrainConfig, config: LightConfig = LightConfig(), progress: bool = True) -> Path:
    """Train the light model with AdamW; ``.pkl`` checkpoints every ``checkpoint_every`` steps, the last
    as ``model_final.pkl``; a run folder holding a training state continues from it. Returns the final file."""
    items = LightTrainingItems(DensePoseDataset(options.data, options.image_root), options.min_size)
    return run_light_training(options, items, collate_light, lambda: LightObjective(
        build_training_light(options.init, config)), STAGE, progress)


def run_light_training(options: DensePoseTrainConfig, items: Dataset, collate, make_objective, stage: str,
                       progress: bool = True) -> Path:
    """The training loop shared by the light models: ``make_objective()`` (called after seeding) gives a
    module with the model as ``.model`` and the losses as its output; AdamW, warm-up and cosine decay,
    ``.pkl`` checkpoints of the model; resumes from the run folder. Returns the final checkpoint's path."""
    if options.batch_size < 2:
        raise Human3DError("light DensePose: --batch-size must be at least 2 (batch norm needs two images)")
    runtime = setup_runtime(options.device)
    try:
        torch.manual_seed(options.seed + runtime.rank)
        out = Path(options.out)
        batches = infinite_batches(items, options.batch_size, runtime, options.seed, options.workers, collate)
        objective = make_objective()
        if runtime.is_main:
            out.mkdir(parents=True, exist_ok=True)
            record = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(options).items()}
            write_text_atomic(out / "train_options.json", json.dumps(record, indent=2) + "\n")
        optimizer = torch.optim.AdamW(objective.parameters(), lr=options.lr, weight_decay=1e-4)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor(options.steps))

        def save_checkpoint(step: int) -> None:
            name = FINAL_CHECKPOINT if step == options.steps else f"model_{step:07d}.pkl"
            write_state_dict(checkpoint_state(objective.model), out / name)

        fit(objective, batches, optimizer, runtime, options.steps, out, stage, save_checkpoint,
            checkpoint_every=options.checkpoint_every, log_every=max(1, min(20, options.steps // 10)),
            scheduler=scheduler, amp=options.amp, grad_clip=10.0, batch_size=options.batch_size, progress=progress)
    finally:
        teardown(runtime)
    return out / FINAL_CHECKPOINT
