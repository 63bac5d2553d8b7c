"""``human3d train densepose``: the driver, dispatching on the model to the R-CNN or the light-model trainer."""

from __future__ import annotations

from pathlib import Path

from human3d.densepose.train.config import DensePoseTrainConfig
from human3d.densepose.train.light import train_light
from human3d.densepose.train.rcnn import train_rcnn


def train_densepose(options: DensePoseTrainConfig) -> Path:
    """Train the model named by ``options.model``; returns the final checkpoint's path."""
    if options.model == "light":
        return train_light(options)
    return train_rcnn(options)
