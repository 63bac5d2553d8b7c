"""ResNet-50/101 (Caffe2/MSRA style, frozen batch norm) with a feature pyramid p2..p6."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from human3d.densepose.rcnn.layers import Conv2d, Conv2dNorm, FrozenBatchNorm2d

BLOCKS_PER_STAGE = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3)}


def _conv_bn(cin: int, cout: int, kernel: int, stride: int = 1, relu: bool = False) -> Conv2dNorm:
    return Conv2dNorm(cin, cout, kernel, stride=stride, padding=kernel // 2, bias=False,
                      norm=FrozenBatchNorm2d(cout), relu=relu)


class Stem(nn.Module):
    """7x7/2 convolution, batch norm, ReLU, 3x3/2 max pool: stride 4."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = _conv_bn(3, 64, 7, stride=2, relu=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.max_pool2d(self.conv1(x), kernel_size=3, stride=2, padding=1)


class Bottleneck(nn.Module):
    """1x1 (carries the stride) -> 3x3 -> 1x1 residual block; projection shortcut on the first block."""

    def __init__(self, cin: int, width: int, cout: int, stride: int) -> None:
        super().__init__()
        self.shortcut = _conv_bn(cin, cout, 1, stride=stride) if cin != cout else None
        self.conv1 = _conv_bn(cin, width, 1, stride=stride, relu=True)
        self.conv2 = _conv_bn(width, width, 3, relu=True)
        self.conv3 = _conv_bn(width, cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv3(self.conv2(self.conv1(x)))
        out += x if self.shortcut is None else self.shortcut(x)
        return F.relu_(out)


class ResNet(nn.Module):
    """Bottom-up ResNet returning res2..res5 (strides 4, 8, 16, 32)."""

    def __init__(self, depth: int) -> None:
        super().__init__()
        self.stem = Stem()
        cin = 64
        for index, blocks in enumerate(BLOCKS_PER_STAGE[depth]):
            width, cout = 64 * 2**index, 256 * 2**index
            stage = nn.Sequential(*[
                Bottleneck(cin if b == 0 else cout, width, cout, stride=(2 if index > 0 and b == 0 else 1))
                for b in range(blocks)
            ])
            self.add_module(f"res{index + 2}", stage)
            cin = cout

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        x = self.stem(x)
        out = {}
        for name in ("res2", "res3", "res4", "res5"):
            x = getattr(self, name)(x)
            out[name] = x
        return out


class FPN(nn.Module):
    """Feature pyramid (sum fusion, nearest x2 top-down) over res2..res5 plus p6 = stride-2 subsample of p5."""

    def __init__(self, depth: int, channels: int = 256) -> None:
        super().__init__()
        for level, cin in zip((2, 3, 4, 5), (256, 512, 1024, 2048)):
            self.add_module(f"fpn_lateral{level}", Conv2d(cin, channels, 1))
            self.add_module(f"fpn_output{level}", Conv2d(channels, channels, 3, padding=1))
        self.bottom_up = ResNet(depth)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Normalised, padded images (B,3,H,W) -> {"p2".."p6"}."""
        bottom_up = self.bottom_up(x)
        pre = self.fpn_lateral5(bottom_up["res5"])
        out = {"p5": self.fpn_output5(pre)}
        for level in (4, 3, 2):
            pre = getattr(self, f"fpn_lateral{level}")(bottom_up[f"res{level}"]).add_(F.interpolate(
                pre, scale_factor=2.0, mode="nearest"))
            out[f"p{level}"] = getattr(self, f"fpn_output{level}")(pre)
        out["p6"] = F.max_pool2d(out["p5"], kernel_size=1, stride=2, padding=0)
        return {f"p{level}": out[f"p{level}"] for level in range(2, 7)}
