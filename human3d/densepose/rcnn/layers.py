"""Small building blocks named like detectron2's so that checkpoint names map one to one."""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from torch import nn


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


_WINOGRAD = {"enabled": True}


@functools.cache
def _nnpack_available() -> bool:
    return bool(torch.backends.nnpack.is_available())  # also initialises NNPACK, which its kernels need


def set_winograd(enabled: bool) -> None:
    """Turn the NNPACK Winograd path of :func:`conv2d` on (the default) or off (oneDNN's direct convolution)."""
    _WINOGRAD["enabled"] = bool(enabled)


def winograd_available() -> bool:
    """Whether :func:`conv2d` takes the Winograd path: it is on and torch's NNPACK starts on this CPU."""
    return _WINOGRAD["enabled"] and _nnpack_available()


def _inference(x: torch.Tensor, weight: torch.Tensor) -> bool:
    """CPU, 4-D, no gradient wanted and no autocast (which picks its own kernels)."""
    return (x.device.type == "cpu" and x.dim() == 4 and not torch.is_autocast_enabled("cpu")
            and not (torch.is_grad_enabled() and (x.requires_grad or weight.requires_grad)))


def conv2d(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, stride: tuple[int, int],
           padding: tuple[int, int] | str, dilation: tuple[int, int], groups: int) -> torch.Tensor:
    """``F.conv2d``, with two faster CPU inference paths that give the same values up to float rounding.

    - float32 3x3 stride 1 (no dilation, no groups): NNPACK's Winograd F(6x6, 3x3) kernel, about a
      third of the multiplications of oneDNN's direct convolution (1.5-3x faster on AVX2) and as small
      a rounding error; its output is NCHW-contiguous.
    - 1x1 (no padding) on one NCHW-contiguous image, e.g. right after a Winograd convolution: one
      matrix product, instead of torch's layout conversions between it and channels-last weights.
    """
    if not _inference(x, weight) or groups != 1 or isinstance(padding, str):
        return F.conv2d(x, weight, bias, stride, padding, dilation, groups)
    kernel, stride, padding, dilation = tuple(weight.shape[2:]), tuple(stride), tuple(padding), tuple(dilation)
    if (kernel == (3, 3) and stride == (1, 1) and dilation == (1, 1) and x.dtype == torch.float32
            and winograd_available()):
        return torch._nnpack_spatial_convolution(x.contiguous(), weight.contiguous(), bias, list(padding), [1, 1])
    if kernel == (1, 1) and padding == (0, 0) and x.shape[0] == 1 and x.is_contiguous():
        x = x[:, :, ::stride[0], ::stride[1]].contiguous() if stride != (1, 1) else x
        height, width = x.shape[2:]
        w, columns = weight.reshape(weight.shape[0], -1), x.view(x.shape[1], -1)
        out = torch.mm(w, columns) if bias is None else torch.addmm(bias[:, None], w, columns)
        return out.view(1, -1, height, width)
    return F.conv2d(x, weight, bias, stride, padding, dilation, groups)


class Conv2d(nn.Conv2d):
    """``nn.Conv2d`` (same parameters and names; zero padding) that runs through :func:`conv2d`."""

    def convolve(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        """This layer's convolution of ``x`` with the given weight and bias."""
        return conv2d(x, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.convolve(x, self.weight, self.bias)


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
