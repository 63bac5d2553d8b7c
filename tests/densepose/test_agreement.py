"""The agreement of two DensePose results: matched detections, same part labels, U,V differences."""

from __future__ import annotations

import numpy as np
import pytest

from human3d.densepose.agreement import result_agreement
from human3d.densepose.result import DensePoseResult


def _result(boxes: list[list[float]], seed: int = 0) -> DensePoseResult:
    rng = np.random.default_rng(seed)
    result = DensePoseResult(np.array(boxes, np.float32), np.linspace(0.9, 0.5, len(boxes)).astype(np.float32))
    for _, _, w, h in result.boxes_xywh_int:
        result.labels.append(rng.integers(0, 25, (h, w)).astype(np.uint8))
        result.uv.append(np.where(result.labels[-1] > 0, rng.random((2, h, w)), 0).astype(np.float32))
    return result


def test_a_result_agrees_with_itself():
    result = _result([[10, 10, 50, 90], [40, 5, 80, 60]])
    agreement = result_agreement(result, result)
    assert (agreement.detections, agreement.matched) == (2, 2)
    assert agreement.labels == 1.0 and agreement.uv_mean_abs == 0.0 and agreement.box_shift == 0.0


def test_changed_labels_uv_and_a_missing_detection_count():
    reference = _result([[10, 10, 50, 90], [60, 5, 100, 60]])
    other = _result([[10, 10, 50, 90]])
    other.labels[0] = reference.labels[0].copy()
    other.uv[0] = reference.uv[0] + np.float32(0.01) * (reference.labels[0] > 0)
    other.labels[0][:4] = (other.labels[0][:4] + 1) % 25  # 4 of 80 rows differ
    agreement = result_agreement(reference, other)
    assert (agreement.detections, agreement.matched) == (2, 1)
    fg0 = int(((reference.labels[0] > 0) | (other.labels[0] > 0)).sum())
    fg1 = int((reference.labels[1] > 0).sum())
    same = int(((reference.labels[0] == other.labels[0]) & (reference.labels[0] > 0)).sum())
    assert agreement.labels == pytest.approx(same / (fg0 + fg1))
    assert agreement.uv_mean_abs == pytest.approx(0.01, abs=1e-6)
