"""The stacked-hourglass image filter shared by both PIFuHD levels.

Inner widths are fixed (64/128/256) as in the official network; stack count, depth, input and output
channels, norm and the stem's downsampling are configurable. Module names equal the state-dict keys.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from human3d.nn.conv import Conv2d
from human3d.pifuhd.layers import norm_2d

WIDTH = 256


def _conv3x3(in_channels: int, out_channels: int) -> Conv2d:
    return Conv2d(in_channels, out_channels, kernel_size=3, stride=1, padding=1, bias=False)


class ConvBlock(nn.Module):
    """Pre-activation residual block: three 3x3 convs whose outputs are concatenated, plus a shortcut.

    ``bn4`` always exists; when the widths differ it is also registered as ``downsample.0`` (the
    same module, hence the aliased state-dict entries).
    """

    def __init__(self, in_channels: int, out_channels: int, norm: str) -> None:
        super().__init__()
        self.conv1 = _conv3x3(in_channels, out_channels // 2)
        self.conv2 = _conv3x3(out_channels // 2, out_channels // 4)
        self.conv3 = _conv3x3(out_channels // 4, out_channels // 4)
        self.bn1 = norm_2d(norm, in_channels)
        self.bn2 = norm_2d(norm, out_channels // 2)
        self.bn3 = norm_2d(norm, out_channels // 4)
        self.bn4 = norm_2d(norm, in_channels)
        self.downsample = None
        if in_channels != out_channels:
            self.downsample = nn.Sequential(
                self.bn4, nn.ReLU(True), Conv2d(in_channels, out_channels, kernel_size=1, bias=False)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out1 = self.conv1(F.relu_(self.bn1(x)))
        out2 = self.conv2(F.relu_(self.bn2(out1)))
        out3 = self.conv3(F.relu_(self.bn3(out2)))
        if torch.is_grad_enabled() and (x.requires_grad or out1.requires_grad):
            shortcut = x if self.downsample is None else self.downsample(x)
            return torch.cat([out1, out2, out3], 1).add_(shortcut)
        # Inference: each part added straight into its channel slice of the output (the projected shortcut
        # itself, a fresh tensor, where there is one): one pass and no concatenated temporary.
        out = torch.empty_like(x) if self.downsample is None else self.downsample(x)
        start = 0
        for part in (out1, out2, out3):
            end = start + part.shape[1]
            if self.downsample is None:
                torch.add(x[:, start:end], part, out=out[:, start:end])
            else:
                out[:, start:end].add_(part)
            start = end
        return out


class HourGlass(nn.Module):
    """Recursive hourglass of ``depth`` levels; upsampling is bicubic with aligned corners."""

    def __init__(self, depth: int, features: int, norm: str) -> None:
        super().__init__()
        self.depth = depth
        self._add_level(depth, features, norm)

    def _add_level(self, level: int, features: int, norm: str) -> None:
        # Registration order b1_L, b2_L, <deeper levels>, b3_L reproduces the official key order.
        self.add_module(f"b1_{level}", ConvBlock(features, features, norm))
        self.add_module(f"b2_{level}", ConvBlock(features, features, norm))
        if level > 1:
            self._add_level(level - 1, features, norm)
        else:
            self.add_module(f"b2_plus_{level}", ConvBlock(features, features, norm))
        self.add_module(f"b3_{level}", ConvBlock(features, features, norm))

    def _level(self, level: int, x: torch.Tensor) -> torch.Tensor:
        up = self._modules[f"b1_{level}"](x)
        low = self._modules[f"b2_{level}"](F.avg_pool2d(x, 2, stride=2))
        low = self._level(level - 1, low) if level > 1 else self._modules[f"b2_plus_{level}"](low)
        low = self._modules[f"b3_{level}"](low)
        return up.add_(F.interpolate(low, scale_factor=2, mode="bicubic", align_corners=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._level(self.depth, x)


class HGFilter(nn.Module):
    """Stem (7x7 stride-2 conv, residual blocks, optional 2x2 pooling) then ``num_stack`` hourglasses.

    ``forward`` returns the last stack's output (the only one used at inference); ``stacks`` returns
    every stack's output, which training supervises (as the official training does).
    """

    def __init__(
        self, num_stack: int, depth: int, in_channels: int, out_channels: int, norm: str, down: str
    ) -> None:
        super().__init__()
        self.num_stack = num_stack
        self.down = down
        self.conv1 = Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3)
        self.bn1 = norm_2d(norm, 64)
        self.conv2 = ConvBlock(64, 128, norm)
        self.conv3 = ConvBlock(128, 128, norm)
        self.conv4 = ConvBlock(128, WIDTH, norm)
        for stack in range(num_stack):
            self.add_module(f"m{stack}", HourGlass(depth, WIDTH, norm))
            self.add_module(f"top_m_{stack}", ConvBlock(WIDTH, WIDTH, norm))
            self.add_module(f"conv_last{stack}", Conv2d(WIDTH, WIDTH, kernel_size=1))
            self.add_module(f"bn_end{stack}", norm_2d(norm, WIDTH))
            self.add_module(f"l{stack}", Conv2d(WIDTH, out_channels, kernel_size=1))
            if stack < num_stack - 1:
                self.add_module(f"bl{stack}", Conv2d(WIDTH, WIDTH, kernel_size=1))
                self.add_module(f"al{stack}", Conv2d(out_channels, WIDTH, kernel_size=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.stacks(x)[-1]

    def stacks(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The feature map of every stack, first to last, each [B, out_channels, H/4, W/4] (H/2 without pooling)."""
        x = F.relu_(self.bn1(self.conv1(x)))
        x = self.conv2(x)
        if self.down == "ave_pool":
            x = F.avg_pool2d(x, 2, stride=2)
        previous = self.conv4(self.conv3(x))
        outputs = []
        for stack in range(self.num_stack):
            hg = self._modules[f"m{stack}"](previous)
            ll = self._modules[f"top_m_{stack}"](hg)
            ll = F.relu_(self._modules[f"bn_end{stack}"](self._modules[f"conv_last{stack}"](ll)))
            outputs.append(self._modules[f"l{stack}"](ll))
            if stack < self.num_stack - 1:
                previous = previous + self._modules[f"bl{stack}"](ll) + self._modules[f"al{stack}"](outputs[-1])
        return outputs
