"""Where people may be: the blobs of MediaPipe's selfie segmentation model, for the pose landmark model to
look at.

BlazePose's detector keys on faces and OpenCV's HOG detector on upright pedestrians (:mod:`human3d.people.seeds`);
both miss people bent over a cart or sitting. MediaPipe's selfie segmentation model (general, 256 x 256,
shipped in the ``mediapipe==0.10.14`` wheel, Apache-2.0, trained by Google on real photos) marks people's
pixels whatever their pose. :class:`SegmentationSeeder` runs it with LiteRT on square windows of the image
(:data:`SEGMENTATION_TILES`: squares of the shorter side, half a square apart), and each blob of
probability above :data:`BLOB_PROBABILITY` covering at least :data:`MIN_BLOB_AREA` of a window gives a
square region around it, :data:`SEED_REGION_SCALE` times its longer side. Like HOG's boxes these are only
seeds: a person is kept only when the landmark model sees one there (``benchmarks/people_recall.py``
measures what they add).
"""

from __future__ import annotations

import cv2
import numpy as np

from human3d.people.models import litert_interpreter
from human3d.people.tiles import tile_windows

SEGMENTATION_TILES = (1,)  # squares of the shorter side (1/2 too found 2 more people and 3 more false finds)
INPUT_SIZE = 256  # the model's square input, pixels
BLOB_PROBABILITY = 0.5  # a pixel belongs to a blob from this person probability on
MIN_BLOB_AREA = 0.002  # a blob's least area, as a fraction of its window
SEED_REGION_SCALE = 1.2  # the landmark model's square around a blob, in blob box longer sides


class SegmentationSeeder:
    """Square regions where the selfie segmentation model sees people; build once, call :meth:`regions`
    for any number of images. ``threads``: LiteRT's CPU threads (default 1)."""

    def __init__(self, threads: int = 1) -> None:
        self.interpreter = litert_interpreter("mediapipe_selfie_segmentation", threads)
        self.input = self.interpreter.get_input_details()[0]["index"]
        self.output = self.interpreter.get_output_details()[0]["index"]

    def probability(self, square: np.ndarray) -> np.ndarray:
        """The person probability (256, 256) of a square RGB uint8 image of any size."""
        pixels = cv2.resize(square, (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_AREA)
        self.interpreter.set_tensor(self.input, (pixels.astype(np.float32) * (1.0 / 255.0))[None])
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self.output)[0, :, :, 0]

    def regions(self, image: np.ndarray) -> list[tuple[tuple[float, float], float]]:
        """Square regions (centre x, y and side, image pixels) around the blobs in ``image`` (RGB uint8)."""
        height, width = image.shape[:2]
        found = []
        for window in tile_windows(width, height, SEGMENTATION_TILES):
            square = image[window.y:window.y + window.height, window.x:window.x + window.width]
            blobs = (self.probability(np.ascontiguousarray(square)) > BLOB_PROBABILITY).astype(np.uint8)
            count, _, stats, _ = cv2.connectedComponentsWithStats(blobs, connectivity=8)
            scale = window.width / INPUT_SIZE
            for x, y, w, h, area in stats[1:count]:
                if area >= MIN_BLOB_AREA * INPUT_SIZE * INPUT_SIZE:
                    centre = (window.x + (x + w / 2) * scale, window.y + (y + h / 2) * scale)
                    found.append((centre, SEED_REGION_SCALE * max(w, h) * scale))
        return found
