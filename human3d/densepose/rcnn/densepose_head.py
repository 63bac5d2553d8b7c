"""DensePose feature decoder and the two ROI heads: V1ConvX (8 convs) and DeepLab (ASPP + 8 GN convs)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from human3d.densepose.rcnn.layers import Conv2d, Conv2dNorm, Upsample2x, upsample2x


class Decoder(nn.Module):
    """Panoptic-FPN style fusion of p2..p5 into one stride-4 map (conv+ReLU and bilinear x2 per octave)."""

    def __init__(self, channels: int = 256) -> None:
        super().__init__()
        for level in (2, 3, 4, 5):
            ops: list[nn.Module] = []
            for k in range(max(1, level - 2)):
                ops.append(Conv2dNorm(channels, channels, 3, padding=1, relu=True))
                if level > 2:
                    ops.append(Upsample2x())
            self.add_module(f"p{level}", nn.Sequential(*ops))
        self.predictor = Conv2d(channels, channels, 1)

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        # The p3..p5 branches all end in the same x2 bilinear upsampling, which is linear: sum them at
        # stride 8 and upsample once (the same result up to float rounding, at a third of the cost).
        stride8 = None
        for level, feature in zip((3, 4, 5), features[1:]):
            branch = getattr(self, f"p{level}")[:-1](feature)  # without its final Upsample2x
            stride8 = branch if stride8 is None else _add(stride8, branch)
        return self.predictor(_add(self.p2(features[0]), upsample2x(stride8)))


def _add(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a + b``, in place into ``a`` unless autograd needs ``a`` (a ReLU output) for training."""
    return a + b if torch.is_grad_enabled() and a.requires_grad else a.add_(b)


class V1ConvXHead(nn.Module):
    """``convs`` x (3x3 conv with bias -> ReLU)."""

    def __init__(self, in_channels: int, channels: int = 512, convs: int = 8) -> None:
        super().__init__()
        self.convs = convs
        for i in range(convs):
            self.add_module(f"body_conv_fcn{i + 1}", Conv2dNorm(in_channels if i == 0 else channels, channels, 3,
                                                                padding=1, relu=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i in range(self.convs):
            x = getattr(self, f"body_conv_fcn{i + 1}")(x)
        return x


def _gn_relu(channels: int) -> list[nn.Module]:
    return [nn.GroupNorm(32, channels), nn.ReLU()]


class ASPPPooling(nn.Sequential):
    """Image pooling branch: global average -> 1x1 conv -> GN -> ReLU -> bilinear back to the input size."""

    def __init__(self, channels: int) -> None:
        super().__init__(nn.AdaptiveAvgPool2d(1), nn.Conv2d(channels, channels, 1, bias=False), *_gn_relu(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(super().forward(x), size=x.shape[-2:], mode="bilinear", align_corners=False)


class ASPP(nn.Module):
    """Atrous spatial pyramid pooling: 1x1, three dilated 3x3, image pooling; concat -> 1x1 -> ReLU."""

    def __init__(self, channels: int, dilations: tuple[int, int, int]) -> None:
        super().__init__()
        branches: list[nn.Module] = [nn.Sequential(nn.Conv2d(channels, channels, 1, bias=False), *_gn_relu(channels))]
        for d in dilations:
            branches.append(nn.Sequential(nn.Conv2d(channels, channels, 3, padding=d, dilation=d, bias=False),
                                          *_gn_relu(channels)))
        branches.append(ASPPPooling(channels))
        self.convs = nn.ModuleList(branches)
        self.project = nn.Sequential(nn.Conv2d(len(branches) * channels, channels, 1, bias=False), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.project(torch.cat([branch(x) for branch in self.convs], dim=1))


class DeepLabHead(nn.Module):
    """ASPP on the pooled features, then ``convs`` x (3x3 conv, GroupNorm(32), ReLU)."""

    def __init__(self, in_channels: int, dilations: tuple[int, int, int], channels: int = 512, convs: int = 8) -> None:
        super().__init__()
        self.convs = convs
        self.ASPP = ASPP(in_channels, dilations)
        for i in range(convs):
            self.add_module(f"body_conv_fcn{i + 1}", Conv2dNorm(
                in_channels if i == 0 else channels, channels, 3, padding=1, bias=False,
                norm=nn.GroupNorm(32, channels), relu=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.ASPP(x)
        for i in range(self.convs):
            x = getattr(self, f"body_conv_fcn{i + 1}")(x)
        return x
