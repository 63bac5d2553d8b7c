"""Numeric precision of DensePose R-CNN inference (float32 or bfloat16 autocast) and the default per device.

- ``fp32``: float32 throughout (on CPU with NNPACK's Winograd 3x3 convolutions, see
  :func:`human3d.nn.conv.conv2d`).
- ``bf16-head``: bfloat16 autocast in the DensePose head alone (its stack of convolutions, run once per
  detection), float32 elsewhere: within the documented tolerances of float32 (part labels at least 99 %
  the same, U,V within 0.02) on the reference records, and the default where the CPU multiplies bfloat16
  natively (AVX512_BF16 or AMX).
- ``bf16``: bfloat16 autocast for every convolution and matrix product: 3.5-5x faster than float32 on
  such a CPU, but the backbone's rounding moves boxes and borders: outside those tolerances on the
  reference records (random weights), so only on request.
- ``fp16``: float16 autocast, the default on CUDA (not offered on CPU).

int8 (PyTorch's dynamic quantisation of the box head, its quantised convolutions for the DensePose
head) was measured and left out: see ``docs/results/2026-12-05-densepose-cpu-precision.md``.
"""

from __future__ import annotations

import contextlib

import torch

from human3d.errors import Human3DError
from human3d.nn.cpu import cpu_has_native_bf16

PRECISIONS = ("fp32", "bf16-head", "bf16")


def default_precision(device: str | torch.device = "cpu") -> str:
    """``bf16-head`` on a CPU with native bfloat16, else ``fp32``; ``fp16`` (float16 autocast) on CUDA."""
    if torch.device(device).type == "cuda":
        return "fp16"
    return "bf16-head" if cpu_has_native_bf16() else "fp32"


def check_precision(precision: str | None, device: str | torch.device = "cpu") -> str:
    """``precision`` checked (None: :func:`default_precision`); raises ``Human3DError`` for an unknown or
    unsupported one."""
    if precision is None:
        return default_precision(device)
    if precision not in PRECISIONS and not (precision == "fp16" and torch.device(device).type == "cuda"):
        raise Human3DError(f"unknown precision {precision!r} (choose from {', '.join(PRECISIONS)})")
    return precision


def autocast_for(precision: str, device: torch.device) -> contextlib.AbstractContextManager:
    """The autocast context of a whole network at a precision: bfloat16 for ``bf16``, float16 for ``fp16``
    (CUDA), else none (``bf16-head`` too: see :func:`head_autocast_for`)."""
    if precision in ("bf16", "fp16"):
        return torch.autocast(device.type, dtype=torch.bfloat16 if precision == "bf16" else torch.float16)
    return contextlib.nullcontext()


def head_autocast_for(precision: str, device: torch.device) -> contextlib.AbstractContextManager:
    """The autocast context of the DensePose head alone: bfloat16 for ``bf16-head``, else none (the whole
    network's context, :func:`autocast_for`, covers it)."""
    if precision == "bf16-head":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()
