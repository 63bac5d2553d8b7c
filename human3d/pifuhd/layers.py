"""Normalisation layers selected by the stored option strings."""

from __future__ import annotations

from torch import nn


def norm_2d(kind: str, channels: int) -> nn.Module:
    """Norm of the hourglass filters: ``group`` = GroupNorm with 32 groups, ``batch`` = BatchNorm2d."""
    if kind == "group":
        return nn.GroupNorm(32, channels)
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    raise ValueError(f"unsupported norm {kind!r}")


def norm_1d(kind: str, channels: int) -> nn.Module | None:
    """Norm of the MLPs: ``none`` (no layer), ``group`` (32 groups) or ``batch`` (BatchNorm1d)."""
    if kind == "none":
        return None
    if kind == "group":
        return nn.GroupNorm(32, channels)
    if kind == "batch":
        return nn.BatchNorm1d(channels)
    raise ValueError(f"unsupported mlp norm {kind!r}")
