"""The training objective of DensePose R-CNN: RPN, box head and DensePose chart losses (detectron2's).

* RPN: binary cross-entropy on 256 sampled anchors per image, L1 on the positives' deltas.
* Box head: cross-entropy (person / background) on 512 sampled ROIs per image, L1 on the
  person ROIs' deltas (weights 10, 10, 5, 5).
* DensePose, on person ROIs with IoU >= 0.7 (the ground-truth boxes are among the ROIs): coarse
  segmentation cross-entropy against the annotation's part masks (weight 5), fine segmentation
  cross-entropy at the annotated points (weight 1), smooth-L1 on U and V of the annotated part at
  those points (summed, weight 0.01). Predictions are read at the points by bilinear interpolation.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from human3d.densepose.rcnn.chart_predictor import ChartOutput
from human3d.densepose.rcnn.model import DensePoseRCNN
from human3d.densepose.rcnn.rpn import LEVELS, flatten_deltas, flatten_logits
from human3d.densepose.train.targets import (
    PointTargets,
    anchor_targets,
    coarse_targets,
    encode_deltas,
    point_targets,
    sample_rois,
)


@dataclass(frozen=True)
class RCNNLossConfig:
    """Sampling sizes and loss weights (detectron2's defaults, except the DensePose ROI cap for CPUs)."""

    rpn_batch_per_image: int = 256
    rpn_positive_fraction: float = 0.5
    rpn_pre_nms_topk: int = 2000
    rpn_post_nms_topk: int = 1000
    roi_batch_per_image: int = 512
    roi_positive_fraction: float = 0.25
    densepose_iou: float = 0.7
    densepose_rois_per_image: int = 32
    coarse_weight: float = 5.0  # INDEX_WEIGHTS
    part_weight: float = 1.0  # PART_WEIGHTS
    point_weight: float = 0.01  # POINT_REGRESSION_WEIGHTS


def sample_at_points(maps: torch.Tensor, roi: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Bilinear values (P, C) of ``maps`` (R, C, S, S) at ROI-relative points.

    ``x``, ``y`` lie in [0, 1] across the ROI; pixel ``i`` of the map has its centre at (i + 0.5) / S.
    """
    size = maps.shape[-1]
    px = (x * size - 0.5).clamp(0, size - 1)
    py = (y * size - 0.5).clamp(0, size - 1)
    x0 = px.floor().long().clamp(max=size - 2)
    y0 = py.floor().long().clamp(max=size - 2)
    fx, fy = (px - x0)[:, None], (py - y0)[:, None]

    def at(yy: torch.Tensor, xx: torch.Tensor) -> torch.Tensor:
        return maps[roi, :, yy, xx]

    return (at(y0, x0) * (1 - fx) * (1 - fy) + at(y0, x0 + 1) * fx * (1 - fy)
            + at(y0 + 1, x0) * (1 - fx) * fy + at(y0 + 1, x0 + 1) * fx * fy)


def chart_losses(charts: ChartOutput, points: PointTargets, coarse: torch.Tensor,
                 settings: RCNNLossConfig) -> dict[str, torch.Tensor]:
    """The four DensePose losses of a set of ROIs (``coarse``: (R, S, S) coarse labels)."""
    # 0 that still depends on every output, so that DDP sees all parameters used when nothing is annotated
    zero = sum(t.sum() for t in (charts.coarse_segm, charts.fine_segm, charts.u, charts.v)) * 0.0
    losses = {"loss_densepose_S": zero + settings.coarse_weight * F.cross_entropy(charts.coarse_segm, coarse)
              if len(coarse) else zero}
    if len(points.roi) == 0:
        return {**losses, "loss_densepose_I": zero, "loss_densepose_U": zero, "loss_densepose_V": zero}
    fine = sample_at_points(charts.fine_segm, points.roi, points.x, points.y)
    rows = torch.arange(len(points.part), device=fine.device)
    u = sample_at_points(charts.u, points.roi, points.x, points.y)[rows, points.part]
    v = sample_at_points(charts.v, points.roi, points.x, points.y)[rows, points.part]
    losses["loss_densepose_I"] = settings.part_weight * F.cross_entropy(fine, points.part)
    losses["loss_densepose_U"] = settings.point_weight * F.smooth_l1_loss(u, points.u, reduction="sum")
    losses["loss_densepose_V"] = settings.point_weight * F.smooth_l1_loss(v, points.v, reduction="sum")
    return losses


class DensePoseRCNNObjective(nn.Module):
    """Wraps a :class:`DensePoseRCNN`; ``forward(batch)`` returns its training losses and their sum ``"loss"``.

    A batch is a list of items from :class:`~human3d.densepose.train.augment.TrainingItems`: ``image``
    (3, H, W) BGR 0..255, ``boxes`` (K, 4), ``dp_boxes`` (K, 4), ``dp_segm`` (K, 256, 256) and the
    points ``xy`` (P, 2), ``person`` (P,), ``I``, ``U``, ``V``.
    """

    def __init__(self, model: DensePoseRCNN, settings: RCNNLossConfig = RCNNLossConfig()) -> None:
        super().__init__()
        self.model = model
        self.settings = settings

    def forward(self, batch: list[dict]) -> dict[str, torch.Tensor]:
        model, settings = self.model, self.settings
        images, sizes = model.normalize([item["image"] for item in batch])
        features = model.backbone(images)
        maps = [features[name] for name in LEVELS]
        rpn = model.proposal_generator
        logits, deltas = rpn.rpn_head(maps)
        gt_boxes = [item["boxes"].to(images.dtype) for item in batch]
        losses = self._rpn_losses(maps, logits, deltas, gt_boxes)
        proposals = rpn.propose(maps, [t.detach() for t in logits], [t.detach() for t in deltas], sizes,
                                settings.rpn_pre_nms_topk, settings.rpn_post_nms_topk)
        samples = [sample_rois(boxes, gt, settings.roi_batch_per_image, settings.roi_positive_fraction)
                   for (boxes, _), gt in zip(proposals, gt_boxes)]
        losses.update(self._box_losses(features, samples, gt_boxes))
        losses.update(self._densepose_losses(features, samples, batch))
        losses["loss"] = sum(losses.values())
        return losses

    def _rpn_losses(self, maps: list[torch.Tensor], logits: list[torch.Tensor], deltas: list[torch.Tensor],
                    gt_boxes: list[torch.Tensor]) -> dict[str, torch.Tensor]:
        rpn, settings = self.model.proposal_generator, self.settings
        anchors = torch.cat([rpn.anchors(level, m.shape[2], m.shape[3]) for level, m in enumerate(maps)])
        flat_logits = torch.cat([flatten_logits(t) for t in logits], dim=1).float()
        flat_deltas = torch.cat([flatten_deltas(t) for t in deltas], dim=1).float()
        targets = [anchor_targets(anchors, gt, settings.rpn_batch_per_image, settings.rpn_positive_fraction)
                   for gt in gt_boxes]
        labels = torch.stack([t.labels for t in targets])
        target_deltas = torch.stack([t.deltas for t in targets])
        sampled, positive = labels >= 0, labels == 1
        normalizer = settings.rpn_batch_per_image * len(gt_boxes)
        return {
            "loss_rpn_cls": F.binary_cross_entropy_with_logits(flat_logits[sampled], labels[sampled].float(),
                                                               reduction="sum") / normalizer,
            "loss_rpn_loc": F.l1_loss(flat_deltas[positive], target_deltas[positive], reduction="sum") / normalizer,
        }

    def _box_losses(self, features: dict[str, torch.Tensor], samples: list, gt_boxes: list[torch.Tensor]
                    ) -> dict[str, torch.Tensor]:
        heads = self.model.roi_heads
        logits, deltas = heads.box_outputs(features, [s.boxes for s in samples])
        foreground = torch.cat([s.foreground for s in samples])
        classes = (~foreground).long()  # 0 = person, 1 = background (the last logit)
        targets = torch.cat([encode_deltas(s.boxes[s.foreground], gt[s.gt_index[s.foreground]],
                                           self.model.config.box_reg_weights) for s, gt in zip(samples, gt_boxes)])
        return {
            "loss_cls": F.cross_entropy(logits, classes),
            "loss_box_reg": F.l1_loss(deltas[foreground], targets, reduction="sum") / max(len(classes), 1),
        }

    def _densepose_losses(self, features: dict[str, torch.Tensor], samples: list, batch: list[dict]
                          ) -> dict[str, torch.Tensor]:
        settings, config = self.settings, self.model.config
        # people are numbered across the batch: image i's first person is offsets[i]
        offsets = [sum(len(item["boxes"]) for item in batch[:i]) for i in range(len(batch))]
        rois, persons = [], []
        for sample, offset in zip(samples, offsets):
            chosen = torch.where(sample.foreground & (sample.iou >= settings.densepose_iou))[0]
            chosen = chosen[: settings.densepose_rois_per_image]
            rois.append(sample.boxes[chosen])
            persons.append(sample.gt_index[chosen] + offset)
        charts = self.model.roi_heads.densepose(features, rois)
        all_rois, all_persons = torch.cat(rois), torch.cat(persons)
        points = {key: torch.cat([item[key] for item in batch]) for key in ("xy", "I", "U", "V")}
        points["person"] = torch.cat([item["person"] + offset for item, offset in zip(batch, offsets)])
        dp_boxes = torch.cat([item["dp_boxes"] for item in batch]).to(all_rois)
        dp_segm = torch.cat([item["dp_segm"] for item in batch])
        coarse = coarse_targets(all_rois, dp_boxes[all_persons], dp_segm[all_persons], charts.coarse_segm.shape[-1],
                                foreground_only=config.coarse_channels == 2)
        return chart_losses(charts, point_targets(all_rois, all_persons, points), coarse, settings)
