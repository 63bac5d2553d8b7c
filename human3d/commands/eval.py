"""``human3d eval TASK``: score a checkpoint on held-out data (or real photos) with the papers' metrics."""

from __future__ import annotations

from human3d.commands import Subparsers, add_task_subcommands

TASKS = {
    "reconstruction": ("human3d.commands.eval_reconstruction",
                       "Chamfer, point-to-surface and normal consistency of PIFuHD reconstructions"),
    "densepose": ("human3d.commands.eval_densepose", "GPS, GPSm and box AP of a DensePose model"),
    "densepose-keypoints": ("human3d.commands.eval_densepose_keypoints",
                            "keypoint-part agreement of DensePose on real photos (no truth needed)"),
    "motion": ("human3d.commands.eval_motion",
               "MPJPE, PA-MPJPE, per-vertex and acceleration error of human3d motion on synthetic clips"),
}


def register(subparsers: Subparsers) -> None:
    """Add ``eval`` and its per-task subcommands."""
    parser = subparsers.add_parser("eval", help="evaluate a checkpoint with the published metrics",
                                   description="Evaluate a checkpoint; prints a table and can write it as JSON.")
    add_task_subcommands(parser, TASKS)
