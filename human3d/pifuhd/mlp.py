"""The per-point MLP (1x1 Conv1d layers with skip inputs) of both PIFuHD levels."""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from human3d.pifuhd.layers import norm_1d


class SurfaceMLP(nn.Module):
    """``dims[0]`` features per point -> occupancy in [0, 1] (sigmoid), plus the activation phi.

    Layers listed in ``res_layers`` also receive the original input feature (concatenated after the
    previous activation). Hidden layers use leaky ReLU (0.01), after the optional norm. ``phi`` is the
    activation of layer ``phi_index`` (None when it is negative).
    """

    def __init__(self, dims: Sequence[int], res_layers: Sequence[int], norm: str, phi_index: int = -1) -> None:
        super().__init__()
        self.res_layers = tuple(res_layers)
        self.phi_index = phi_index
        self.filters = nn.ModuleList()
        norms = []
        for layer in range(len(dims) - 1):
            extra = dims[0] if layer in self.res_layers else 0
            self.filters.append(nn.Conv1d(dims[layer] + extra, dims[layer + 1], 1))
            if layer != len(dims) - 2:
                norms.append(norm_1d(norm, dims[layer + 1]))
        self.norms = nn.ModuleList(norms) if norm != "none" else None

    def forward(self, feature: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        y, phi = feature, None
        last = len(self.filters) - 1
        for layer, conv in enumerate(self.filters):
            y = conv(torch.cat([y, feature], 1) if layer in self.res_layers else y)
            if layer != last:
                y = F.leaky_relu(y if self.norms is None else self.norms[layer](y))
            if layer == self.phi_index:
                phi = y
        return torch.sigmoid(y), phi

    def forward_rows(self, feature: torch.Tensor) -> torch.Tensor:
        """Occupancy [N, 1] for points as rows ``feature`` [N, dims[0]]: ``forward`` in the layout a GEMM prefers.

        Equal to ``forward`` up to float rounding; skip inputs are added as a second product instead of
        being concatenated. Only for an MLP without norm layers.
        """
        if self.norms is not None:
            raise ValueError("forward_rows needs an MLP without norm layers")
        y = feature
        last = len(self.filters) - 1
        for layer, conv in enumerate(self.filters):
            weight = conv.weight[:, :, 0]
            if layer in self.res_layers:
                own = weight.shape[1] - feature.shape[1]
                y = torch.addmm(conv.bias, y, weight[:, :own].T).addmm_(feature, weight[:, own:].T)
            else:
                y = torch.addmm(conv.bias, y, weight.T)
            if layer != last:
                y = F.leaky_relu_(y)
        return torch.sigmoid(y)
