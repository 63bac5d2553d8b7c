"""Region proposal network over p2..p6 with detectron2's test-time proposal selection."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from human3d.densepose.rcnn.boxes import apply_deltas, batched_nms, clip_boxes
from human3d.densepose.rcnn.config import DensePoseConfig
from human3d.densepose.rcnn.layers import Conv2d

LEVELS = ("p2", "p3", "p4", "p5", "p6")


def cell_anchors(size: float, ratios: tuple[float, ...]) -> torch.Tensor:
    """(A, 4) anchors centred on 0 for one size; ratio = h / w, width sqrt(size^2 / ratio)."""
    anchors = []
    for ratio in ratios:
        w = math.sqrt(size * size / ratio)
        h = ratio * w
        anchors.append([-w / 2.0, -h / 2.0, w / 2.0, h / 2.0])
    return torch.tensor(anchors)


def grid_anchors(cells: torch.Tensor, height: int, width: int, stride: int) -> torch.Tensor:
    """(H*W*A, 4) anchors with centres at (x*stride, y*stride), ordered (y, x, a)."""
    shift_x = torch.arange(0, width * stride, step=stride, dtype=torch.float32, device=cells.device)
    shift_y = torch.arange(0, height * stride, step=stride, dtype=torch.float32, device=cells.device)
    yy, xx = torch.meshgrid(shift_y, shift_x, indexing="ij")
    xx, yy = xx.reshape(-1), yy.reshape(-1)
    shifts = torch.stack((xx, yy, xx, yy), dim=1)
    return (shifts.view(-1, 1, 4) + cells.view(1, -1, 4)).reshape(-1, 4)


class RPNHead(nn.Module):
    """Shared 3x3 conv + ReLU, then objectness (A channels) and anchor-major deltas (4A channels)."""

    def __init__(self, channels: int = 256, num_anchors: int = 3) -> None:
        super().__init__()
        self.conv = Conv2d(channels, channels, 3, padding=1)
        self.objectness_logits = Conv2d(channels, num_anchors, 1)
        self.anchor_deltas = Conv2d(channels, num_anchors * 4, 1)

    def forward(self, features: list[torch.Tensor]) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        logits, deltas = [], []
        for x in features:
            t = F.relu_(self.conv(x))
            logits.append(self.objectness_logits(t))
            deltas.append(self.anchor_deltas(t))
        return logits, deltas


class RPN(nn.Module):
    """Proposals per image: per-level top-k by logit, clip, drop empty boxes, per-level NMS, top-k."""

    def __init__(self, config: DensePoseConfig) -> None:
        super().__init__()
        self.config = config
        self.rpn_head = RPNHead(num_anchors=len(config.anchor_ratios))
        for index, size in enumerate(config.anchor_sizes):
            self.register_buffer(f"cell_anchors_{index}", cell_anchors(size, config.anchor_ratios), persistent=False)

    def anchors(self, level: int, height: int, width: int) -> torch.Tensor:
        """(H*W*A, 4) anchors of FPN level ``level`` (0 = p2) for a map of ``height`` x ``width``."""
        return grid_anchors(getattr(self, f"cell_anchors_{level}"), height, width, 2 ** (level + 2))

    def forward(self, features: dict[str, torch.Tensor], image_sizes: list[tuple[int, int]]
                ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """-> per image (boxes (R, 4) XYXY in resized-image pixels, objectness logits (R,)), by logit."""
        maps = [features[name] for name in LEVELS]
        logits, deltas = self.rpn_head(maps)
        return self.propose(maps, logits, deltas, image_sizes, self.config.rpn_pre_nms_topk,
                            self.config.rpn_post_nms_topk)

    def propose(self, maps: list[torch.Tensor], logits: list[torch.Tensor], deltas: list[torch.Tensor],
                image_sizes: list[tuple[int, int]], pre_nms_topk: int, post_nms_topk: int
                ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Proposals from the head's outputs: top ``pre_nms_topk`` per level, clip, NMS, top ``post_nms_topk``."""
        cfg = self.config
        level_boxes, level_logits, level_ids = [], [], []
        for level, (x, lg, dl) in enumerate(zip(maps, logits, deltas)):
            batch, _, height, width = x.shape
            anchors = self.anchors(level, height, width)
            lg, dl = flatten_logits(lg).float(), flatten_deltas(dl).float()
            k = min(lg.shape[1], pre_nms_topk)
            top_logits, top_index = lg.topk(k, dim=1)
            rows = torch.arange(batch, device=lg.device)[:, None]
            chosen_deltas = dl[rows, top_index].reshape(-1, 4)
            chosen_anchors = anchors[top_index.reshape(-1)]
            boxes = apply_deltas(chosen_deltas, chosen_anchors, (1.0, 1.0, 1.0, 1.0), cfg.scale_clamp)
            level_boxes.append(boxes.view(batch, k, 4))
            level_logits.append(top_logits)
            level_ids.append(torch.full((k,), level, dtype=torch.long, device=lg.device))
        all_boxes, all_logits, all_ids = torch.cat(level_boxes, 1), torch.cat(level_logits, 1), torch.cat(level_ids)
        results = []
        for image, (height, width) in enumerate(image_sizes):
            boxes, scores, ids = all_boxes[image], all_logits[image], all_ids
            finite = torch.isfinite(boxes).all(dim=1) & torch.isfinite(scores)
            boxes, scores, ids = boxes[finite], scores[finite], ids[finite]
            boxes = clip_boxes(boxes, height, width)
            nonempty = (boxes[:, 2] - boxes[:, 0] > 0) & (boxes[:, 3] - boxes[:, 1] > 0)
            boxes, scores, ids = boxes[nonempty], scores[nonempty], ids[nonempty]
            keep = batched_nms(boxes, scores, ids, cfg.rpn_nms_thresh)[:post_nms_topk]
            results.append((boxes[keep], scores[keep]))
        return results


def flatten_logits(logits: torch.Tensor) -> torch.Tensor:
    """Objectness (B, A, H, W) -> (B, H*W*A), in the anchors' (y, x, a) order."""
    return logits.permute(0, 2, 3, 1).flatten(1)


def flatten_deltas(deltas: torch.Tensor) -> torch.Tensor:
    """Anchor-major deltas (B, 4A, H, W) -> (B, H*W*A, 4), in the anchors' (y, x, a) order."""
    batch, _, height, width = deltas.shape
    return deltas.view(batch, -1, 4, height, width).permute(0, 3, 4, 1, 2).reshape(batch, -1, 4)
