"""DensePose chart predictor: coarse segmentation, fine (24 parts + background) segmentation, U and V."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from human3d.densepose.rcnn.layers import upsample2x


@dataclass
class ChartOutput:
    """Per-box chart predictions, (N, C, S, S) each: coarse (2 or 15), fine (25), u (25), v (25)."""

    coarse_segm: torch.Tensor
    fine_segm: torch.Tensor
    u: torch.Tensor
    v: torch.Tensor

    def map(self, fn) -> "ChartOutput":
        """Apply ``fn`` to each of the four tensors."""
        return ChartOutput(fn(self.coarse_segm), fn(self.fine_segm), fn(self.u), fn(self.v))


class ChartPredictor(nn.Module):
    """Four transposed convolutions (kernel 4, stride 2: x2), followed by bilinear x2 upsampling."""

    def __init__(self, in_channels: int, coarse_channels: int, num_patches: int = 24) -> None:
        super().__init__()

        def deconv(out_channels: int) -> nn.ConvTranspose2d:
            return nn.ConvTranspose2d(in_channels, out_channels, 4, stride=2, padding=1)

        self.ann_index_lowres = deconv(coarse_channels)
        self.index_uv_lowres = deconv(num_patches + 1)
        self.u_lowres = deconv(num_patches + 1)
        self.v_lowres = deconv(num_patches + 1)

    def forward_lowres(self, x: torch.Tensor) -> ChartOutput:
        """The transposed-convolution outputs, before the x2 upsampling."""
        return ChartOutput(self.ann_index_lowres(x), self.index_uv_lowres(x), self.u_lowres(x), self.v_lowres(x))

    def forward(self, x: torch.Tensor) -> ChartOutput:
        return self.forward_lowres(x).map(upsample2x)
