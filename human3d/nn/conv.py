"""Convolutions with faster CPU inference paths (NNPACK's Winograd 3x3, 1x1 as one matrix product).

One implementation for every model: DensePose R-CNN's backbone and heads, PIFuHD's hourglass filters
and normal generators. Training, autocast, other devices and other shapes go to ``F.conv2d`` unchanged.
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from torch import nn

from human3d.nn.cpu import cpu_flags

_WINOGRAD: dict[str, bool | None] = {"enabled": None}  # None: by the CPU (winograd_by_default)


@functools.cache
def _nnpack_available() -> bool:
    return bool(torch.backends.nnpack.is_available())  # also initialises NNPACK, which its kernels need


def winograd_by_default() -> bool:
    """Whether this CPU gains from NNPACK's Winograd path: one without AVX-512. NNPACK's kernels are AVX2;
    where the CPU has AVX-512, oneDNN's direct convolution was faster on every shape measured (1.1-2x on an
    Intel Xeon: DensePose R-CNN 2.3 s instead of 3.8 s in float32), where on AVX2 Winograd is 1.5-3x faster."""
    return "avx512f" not in cpu_flags()


def set_winograd(enabled: bool | None) -> None:
    """Turn the NNPACK Winograd path of :func:`conv2d` on or off (oneDNN's direct convolution); None: by the
    CPU (:func:`winograd_by_default`), the default."""
    _WINOGRAD["enabled"] = None if enabled is None else bool(enabled)


def winograd_available() -> bool:
    """Whether :func:`conv2d` takes the Winograd path: it is on (by default where the CPU gains from it) and
    torch's NNPACK starts on this CPU."""
    enabled = _WINOGRAD["enabled"]
    return (winograd_by_default() if enabled is None else enabled) and _nnpack_available()


def _inference(x: torch.Tensor, weight: torch.Tensor) -> bool:
    """CPU, 4-D, no gradient wanted and no autocast (which picks its own kernels)."""
    return (x.device.type == "cpu" and x.dim() == 4 and not torch.is_autocast_enabled("cpu")
            and not (torch.is_grad_enabled() and (x.requires_grad or weight.requires_grad)))


WINOGRAD_BAND_BYTES = 32 * 2**20  # input rows per NNPACK call: its kept workspace is about twice their size


def _winograd(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
              padding: tuple[int, int]) -> torch.Tensor:
    """NNPACK's 3x3 stride-1 convolution, over bands of output rows where the input is large.

    NNPACK keeps its largest workspace (about twice the input of one call) for the life of the process, so a
    256-channel 512x512 input would pin 0.5 GB; bands of at most :data:`WINOGRAD_BAND_BYTES` of input keep it
    small. Each band reads its rows plus the halo and zero-pads only at the image's own top and bottom.
    """
    height, pad = x.shape[2], padding[0]
    out_height = height + 2 * pad - 2
    rows = max(8, WINOGRAD_BAND_BYTES // (x.element_size() * x.shape[0] * x.shape[1] * x.shape[3]))
    if rows >= out_height:
        return torch._nnpack_spatial_convolution(x.contiguous(), weight, bias, list(padding), [1, 1])
    out = x.new_empty(x.shape[0], weight.shape[0], out_height, x.shape[3] + 2 * padding[1] - 2)
    for top in range(0, out_height, rows):
        bottom = min(top + rows, out_height)
        first, last = max(0, top - pad), min(height, bottom - pad + 2)  # input rows of this band
        band = torch._nnpack_spatial_convolution(x[:, :, first:last].contiguous(), weight, bias, list(padding),
                                                 [1, 1])
        out[:, :, top:bottom] = band[:, :, top - first:bottom - first]
    return out


def conv2d(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, stride: tuple[int, int],
           padding: tuple[int, int] | str, dilation: tuple[int, int], groups: int) -> torch.Tensor:
    """``F.conv2d``, with two faster CPU inference paths that give the same values up to float rounding.

    - float32 3x3 stride 1 (no dilation, no groups), where :func:`winograd_available`: NNPACK's Winograd
      F(6x6, 3x3) kernel, about a third of the multiplications of oneDNN's direct convolution (1.5-3x
      faster on AVX2; slower than oneDNN on AVX-512, where it is off by default) and a rounding error of
      a few 1e-6 relative; its output is NCHW-contiguous.
    - 1x1 (no padding) on one NCHW-contiguous image, e.g. right after a Winograd convolution: one
      matrix product, instead of torch's layout conversions between it and channels-last weights.
    """
    if not _inference(x, weight) or groups != 1 or isinstance(padding, str):
        return F.conv2d(x, weight, bias, stride, padding, dilation, groups)
    kernel, stride, padding, dilation = tuple(weight.shape[2:]), tuple(stride), tuple(padding), tuple(dilation)
    if (kernel == (3, 3) and stride == (1, 1) and dilation == (1, 1) and x.dtype == torch.float32
            and winograd_available()):
        return _winograd(x, weight.contiguous(), bias, padding)
    if kernel == (1, 1) and padding == (0, 0) and x.shape[0] == 1 and x.is_contiguous():
        x = x[:, :, ::stride[0], ::stride[1]].contiguous() if stride != (1, 1) else x
        height, width = x.shape[2:]
        w, columns = weight.reshape(weight.shape[0], -1), x.view(x.shape[1], -1)
        out = torch.mm(w, columns) if bias is None else torch.addmm(bias[:, None], w, columns)
        return out.view(1, -1, height, width)
    return F.conv2d(x, weight, bias, stride, padding, dilation, groups)


class Conv2d(nn.Conv2d):
    """``nn.Conv2d`` (same parameters and names) that runs through :func:`conv2d` when it zero-pads."""

    def convolve(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        """This layer's convolution of ``x`` with the given weight and bias."""
        if self.padding_mode != "zeros":
            return self._conv_forward(x, weight, bias)
        return conv2d(x, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.convolve(x, self.weight, self.bias)
