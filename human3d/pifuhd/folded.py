"""Fine occupancy for surface extraction, with the coarse MLP's feature weights folded into the feature map.

The coarse MLP's first layer, and each of its skip layers, multiplies the bilinearly sampled image
feature by a fixed matrix. Sampling is linear, so that matrix can be applied to the whole feature map
once per image (a 1x1 convolution) and the product sampled instead: the pre-activations are the same
up to float rounding, with a third fewer multiply-adds per point. Only the coarse layers up to phi
run, because the fine occupancy never needs the coarse prediction. A body-guided network's body features
are not folded (they come per point, from the body's distance volume); their weights act on them directly.
A checkpoint whose MLPs have norm
layers (which normalise over the batch) cannot be folded; :func:`can_fold` says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from human3d.pifuhd.model import PifuhdFeatures, PifuhdNet, body_input, inside_xy, project, sample_features


@dataclass
class _FoldedLayer:
    weight: torch.Tensor  # [previous width, out] (transposed) acting on the previous activation; unused by layer 0
    columns: slice | None  # columns of the folded table that hold this layer's feature term, if it takes the feature
    bias: torch.Tensor | None  # only for a layer without the feature (the others' biases are in the table)


def can_fold(model: PifuhdNet) -> bool:
    """Whether ``model`` can be folded: neither MLP has a norm layer, and phi comes from a hidden layer."""
    return model.netG.mlp.norms is None and model.mlp.norms is None and model.netG.mlp.phi_index >= 0


class FoldedOccupancy:
    """Fine occupancy [1, 1, N] at world points [1, 3, N] for one encoded image (see the module docstring).

    The folded map is kept as a table of rows, one per pixel, plus a zero row (the zero padding
    outside the map) and a row of depth weights; its biases are added to every pixel, since the
    bilinear weights sum to one wherever the fine occupancy is not masked to zero. One weighted
    ``embedding_bag`` over 4 pixels and the depth row then gives each layer's whole feature term.
    """

    def __init__(self, model: PifuhdNet, features: PifuhdFeatures) -> None:
        if not can_fold(model):
            raise ValueError("this checkpoint has an MLP norm layer or no phi: it cannot be folded")
        if features.coarse.shape[0] != 1:
            raise ValueError("folding needs the features of a single image")
        self.model = model
        self.features = features
        mlp = model.netG.mlp
        channels, height, width = features.coarse.shape[1:]
        self.size = (height, width)
        self.depth_scale = model.options.coarse.depth_scale
        body_channels = model.options.coarse.body_channels
        self.layers: list[_FoldedLayer] = []
        feature_weights, depth_weights, body_weights, biases = [], [], [], []
        start = 0
        for layer, conv in enumerate(mlp.filters[: mlp.phi_index + 1]):
            weight = conv.weight[:, :, 0]
            takes_feature = layer == 0 or layer in mlp.res_layers
            own = weight.shape[1] - (channels + 1 + body_channels if takes_feature else 0)
            if not takes_feature:
                self.layers.append(_FoldedLayer(weight.T, None, conv.bias))
                continue
            feature_weights.append(weight[:, own : own + channels])
            depth_weights.append(weight[:, own + channels])
            body_weights.append(weight[:, own + channels + 1 :])
            biases.append(conv.bias)
            self.layers.append(_FoldedLayer(weight[:, :own].T, slice(start, start + weight.shape[0]), None))
            start += weight.shape[0]
        folded = F.conv2d(features.coarse, torch.cat(feature_weights)[:, :, None, None], torch.cat(biases))
        self.table = torch.cat([folded[0].flatten(1).T, folded.new_zeros(1, start), torch.cat(depth_weights)[None]])
        self.body_weights = torch.cat(body_weights).T if body_channels else None  # [4, K]

    def _feature_terms(self, uvd: torch.Tensor) -> torch.Tensor:
        """[N, K]: every layer's feature term (folded features at (u, v), bias, depth) for points uvd [3, N]."""
        height, width = self.size
        x = (uvd[0] + 1) * (0.5 * (width - 1))  # aligned corners, as ``sample_features``
        y = (uvd[1] + 1) * (0.5 * (height - 1))
        x0, y0 = x.floor(), y.floor()
        fx, fy = x - x0, y - y0
        columns, rows = torch.stack([x0, x0 + 1, x0, x0 + 1], 1), torch.stack([y0, y0, y0 + 1, y0 + 1], 1)
        inside = (columns >= 0) & (columns <= width - 1) & (rows >= 0) & (rows <= height - 1)
        pixels = torch.where(inside, rows * width + columns, height * width).long()  # outside: the zero row
        weights = torch.stack([(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy], 1)
        depth_row = torch.full_like(pixels[:, :1], height * width + 1)
        depth = (uvd[2] * self.depth_scale)[:, None]
        return F.embedding_bag(torch.cat([pixels, depth_row], 1), self.table,
                               per_sample_weights=torch.cat([weights, depth], 1), mode="sum")

    def __call__(self, points: torch.Tensor) -> torch.Tensor:
        if points.shape[0] != 1:
            raise ValueError("folded queries take one batch of points [1, 3, N]")
        uvd = project(points)
        terms = self._feature_terms(uvd[0])
        body = self.model.body_features(self.features, points)
        if body is not None:
            body = body_input(body, self.depth_scale)[0].T  # [N, 4]
            terms = terms.addmm_(body, self.body_weights)
        y = None
        for layer in self.layers:
            if layer.columns is None:
                pre = torch.addmm(layer.bias, y, layer.weight)
            else:
                pre = terms[:, layer.columns]
                if y is not None:
                    pre = pre.addmm_(y, layer.weight)
            y = F.leaky_relu_(pre)
        uv = uvd[:, :2]
        fine = sample_features(self.features.fine, uv)[0].T
        occupancy = self.model.mlp.forward_rows(torch.cat([fine, y] if body is None else [fine, y, body], 1)).T[None]
        return occupancy * inside_xy(uv)
