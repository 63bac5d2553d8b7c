"""What this CPU can do, from ``/proc/cpuinfo``: the choice of fast kernels (Winograd or oneDNN, bfloat16)."""

from __future__ import annotations

import functools
from pathlib import Path


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The CPU feature flags of ``/proc/cpuinfo`` (empty where there is none, e.g. macOS or Windows)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_has_native_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 in hardware (AVX512_BF16 or AMX) and torch's oneDNN can use it."""
    import torch  # here, so that reading the flags alone imports no torch

    return bool(cpu_flags() & set(NATIVE_BF16_FLAGS)) and torch.backends.mkldnn.is_available()
