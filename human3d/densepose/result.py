"""The one DensePose result type, returned by every predictor (R-CNN, light, ONNX): boxes, scores, per-box I, U, V."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch


@dataclass
class DensePoseResult:
    """One image's people, by decreasing score, in input-image pixels.

    ``labels[k]`` (H_k x W_k uint8, 0 = background, 1..24 = part) and ``uv[k]`` (2 x H_k x W_k
    float32, 0 on background) cover the box ``boxes_xywh_int[k]`` = (x, y, W_k, H_k).
    """

    boxes_xyxy: np.ndarray
    scores: np.ndarray
    labels: list[np.ndarray] = field(default_factory=list)
    uv: list[np.ndarray] = field(default_factory=list)

    @property
    def boxes_xywh_int(self) -> np.ndarray:
        """Each box as detectron2 rounds it: XYWH truncated component-wise, sizes at least 1."""
        return int_boxes_xywh(torch.from_numpy(self.boxes_xyxy)).numpy()

    def __len__(self) -> int:
        return len(self.scores)


def int_boxes_xywh(boxes_xyxy: torch.Tensor) -> torch.Tensor:
    """(N, 4) float XYXY -> int64 XYWH: each of x, y, x2 - x1, y2 - y1 truncated, w and h at least 1."""
    xywh = torch.stack((boxes_xyxy[:, 0], boxes_xyxy[:, 1], boxes_xyxy[:, 2] - boxes_xyxy[:, 0],
                        boxes_xyxy[:, 3] - boxes_xyxy[:, 1]), dim=1).long()
    xywh[:, 2:] = xywh[:, 2:].clamp(min=1)
    return xywh
