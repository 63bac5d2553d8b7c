"""Square windows of an image that the people and face models look at: whole-image tiles; box overlap and bounds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class Window:
    """A square part of the image the models look at: top-left corner and side in pixels."""

    x: int
    y: int
    width: int
    height: int

    def inner_edges(self, image_width: int, image_height: int) -> tuple[bool, bool, bool, bool]:
        """Which of the left, top, right, bottom edges lie inside the image (a person there may be cut)."""
        return self.x > 0, self.y > 0, self.x + self.width < image_width, self.y + self.height < image_height


def tile_windows(width: int, height: int, levels: tuple[int, ...]) -> list[Window]:
    """Overlapping square tiles: for each ``n`` in ``levels``, side = shorter side / n, stride half a side."""
    windows = []
    for level in levels:
        side = int(round(min(width, height) / level))
        if side < 64:
            continue
        stride = max(1, side // 2)
        xs = sorted({*range(0, max(1, width - side + 1), stride), max(0, width - side)})
        ys = sorted({*range(0, max(1, height - side + 1), stride), max(0, height - side)})
        windows += [Window(x, y, side, side) for y in ys for x in xs]
    return windows


def box_pixels(box: Sequence[float], size: tuple[int, int]) -> tuple[int, int, int, int]:
    """An xyxy box as whole pixel bounds x1, y1, x2, y2 (outward) inside an image of ``size`` (height, width)."""
    x1, y1 = max(0, int(np.floor(box[0]))), max(0, int(np.floor(box[1])))
    return x1, y1, min(size[1], int(np.ceil(box[2]))), min(size[0], int(np.ceil(box[3])))


def box_iou_cover(a: Sequence[float], b: Sequence[float]) -> tuple[float, float]:
    """Intersection over union of two xyxy boxes, and intersection over the smaller box's area."""
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    area_a = max(0.0, a[2] - a[0]) * max(0.0, a[3] - a[1])
    area_b = max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])
    union = area_a + area_b - inter
    return (inter / union if union > 0 else 0.0), (inter / min(area_a, area_b) if min(area_a, area_b) > 0 else 0.0)


def suppress(boxes: Sequence[Sequence[float]], order: Sequence[int], max_iou: float,
             max_cover: float = 1.0) -> list[int]:
    """Greedy non-maximum suppression: the indices kept, taking the boxes in ``order`` (best first); a box goes
    when its IoU with a kept box is above ``max_iou`` or it lies more than ``max_cover`` inside one (or one in it)."""
    kept: list[int] = []
    for index in order:
        if not any(iou > max_iou or cover > max_cover
                   for iou, cover in (box_iou_cover(boxes[index], boxes[other]) for other in kept)):
            kept.append(index)
    return kept
