"""``human3d train pifuhd|densepose|depth-lifter``: training runs (single process or under ``torchrun``)."""

from __future__ import annotations

from human3d.commands import Subparsers, add_task_subcommands

TASKS = {
    "pifuhd": ("human3d.commands.train_pifuhd", "train the PIFuHD model (normal nets, coarse and fine levels)"),
    "densepose": ("human3d.commands.train_densepose", "train a DensePose model (R-CNN or the light one)"),
    "depth-lifter": ("human3d.commands.train_depth_lifter",
                     "train the network that reads keypoint depths from BlazePose's landmarks (body fits)"),
}


def register(subparsers: Subparsers) -> None:
    """Add ``train`` and its per-model subcommands."""
    parser = subparsers.add_parser("train", help="train a model on human3d synth data or real datasets",
                                   description="Train a model. Run under torchrun for several processes (DDP).")
    add_task_subcommands(parser, TASKS)
