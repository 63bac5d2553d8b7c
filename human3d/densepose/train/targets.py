"""Training targets of DensePose R-CNN (detectron2's rules): anchor and proposal matching, sampling,
box-regression targets, and the DensePose points and coarse masks in each ROI's own coordinates."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from human3d.densepose.rcnn.boxes import box_area


def pairwise_iou(boxes_a: torch.Tensor, boxes_b: torch.Tensor) -> torch.Tensor:
    """(N, M) intersection over union of XYXY boxes; 0 where a union is empty."""
    lt = torch.maximum(boxes_a[:, None, :2], boxes_b[None, :, :2])
    rb = torch.minimum(boxes_a[:, None, 2:], boxes_b[None, :, 2:])
    wh = (rb - lt).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    union = box_area(boxes_a)[:, None] + box_area(boxes_b)[None, :] - inter
    return torch.where(union > 0, inter / union.clamp(min=1e-12), torch.zeros_like(inter))


def match(iou: torch.Tensor, low: float, high: float, allow_low_quality: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Match each of N candidates to its best of G ground-truth boxes (``iou`` is (G, N)).

    Labels: 1 (IoU >= ``high``), 0 (IoU < ``low``), -1 (in between: ignored). With
    ``allow_low_quality`` every ground truth's best candidates (ties included) are positive too.
    Returns (matched ground-truth index (N,), label (N,)); all 0 / background when G = 0.
    """
    num = iou.shape[1]
    if iou.shape[0] == 0:
        zeros = torch.zeros(num, dtype=torch.long, device=iou.device)
        return zeros, zeros.clone()
    best, index = iou.max(dim=0)
    labels = torch.full((num,), -1, dtype=torch.long, device=iou.device)
    labels[best < low] = 0
    labels[best >= high] = 1
    if allow_low_quality:
        per_gt = iou.max(dim=1, keepdim=True).values
        labels[((iou == per_gt) & (per_gt > 0)).any(dim=0)] = 1
    return index, labels


def subsample(labels: torch.Tensor, total: int, positive_fraction: float,
              generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Random positives (label 1, at most ``total * positive_fraction``) and negatives (label 0) up to ``total``."""
    positive = torch.where(labels == 1)[0]
    negative = torch.where(labels == 0)[0]
    num_pos = min(len(positive), int(total * positive_fraction))
    num_neg = min(len(negative), total - num_pos)
    pick_pos = torch.randperm(len(positive), generator=generator)[:num_pos].to(positive.device)
    pick_neg = torch.randperm(len(negative), generator=generator)[:num_neg].to(negative.device)
    return positive[pick_pos], negative[pick_neg]


def encode_deltas(boxes: torch.Tensor, targets: torch.Tensor, weights: tuple[float, ...]) -> torch.Tensor:
    """The (dx, dy, dw, dh) that :func:`~human3d.densepose.rcnn.boxes.apply_deltas` turns ``boxes`` into ``targets``."""
    widths, heights = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    ctr_x, ctr_y = boxes[:, 0] + 0.5 * widths, boxes[:, 1] + 0.5 * heights
    t_widths, t_heights = targets[:, 2] - targets[:, 0], targets[:, 3] - targets[:, 1]
    t_ctr_x, t_ctr_y = targets[:, 0] + 0.5 * t_widths, targets[:, 1] + 0.5 * t_heights
    wx, wy, ww, wh = weights
    return torch.stack((wx * (t_ctr_x - ctr_x) / widths, wy * (t_ctr_y - ctr_y) / heights,
                        ww * torch.log(t_widths / widths), wh * torch.log(t_heights / heights)), dim=1)


@dataclass
class AnchorTargets:
    """RPN targets of one image over all anchors: label 1/0/-1 (-1 = not sampled) and box deltas."""

    labels: torch.Tensor  # (A,)
    deltas: torch.Tensor  # (A, 4), meaningful where label == 1


def anchor_targets(anchors: torch.Tensor, gt_boxes: torch.Tensor, batch_per_image: int = 256,
                   positive_fraction: float = 0.5, generator: torch.Generator | None = None) -> AnchorTargets:
    """Label anchors (IoU >= 0.7 positive, < 0.3 negative, each box's best anchors positive), sample them."""
    index, labels = match(pairwise_iou(gt_boxes, anchors), 0.3, 0.7, allow_low_quality=True)
    positive, negative = subsample(labels, batch_per_image, positive_fraction, generator)
    sampled = torch.full_like(labels, -1)
    sampled[positive], sampled[negative] = 1, 0
    deltas = torch.zeros_like(anchors)
    if len(gt_boxes):
        deltas[positive] = encode_deltas(anchors[positive], gt_boxes[index[positive]], (1.0, 1.0, 1.0, 1.0))
    return AnchorTargets(sampled, deltas)


@dataclass
class RoiSample:
    """The ROIs of one image the box head trains on: boxes, person (1) or background (0), matched box, IoU."""

    boxes: torch.Tensor  # (R, 4)
    foreground: torch.Tensor  # (R,) bool
    gt_index: torch.Tensor  # (R,)
    iou: torch.Tensor  # (R,)


def sample_rois(proposals: torch.Tensor, gt_boxes: torch.Tensor, batch_per_image: int = 512,
                positive_fraction: float = 0.25, generator: torch.Generator | None = None) -> RoiSample:
    """Proposals plus the ground-truth boxes, matched at IoU 0.5 and sampled (detectron2's ROI heads)."""
    candidates = torch.cat([proposals.detach(), gt_boxes])
    iou = pairwise_iou(gt_boxes, candidates)
    index, labels = match(iou, 0.5, 0.5, allow_low_quality=False)
    positive, negative = subsample(labels, batch_per_image, positive_fraction, generator)
    chosen = torch.cat([positive, negative])
    best = iou.max(dim=0).values[chosen] if len(gt_boxes) else torch.zeros(len(chosen), device=candidates.device)
    return RoiSample(candidates[chosen], labels[chosen] == 1, index[chosen], best)


@dataclass
class PointTargets:
    """Annotated DensePose points of a set of ROIs, in ROI coordinates: x, y in [0, 1] across the box."""

    roi: torch.Tensor  # (P,) index of the ROI
    x: torch.Tensor  # (P,)
    y: torch.Tensor  # (P,)
    part: torch.Tensor  # (P,) 1..24
    u: torch.Tensor  # (P,)
    v: torch.Tensor  # (P,)


def point_targets(rois: torch.Tensor, person: torch.Tensor, points: dict[str, torch.Tensor]) -> PointTargets:
    """Points of each ROI's matched ``person`` that fall inside the ROI, in that ROI's [0, 1] coordinates.

    ``points``: image-pixel ``xy`` (P, 2), ``person`` (P,), ``I``, ``U``, ``V`` of every annotated point.
    """
    pairs = torch.nonzero(person[:, None] == points["person"][None, :])  # (roi, point)
    roi, point = pairs[:, 0], pairs[:, 1]
    boxes = rois[roi]
    size = (boxes[:, 2:] - boxes[:, :2]).clamp(min=1e-6)
    local = (points["xy"][point].to(boxes) - boxes[:, :2]) / size
    inside = ((local >= 0) & (local <= 1)).all(dim=1)
    roi, point, local = roi[inside], point[inside], local[inside]
    return PointTargets(roi, local[:, 0], local[:, 1], points["I"][point].long(),
                        points["U"][point].to(local), points["V"][point].to(local))


def coarse_targets(rois: torch.Tensor, dp_boxes: torch.Tensor, dp_segm: torch.Tensor, size: int,
                   foreground_only: bool) -> torch.Tensor:
    """(R, size, size) coarse labels at each ROI's cell centres, read from its person's 256x256 part map.

    ``dp_boxes`` (R, 4): the box each ``dp_segm`` (R, 256, 256) spans. Outside it the label is 0.
    ``foreground_only`` gives 1 for any part (2-channel coarse heads) instead of the part number.
    """
    centres = (torch.arange(size, device=rois.device, dtype=rois.dtype) + 0.5) / size
    xs = rois[:, 0, None] + centres[None] * (rois[:, 2] - rois[:, 0])[:, None]  # (R, size)
    ys = rois[:, 1, None] + centres[None] * (rois[:, 3] - rois[:, 1])[:, None]
    grid = dp_segm.shape[-1]
    gx = torch.floor((xs - dp_boxes[:, 0, None]) / (dp_boxes[:, 2] - dp_boxes[:, 0]).clamp(min=1e-6)[:, None] * grid)
    gy = torch.floor((ys - dp_boxes[:, 1, None]) / (dp_boxes[:, 3] - dp_boxes[:, 1]).clamp(min=1e-6)[:, None] * grid)
    valid_x, valid_y = (gx >= 0) & (gx < grid), (gy >= 0) & (gy < grid)
    gx, gy = gx.clamp(0, grid - 1).long(), gy.clamp(0, grid - 1).long()
    rows = torch.arange(len(rois), device=rois.device)[:, None, None]
    labels = dp_segm[rows, gy[:, :, None], gx[:, None, :]].long()
    labels = labels * (valid_y[:, :, None] & valid_x[:, None, :])
    return (labels > 0).long() if foreground_only else labels
