"""Small building blocks named like detectron2's so that checkpoint names map one to one.

The convolutions themselves (:class:`human3d.nn.conv.Conv2d`, with its fast CPU paths) are shared with PIFuHD.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from human3d.nn.conv import Conv2d


class FrozenBatchNorm2d(nn.Module):
    """Batch norm with fixed statistics: a per-channel affine ``x * scale + shift``.

    ``scale = weight / sqrt(running_var + eps)``, ``shift = bias - running_mean * scale``.
    """

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.register_buffer("weight", torch.ones(channels))
        self.register_buffer("bias", torch.zeros(channels))
        self.register_buffer("running_mean", torch.zeros(channels))
        self.register_buffer("running_var", torch.ones(channels) - eps)

    def scale_shift(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The per-channel ``(scale, shift)`` of the affine map."""
        scale = self.weight * torch.rsqrt(self.running_var + self.eps)
        return scale, self.bias - self.running_mean * scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, False, 0.0, self.eps)


class Conv2dNorm(Conv2d):
    """A convolution followed by its normalisation (child ``norm``) and optionally a ReLU.

    A :class:`FrozenBatchNorm2d` is folded into the convolution's weight and bias at each call
    (weights are far smaller than activations), saving a full pass over the output.
    """

    def __init__(self, *args, norm: nn.Module | None = None, relu: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.norm = norm
        self.relu = relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if isinstance(self.norm, FrozenBatchNorm2d):
            scale, shift = self.norm.scale_shift()
            bias = shift if self.bias is None else self.bias * scale + shift
            x = self.convolve(x, self.weight * scale.view(-1, 1, 1, 1), bias)
        else:
            x = super().forward(x)
            if self.norm is not None:
                x = self.norm(x)
        return F.relu_(x) if self.relu else x


def upsample2x(x: torch.Tensor) -> torch.Tensor:
    """Bilinear x2 upsampling, ``align_corners=False`` (decoder and chart predictor)."""
    return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)


class Upsample2x(nn.Module):
    """Module form of :func:`upsample2x` (parameter-free slot in the decoder's Sequentials)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return upsample2x(x)
