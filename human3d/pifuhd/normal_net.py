"""The pix2pixHD "global" generator that predicts a front or back normal map from the image."""

from __future__ import annotations

import torch
from torch import nn

from human3d.nn.conv import Conv2d
from human3d.pifuhd.options import GeneratorConfig


def _instance_norm(channels: int) -> nn.InstanceNorm2d:
    return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)


class ResnetBlock(nn.Module):
    """x + [reflect pad, 3x3 conv, IN, ReLU, reflect pad, 3x3 conv, IN](x)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1),
            Conv2d(channels, channels, kernel_size=3),
            _instance_norm(channels),
            nn.ReLU(True),
            nn.ReflectionPad2d(1),
            Conv2d(channels, channels, kernel_size=3),
            _instance_norm(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv_block(x)


class GlobalGenerator(nn.Module):
    """RGB in [-1, 1] -> 3-channel map in [-1, 1] (tanh); the input side must divide by 2**n_downsampling."""

    def __init__(self, options: GeneratorConfig, in_channels: int = 3, out_channels: int = 3) -> None:
        super().__init__()
        ngf, n_down = options.ngf, options.n_downsampling
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(3), Conv2d(in_channels, ngf, kernel_size=7), _instance_norm(ngf), nn.ReLU(True)
        ]
        for i in range(n_down):
            width = ngf * 2**i
            layers += [
                Conv2d(width, width * 2, kernel_size=3, stride=2, padding=1),
                _instance_norm(width * 2),
                nn.ReLU(True),
            ]
        layers += [ResnetBlock(ngf * 2**n_down) for _ in range(options.n_blocks)]
        for i in range(n_down):
            width = ngf * 2 ** (n_down - i)
            layers += [
                nn.ConvTranspose2d(width, width // 2, kernel_size=3, stride=2, padding=1, output_padding=1),
                _instance_norm(width // 2),
                nn.ReLU(True),
            ]
        layers += [nn.ReflectionPad2d(3), Conv2d(ngf, out_channels, kernel_size=7), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)
