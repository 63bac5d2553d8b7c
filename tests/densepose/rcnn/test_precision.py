"""Precision choice per device, and bfloat16 within its tolerances of float32 (the fast float32 convolutions:
tests/nn/test_conv.py)."""

from __future__ import annotations

import numpy as np
import pytest

from human3d.densepose.rcnn import precision
from human3d.errors import Human3DError
from human3d.nn import cpu

# The documented tolerances of a lower precision against float32, on the public reference records.
MIN_SAME_LABELS = 0.99
MAX_UV_MEAN_ABS = 0.02


def test_default_precision_follows_the_cpu(monkeypatch):
    monkeypatch.setattr(cpu, "cpu_flags", lambda: frozenset({"avx2", "fma"}))
    assert precision.default_precision("cpu") == "fp32" and precision.check_precision(None) == "fp32"
    monkeypatch.setattr(cpu, "cpu_flags", lambda: frozenset({"avx512f", "avx512_bf16"}))
    assert precision.default_precision("cpu") == "bf16-head"
    monkeypatch.setattr(cpu, "cpu_flags", lambda: frozenset({"amx_bf16", "amx_tile"}))
    assert precision.default_precision("cpu") == "bf16-head"
    assert precision.default_precision("cuda") == "fp16"
    with pytest.raises(Human3DError, match="unknown precision 'fp16'"):
        precision.check_precision("fp16", "cpu")


@pytest.fixture(scope="module")
def float32_and_bf16(densepose_ref, checkpoints, reference_records):
    """Each public record predicted in float32, with the DensePose head in bfloat16 (the default) and in
    bfloat16 throughout (only on CPUs with native bfloat16)."""
    if not precision.cpu_has_native_bf16():
        pytest.skip("this CPU has no native bfloat16 (AVX512_BF16 or AMX): bf16 would be slow emulation")
    from human3d.densepose.predictor import build_densepose
    from human3d.densepose.rcnn.predictor import RCNNDensePosePredictor

    runs = {}
    for record, config in reference_records.items():
        with np.load(densepose_ref / "public" / f"{record}.npz") as data:
            image = data["image_bgr_orig_u8"]
        model = build_densepose(checkpoints[config])
        runs[record] = {p: RCNNDensePosePredictor(model, precision=p)(image) for p in ("fp32", None, "bf16")}
    return runs


def test_the_default_bf16_head_stays_within_tolerances_of_float32(float32_and_bf16):
    from human3d.densepose.agreement import result_agreement

    for record, runs in float32_and_bf16.items():
        agreement = result_agreement(runs["fp32"], runs[None])
        assert agreement.matched == agreement.detections == len(runs[None]), (record, agreement)
        assert agreement.labels >= MIN_SAME_LABELS, (record, agreement)
        assert agreement.uv_mean_abs <= MAX_UV_MEAN_ABS, (record, agreement)


def test_bf16_throughout_finds_the_same_people(float32_and_bf16):
    """Not within the tolerances (random weights: the backbone's rounding moves boxes, and labels follow), but
    the same people: measured 8 of 8 and 10 of 11 detections matched, labels 95 % and 63 % the same."""
    from human3d.densepose.agreement import result_agreement

    for record, runs in float32_and_bf16.items():
        agreement = result_agreement(runs["fp32"], runs["bf16"])
        assert agreement.matched >= 0.9 * agreement.detections, (record, agreement)
        assert agreement.uv_mean_abs <= 0.03, (record, agreement)


def test_the_command_offers_every_precision():
    from human3d.commands.densepose import PRECISION_CHOICES

    assert PRECISION_CHOICES == precision.PRECISIONS
