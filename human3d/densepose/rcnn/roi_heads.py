"""Box head (2 fc, class-wise regression, score threshold, NMS) and the DensePose branch on its detections."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from human3d.densepose.rcnn.boxes import apply_deltas, batched_nms, clip_boxes
from human3d.densepose.rcnn.chart_predictor import ChartOutput, ChartPredictor
from human3d.densepose.rcnn.config import DensePoseConfig
from human3d.densepose.rcnn.densepose_head import Decoder, DeepLabHead, V1ConvXHead
from human3d.densepose.rcnn.roi_align import pool_levels

BOX_LEVELS = ("p2", "p3", "p4", "p5")
BOX_STRIDES = [4, 8, 16, 32]


@dataclass
class Detections:
    """One image's detections in resized-image pixels, by decreasing score."""

    boxes: torch.Tensor  # (N, 4) XYXY
    scores: torch.Tensor  # (N,)


class BoxHead(nn.Module):
    """Flatten the 7x7 pooled features -> fc1 -> ReLU -> fc2 -> ReLU."""

    def __init__(self, in_features: int, hidden: int = 1024) -> None:
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden)
        self.fc2 = nn.Linear(hidden, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.fc2(F.relu(self.fc1(x.flatten(1)))))


class BoxPredictor(nn.Module):
    """Class logits (person, background last) and person box deltas."""

    def __init__(self, hidden: int = 1024, num_classes: int = 1) -> None:
        super().__init__()
        self.cls_score = nn.Linear(hidden, num_classes + 1)
        self.bbox_pred = nn.Linear(hidden, num_classes * 4)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.cls_score(x), self.bbox_pred(x)


def _batch_index(counts: list[int], device: torch.device) -> torch.Tensor:
    return torch.repeat_interleave(torch.arange(len(counts), device=device), torch.tensor(counts, device=device))


class ROIHeads(nn.Module):
    """Box detection on the RPN proposals, then DensePose charts on the detected boxes."""

    def __init__(self, config: DensePoseConfig) -> None:
        super().__init__()
        self.config = config
        self.score_thresh = config.score_thresh
        size = config.box_pooler_resolution
        self.box_head = BoxHead(256 * size * size)
        self.box_predictor = BoxPredictor()
        if config.decoder:
            self.decoder = Decoder()
        if config.deeplab_head:
            self.densepose_head = DeepLabHead(256, config.deeplab_dilations, config.head_channels, config.head_convs)
        else:
            self.densepose_head = V1ConvXHead(256, config.head_channels, config.head_convs)
        self.densepose_predictor = ChartPredictor(config.head_channels, config.coarse_channels, config.num_patches)
        self.head_autocast: contextlib.AbstractContextManager = contextlib.nullcontext()  # the head's own precision

    def _pool(self, features: list[torch.Tensor], strides: list[int], boxes: list[torch.Tensor],
              size: int) -> torch.Tensor:
        index = _batch_index([len(b) for b in boxes], features[0].device)
        return pool_levels(features, strides, torch.cat(boxes), index, size,
                           self.config.pooler_sampling_ratio, self.config.pooler_aligned)

    def box_outputs(self, features: dict[str, torch.Tensor], proposals: list[torch.Tensor]
                    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Raw (class logits (R, 2), deltas (R, 4)) for all images' proposals, concatenated."""
        pooled = self._pool([features[k] for k in BOX_LEVELS], BOX_STRIDES, proposals,
                            self.config.box_pooler_resolution)
        logits, deltas = self.box_predictor(self.box_head(pooled))
        return logits.float(), deltas.float()

    def detect(self, features: dict[str, torch.Tensor], proposals: list[torch.Tensor],
               image_sizes: list[tuple[int, int]]) -> list[Detections]:
        """Score threshold (strict >), per-class NMS and the top detections of each image."""
        cfg = self.config
        logits, deltas = self.box_outputs(features, proposals)
        results = []
        for props, lg, dl, (height, width) in zip(proposals, logits.split([len(p) for p in proposals]),
                                                   deltas.split([len(p) for p in proposals]), image_sizes):
            boxes = apply_deltas(dl, props, cfg.box_reg_weights, cfg.scale_clamp)
            scores = F.softmax(lg, dim=-1)[:, :-1]
            finite = torch.isfinite(boxes).all(dim=1) & torch.isfinite(scores).all(dim=1)
            boxes, scores = clip_boxes(boxes[finite], height, width), scores[finite]
            passing = torch.nonzero(scores > self.score_thresh)
            boxes, scores = boxes[passing[:, 0]], scores[passing[:, 0], passing[:, 1]]
            keep = batched_nms(boxes, scores, passing[:, 1], cfg.box_nms_thresh)[: cfg.detections_per_image]
            results.append(Detections(boxes[keep], scores[keep]))
        return results

    def densepose_features(self, features: dict[str, torch.Tensor]) -> tuple[list[torch.Tensor], list[int]]:
        """The maps the DensePose pooler reads: the decoder output (stride 4) or p2..p5."""
        maps = [features[k] for k in BOX_LEVELS]
        if self.config.decoder:
            return [self.decoder(maps)], [4]
        return maps, BOX_STRIDES

    def densepose_pooled(self, features: dict[str, torch.Tensor], boxes: list[torch.Tensor]) -> torch.Tensor:
        """ROIAlign of the DensePose features for the detected boxes (all images concatenated)."""
        maps, strides = self.densepose_features(features)
        return self._pool(maps, strides, boxes, self.config.pooler_resolution)

    def densepose(self, features: dict[str, torch.Tensor], boxes: list[torch.Tensor]) -> ChartOutput:
        """Chart predictions (after the x2 upsampling) for the boxes of every image, concatenated."""
        pooled = self.densepose_pooled(features, boxes)
        with self.head_autocast:
            head = self.densepose_head(pooled)
        return self.densepose_predictor(head if torch.is_autocast_enabled(head.device.type) else head.float()
                                        ).map(lambda t: t.float())
