"""What a DensePose training run is told (:class:`DensePoseTrainConfig`, one CLI flag per field), shared by
the R-CNN (:mod:`human3d.densepose.train.rcnn`) and light-model (:mod:`human3d.densepose.train.light`) trainers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FINAL_CHECKPOINT = "model_final.pkl"
LIGHT_MODELS = ("light", "light-people")  # the light network alone; on person crops with their pose guide


@dataclass
class DensePoseTrainConfig:
    """Everything a DensePose training run is told (the CLI exposes each field as a flag)."""

    data: Path                 # DensePose-COCO JSON (ours: OUT/densepose_coco.json, or the real one)
    out: Path                  # run folder (checkpoints, metrics.jsonl/csv, state for resume)
    model: str = "R_50_FPN_s1x"  # a name from human3d.densepose.rcnn.config.CONFIGS, or one of LIGHT_MODELS
    image_root: Path | None = None
    init: Path | None = None   # .pkl to start from (fine-tuning)
    steps: int = 1000
    batch_size: int = 2
    lr: float = 0.002
    min_size: int = 320        # training shorter side (jittered by augmentation)
    device: str = "cpu"
    amp: bool = False
    workers: int = 0
    seed: int = 0
    checkpoint_every: int = 200
