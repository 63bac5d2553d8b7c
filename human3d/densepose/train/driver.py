"""``human3d train densepose``: the driver, dispatching on the model to the R-CNN, light-model or light
people-model trainer."""

from __future__ import annotations

from pathlib import Path

from human3d.densepose.train.config import DensePoseTrainConfig
from human3d.densepose.train.light import train_light
from human3d.densepose.train.light_people import train_light_people
from human3d.densepose.train.rcnn import train_rcnn


def train_densepose(options: DensePoseTrainConfig) -> Path:
    """Train the model named by ``options.model``; returns the final checkpoint's path."""
    if options.model == "light":
        return train_light(options)
    if options.model == "light-people":
        return train_light_people(options)
    return train_rcnn(options)
