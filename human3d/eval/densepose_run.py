"""Run a DensePose predictor over the images of a DensePose-COCO JSON, for :func:`evaluate_densepose`."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from tqdm import tqdm

from human3d.densepose.rcnn.image import read_image_bgr
from human3d.densepose.result import DensePoseResult
from human3d.errors import Human3DError
from human3d.formats import densepose_coco as coco


@dataclass
class Predictions:
    """Results by COCO image id, and the seconds the predictor spent (reading images excluded)."""

    results: dict[int, DensePoseResult]
    seconds: float


def coco_images(coco_json: str | Path, limit: int | None = None) -> list[dict]:
    """The image entries of a DensePose-COCO JSON by increasing id (the first ``limit`` of them)."""
    document = coco.read_densepose_coco(coco_json)
    images = sorted(document["images"], key=lambda image: int(image["id"]))
    if not images:
        raise Human3DError.for_path(coco_json, "lists no images")
    return images[:limit] if limit is not None else images


def predict_coco_images(predict: Callable[[Sequence[np.ndarray]], list[DensePoseResult]], coco_json: str | Path,
                        image_root: str | Path | None = None, limit: int | None = None, batch_size: int = 1,
                        progress: bool = True) -> Predictions:
    """Run ``predict`` (e.g. a predictor's ``predict``: BGR images in, one result each out) over the JSON's images.

    ``image_root`` holds the ``file_name`` s (default: the JSON's folder). A missing or unreadable
    image is a :class:`Human3DError` naming it.
    """
    root = Path(image_root) if image_root is not None else Path(coco_json).parent
    images = coco_images(coco_json, limit)
    results: dict[int, DensePoseResult] = {}
    seconds = 0.0
    with tqdm(total=len(images), unit="image", desc="DensePose", disable=not progress) as bar:
        for start in range(0, len(images), max(1, batch_size)):
            chunk = images[start : start + max(1, batch_size)]
            pixels = [read_image_bgr(root / image["file_name"]) for image in chunk]
            began = time.perf_counter()
            outputs = predict(pixels)
            seconds += time.perf_counter() - began
            results.update({int(image["id"]): output for image, output in zip(chunk, outputs)})
            bar.update(len(chunk))
    return Predictions(results, seconds)
