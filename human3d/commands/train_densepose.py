"""``human3d train densepose --data JSON --out DIR``: train DensePose R-CNN (any config), the light model, or
the light people model (the light network on the people finder's crops and poses)."""

from __future__ import annotations

import argparse
import os
from dataclasses import fields
from pathlib import Path

from human3d.commands import check_device
from human3d.densepose.rcnn.config import CONFIGS
from human3d.densepose.train.config import LIGHT_MODELS, DensePoseTrainConfig
from human3d.errors import Human3DError
from human3d.weights.resolve import existing_checkpoint

_HELP = {
    "data": "DensePose-COCO JSON: ours (OUT/densepose_coco.json of `human3d synth`) or the real one",
    "out": "run folder: checkpoints (.pkl, model-zoo layout), metrics.jsonl/csv, resume state",
    "model": "R-CNN config (" + ", ".join(n.removeprefix("densepose_rcnn_") for n in CONFIGS) + "), 'light' "
             "(the network alone) or 'light-people' (person crops and pose guides; --min-size does not apply)",
    "image_root": "folder holding the JSON's file_name entries (default: the JSON's folder)",
    "init": "checkpoint .pkl to fine-tune from (tensors matching the config by name and shape are loaded)",
    "steps": "optimizer steps in all (a resumed run continues up to this count)",
    "batch_size": "images per step and process",
    "lr": "base learning rate (SGD, momentum 0.9, warm-up, x0.1 at 2/3 and 8/9 of the steps)",
    "min_size": "training shorter image side in pixels (jittered x0.8-1.2)",
    "device": "cpu, cuda or cuda:N (under torchrun each process takes cuda:LOCAL_RANK)",
    "amp": "bfloat16 mixed precision (CUDA only; ignored on CPU)",
    "workers": "DataLoader worker processes per training process",
    "seed": "random seed (initialisation, augmentation, sampling)",
    "checkpoint_every": "write a checkpoint and the resume state every this many steps",
}
_PATHS = {"data", "out", "image_root", "init"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """One flag per :class:`DensePoseTrainConfig` field (``--batch-size`` for ``batch_size``, ...)."""
    for field in fields(DensePoseTrainConfig):
        flag = "--" + field.name.replace("_", "-")
        required = field.name in ("data", "out")
        if field.name == "amp":
            parser.add_argument(flag, action="store_true", help=_HELP[field.name])
            continue
        kind = Path if field.name in _PATHS else type(field.default)
        default = None if required else field.default
        parser.add_argument(flag, dest=field.name, type=kind, required=required, default=default,
                            help=_HELP[field.name] + ("" if required or default is None else f" (default {default})"))


def options_from_args(args: argparse.Namespace) -> DensePoseTrainConfig:
    """The parsed flags as options, checked."""
    options = DensePoseTrainConfig(**{f.name: getattr(args, f.name) for f in fields(DensePoseTrainConfig)})
    if options.model not in LIGHT_MODELS:
        from human3d.densepose.rcnn.config import get_config

        get_config(options.model)  # a one-line error for an unknown name
    if not options.data.is_file():
        raise Human3DError.for_path(options.data, "training data not found (a DensePose-COCO JSON file)")
    if options.init is not None:
        existing_checkpoint(options.init)
    for name in ("steps", "batch_size", "min_size", "checkpoint_every"):
        if getattr(options, name) < 1:
            raise Human3DError(f"--{name.replace('_', '-')} must be at least 1")
    if options.lr <= 0:
        raise Human3DError("--lr must be positive")
    check_device(options.device)
    return options


def run(args: argparse.Namespace) -> int:
    """Train; prints the final checkpoint's path (once: under torchrun only rank 0 prints)."""
    from human3d.densepose.train.driver import train_densepose

    path = train_densepose(options_from_args(args))
    if int(os.environ.get("RANK", "0")) == 0:
        print(path)
    return 0
