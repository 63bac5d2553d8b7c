"""From network outputs to detectron2's chart results: boxes in input pixels, per-box part labels and U,V."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from human3d.densepose.boxes import clip_boxes
from human3d.densepose.chart_predictor import ChartOutput


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


def rescale_detections(boxes: torch.Tensor, scores: torch.Tensor, resized_hw: tuple[int, int],
                       original_hw: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Scale boxes from the resized to the original image, clip, keep non-empty; returns (boxes, kept mask)."""
    boxes = boxes.clone()
    boxes[:, 0::2] *= original_hw[1] / resized_hw[1]
    boxes[:, 1::2] *= original_hw[0] / resized_hw[0]
    boxes = clip_boxes(boxes, *original_hw)
    keep = (boxes[:, 2] - boxes[:, 0] > 0) & (boxes[:, 3] - boxes[:, 1] > 0)
    return boxes[keep], keep


def chart_to_labels_uv(charts: ChartOutput, index: int, width: int, height: int) -> tuple[torch.Tensor, torch.Tensor]:
    """One box's charts resized to (height, width): labels = fine argmax where coarse argmax > 0; U,V of that part."""

    def resize(t: torch.Tensor) -> torch.Tensor:
        return F.interpolate(t[index:index + 1], (height, width), mode="bilinear", align_corners=False)

    coarse = resize(charts.coarse_segm).argmax(dim=1)
    labels = (resize(charts.fine_segm).argmax(dim=1) * (coarse > 0).long())[0]
    uv = torch.stack([resize(t)[0].gather(0, labels[None])[0] for t in (charts.u, charts.v)])
    uv = torch.where(labels > 0, uv, torch.zeros_like(uv))
    return labels, uv


def to_result(boxes: torch.Tensor, scores: torch.Tensor, charts: ChartOutput, resized_hw: tuple[int, int],
              original_hw: tuple[int, int]) -> DensePoseResult:
    """Network output of one image (resized-image boxes) -> :class:`DensePoseResult` in original pixels."""
    boxes, keep = rescale_detections(boxes.float(), scores, resized_hw, original_hw)
    scores = scores[keep]
    if len(scores) and not bool(keep.all()):
        charts = charts.map(lambda t: t[keep])
    result = DensePoseResult(boxes.cpu().numpy().astype(np.float32), scores.float().cpu().numpy().astype(np.float32))
    for k, (_, _, w, h) in enumerate(int_boxes_xywh(boxes).tolist()):
        labels, uv = chart_to_labels_uv(charts, k, w, h)
        result.labels.append(labels.to(torch.uint8).cpu().numpy())
        result.uv.append(uv.float().cpu().numpy())
    return result
