"""How closely two DensePose results of one image agree: the yardstick of lower precisions against float32."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from human3d.densepose.result import DensePoseResult


@dataclass(frozen=True)
class Agreement:
    """``other`` measured against ``reference``, over the reference's detections.

    ``matched``: reference detections with an other detection of IoU >= 0.5 (each used once).
    ``labels``: fraction of pixels with the same part label, over the pixels of the reference boxes
    that are foreground in either result (unmatched detections count as all different).
    ``uv_mean_abs`` / ``uv_p99_abs``: mean and 99th percentile of |U - U'| and |V - V'| where both
    results give the same part. ``box_shift``: largest corner shift of a matched box, in pixels.
    """

    detections: int
    matched: int
    labels: float
    uv_mean_abs: float
    uv_p99_abs: float
    box_shift: float


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of one XYXY box ``a`` with each of ``b`` (N, 4)."""
    lt, rb = np.maximum(a[:2], b[:, :2]), np.minimum(a[2:], b[:, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=1)
    area = lambda boxes: (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])  # noqa: E731
    return inter / np.maximum(area(a) + area(b) - inter, 1e-9)


def _window(result: DensePoseResult, k: int, x0: int, y0: int, width: int, height: int
            ) -> tuple[np.ndarray, np.ndarray]:
    """Detection ``k``'s labels (H, W) and U,V (2, H, W) on the window (x0, y0, width, height); 0 outside its box."""
    labels = np.zeros((height, width), np.uint8)
    uv = np.zeros((2, height, width), np.float32)
    x, y, w, h = (int(v) for v in result.boxes_xywh_int[k])
    left, top = max(x, x0), max(y, y0)
    right, bottom = min(x + w, x0 + width), min(y + h, y0 + height)
    if right > left and bottom > top:
        labels[top - y0:bottom - y0, left - x0:right - x0] = result.labels[k][top - y:bottom - y, left - x:right - x]
        uv[:, top - y0:bottom - y0, left - x0:right - x0] = result.uv[k][:, top - y:bottom - y, left - x:right - x]
    return labels, uv


def result_agreement(reference: DensePoseResult, other: DensePoseResult) -> Agreement:
    """Match ``other``'s detections to ``reference``'s by IoU and compare their part labels and U,V per pixel."""
    used: set[int] = set()
    same = total = matched = 0
    shift = 0.0
    uv_diffs = []
    for k in range(len(reference)):
        x, y, w, h = (int(v) for v in reference.boxes_xywh_int[k])
        ref_labels, ref_uv = _window(reference, k, x, y, w, h)
        ious = _iou(reference.boxes_xyxy[k], other.boxes_xyxy) if len(other) else np.zeros(0)
        ious[list(used)] = 0.0
        if len(ious) and ious.max() >= 0.5:
            j = int(ious.argmax())
            used.add(j)
            matched += 1
            shift = max(shift, float(np.abs(reference.boxes_xyxy[k] - other.boxes_xyxy[j]).max()))
            labels, uv = _window(other, j, x, y, w, h)
        else:
            labels, uv = np.zeros_like(ref_labels), np.zeros_like(ref_uv)
        foreground = (ref_labels > 0) | (labels > 0)
        equal = ref_labels == labels
        same += int((equal & foreground).sum())
        total += int(foreground.sum())
        both = equal & (ref_labels > 0)
        uv_diffs.append(np.abs(ref_uv - uv)[:, both].ravel())
    diffs = np.concatenate(uv_diffs) if uv_diffs else np.zeros(0)
    return Agreement(len(reference), matched, same / total if total else 1.0,
                     float(diffs.mean()) if diffs.size else 0.0,
                     float(np.percentile(diffs, 99)) if diffs.size else 0.0, shift)
