"""From network outputs to detectron2's chart results: boxes in input pixels, per-box part labels and U,V."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from human3d.densepose.rcnn.boxes import clip_boxes
from human3d.densepose.rcnn.chart_predictor import ChartOutput
from human3d.densepose.result import DensePoseResult, int_boxes_xywh


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
    # channels-last: the bilinear resizing of 25-channel charts runs about 3x faster in that layout on CPU
    charts = charts.map(lambda t: t.contiguous(memory_format=torch.channels_last))
    result = DensePoseResult(boxes.cpu().numpy().astype(np.float32), scores.float().cpu().numpy().astype(np.float32))
    for k, (_, _, w, h) in enumerate(int_boxes_xywh(boxes).tolist()):
        labels, uv = chart_to_labels_uv(charts, k, w, h)
        result.labels.append(labels.to(torch.uint8).cpu().numpy())
        result.uv.append(uv.float().cpu().numpy())
    return result
