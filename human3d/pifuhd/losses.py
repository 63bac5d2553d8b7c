"""Losses and batch metrics of PIFuHD training."""

from __future__ import annotations

import torch

EPS = 1e-6
BACKGROUND_WEIGHT = 0.1  # pull the normal maps toward 0 off the person (the rendered maps are 0 there)


def occupancy_loss(pred: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy between predicted occupancy in [0, 1] and 0/1 labels (any equal shapes).

    Written out in float32 because ``F.binary_cross_entropy`` refuses to run under CUDA autocast.
    """
    pred, labels = pred.float().clamp(EPS, 1 - EPS), labels.float()
    return -(labels * pred.log() + (1 - labels) * (1 - pred).log()).mean()


def occupancy_iou(pred: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Intersection over union of the inside sets ``pred > 0.5`` and ``labels > 0.5``."""
    inside, truth = pred > 0.5, labels > 0.5
    union = (inside | truth).sum()
    return (inside & truth).sum() / union.clamp(min=1)


def stacked_occupancy_loss(preds: list[torch.Tensor], labels: torch.Tensor) -> dict[str, torch.Tensor]:
    """``loss``: the occupancy BCE averaged over the predictions made from each hourglass stack's features
    (the official intermediate supervision: every stack must answer on its own, not only feed the next);
    ``iou``: of the last stack's prediction, the one inference uses; with several stacks also each
    stack's BCE (``bce_stack0``, ...), for the metrics log."""
    terms = [occupancy_loss(pred, labels) for pred in preds]
    out = {"loss": sum(terms) / len(terms), "iou": occupancy_iou(preds[-1].detach(), labels)}
    if len(terms) > 1:
        out.update({f"bce_stack{index}": term.detach() for index, term in enumerate(terms)})
    return out


def _masked_mean(values: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    return (values * weights).sum() / (weights.sum() * values.shape[1] / weights.shape[1]).clamp(min=1)


def normal_map_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> dict[str, torch.Tensor]:
    """L1 and image-gradient L1 of a normal map on the person (``mask`` (B, 1, H, W)), plus L1 to 0 off it.

    The gradient term compares horizontal and vertical differences of neighbouring pixels that are
    both on the person (sharp creases and folds, which a plain L1 blurs).
    """
    pred, target = pred.float(), target.float()
    error = (pred - target).abs()
    l1 = _masked_mean(error, mask)
    background = _masked_mean(pred.abs(), 1 - mask)
    diff = pred - target
    pairs_x = mask[..., :, 1:] * mask[..., :, :-1]
    pairs_y = mask[..., 1:, :] * mask[..., :-1, :]
    gradient = _masked_mean((diff[..., :, 1:] - diff[..., :, :-1]).abs(), pairs_x)
    gradient = gradient + _masked_mean((diff[..., 1:, :] - diff[..., :-1, :]).abs(), pairs_y)
    return {"l1": l1, "gradient": gradient, "background": background,
            "loss": l1 + gradient + BACKGROUND_WEIGHT * background}
