"""ROIAlign (torchvision semantics, ``aligned`` True or False, fixed sampling ratio) and the FPN pooler."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

# An NCHW map is gathered from in place (strided) below this many bilinear taps per map pixel, else copied to
# channels-last first: at 256 channels, one thread, a strided tap costs about 0.2 us more than a contiguous one
# and copying a pixel about 0.7 us (10 boxes 28x28 on a 200x272 map: 29 ms in place, 43 ms with the copy).
_STRIDED_TAPS_PER_PIXEL = 4


def _axis_taps(start: torch.Tensor, size: torch.Tensor, output_size: int, sampling_ratio: int,
               length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Bilinear taps of the samples along one axis: pixel indices and weights, each (N, output_size, 2 * ratio).

    Bin p's samples sit at start + p * bin + (i + 0.5) * bin / ratio (torchvision's expression). A sample
    beyond one pixel outside the map gets weight 0 (index 0); one in (-1, 0] snaps to 0; one whose lower
    pixel is the last snaps to it, with all its weight there. Each sample gives two taps, its lower pixel
    with weight 1 - frac and its upper pixel with weight frac.
    """
    bin_size = (size / output_size)[:, None, None]
    steps = torch.arange(output_size, device=start.device, dtype=start.dtype)[None, :, None]
    halves = torch.arange(sampling_ratio, device=start.device, dtype=start.dtype)[None, None, :] + 0.5
    coords = start[:, None, None] + steps * bin_size + halves * bin_size / sampling_ratio  # (N, P, ratio)
    inside = ((coords >= -1.0) & (coords <= length))[..., None]
    coords = coords.clamp(min=0.0)
    low = coords.to(torch.long).clamp(max=length - 1)  # truncation is floor for coords >= 0
    frac = torch.where(low >= length - 1, 0.0, coords - low)
    indices = torch.where(inside, torch.stack([low, (low + 1).clamp(max=length - 1)], -1), 0)
    weights = torch.where(inside, torch.stack([1.0 - frac, frac], -1), 0.0)  # where, not *: NaN boxes give 0
    return indices.flatten(2), weights.flatten(2)


def roi_align(features: torch.Tensor, boxes: torch.Tensor, batch_index: torch.Tensor, output_size: int,
              spatial_scale: float, sampling_ratio: int, aligned: bool) -> torch.Tensor:
    """Pool (N, C, output_size, output_size) features for XYXY ``boxes`` of images ``batch_index``.

    torchvision's ROIAlign: each bin averages ``sampling_ratio``^2 bilinear samples; a sample beyond
    one pixel outside the map counts as 0, coordinates in (-1, 0] snap to 0 and ones whose lower pixel
    is the last row/column snap to it; ``aligned`` shifts boxes by half a pixel, without it boxes are at
    least 1x1. Each output bin is one bag of ``F.embedding_bag`` over the map as a (B * H * W, C) table:
    the 4 * ratio^2 bilinear corners of its samples, weighted by (bilinear weight) / ratio^2. The result
    is in channels-last memory (a permuted view of the (N * P * P, C) bags). float64 features are
    pooled in float64, others in float32 (returned in their own dtype).
    """
    if sampling_ratio <= 0:
        raise ValueError("only a fixed positive sampling_ratio is supported")
    n, (channels, height, width) = len(boxes), features.shape[1:]
    dtype = torch.float64 if features.dtype == torch.float64 else torch.float32
    boxes = boxes.to(dtype)
    shift = 0.5 if aligned else 0.0
    start = boxes[:, :2] * spatial_scale - shift
    size = boxes[:, 2:] * spatial_scale - shift - start
    if not aligned:
        size = size.clamp(min=1.0)
    x_index, x_weight = _axis_taps(start[:, 0], size[:, 0], output_size, sampling_ratio, width)
    y_index, y_weight = _axis_taps(start[:, 1], size[:, 1], output_size, sampling_ratio, height)
    # bag (box, py, px) holds the taps (ty, tx): table row = image * H * W + y * W + x, weight wy * wx / ratio^2
    rows = batch_index.to(torch.long)[:, None, None] * (height * width) + y_index * width
    taps = (2 * sampling_ratio) ** 2
    indices = (rows[:, :, None, :, None] + x_index[:, None, :, None, :]).reshape(-1, taps)
    weights = (y_weight[:, :, None, :, None] * (x_weight / sampling_ratio**2)[:, None, :, None, :]).reshape(-1, taps)
    table = features.to(dtype).permute(0, 2, 3, 1).reshape(-1, channels)  # a view of a channels-last map
    if table.stride(1) != 1 and indices.numel() > _STRIDED_TAPS_PER_PIXEL * len(table):
        table = table.contiguous()  # gathering strided channels is slower than copying the map, for many taps
    pooled = F.embedding_bag(indices, table, per_sample_weights=weights, mode="sum")
    return pooled.view(n, output_size, output_size, channels).permute(0, 3, 1, 2).to(features.dtype)


def assign_levels(boxes: torch.Tensor, min_level: int, max_level: int,
                  canonical_size: float = 224.0, canonical_level: int = 4) -> torch.Tensor:
    """FPN level (0-based from ``min_level``) of each box: floor(4 + log2(sqrt(area) / 224 + 1e-8))."""
    sizes = torch.sqrt((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]))
    levels = torch.floor(canonical_level + torch.log2(sizes / canonical_size + 1e-8))
    return (torch.clamp(levels, min=min_level, max=max_level) - min_level).to(torch.long)


def pool_levels(features: list[torch.Tensor], strides: list[int], boxes: torch.Tensor, batch_index: torch.Tensor,
                output_size: int, sampling_ratio: int, aligned: bool) -> torch.Tensor:
    """ROIAlign over one map (``roi_align``'s channels-last result), or over an FPN with each box on its level
    (detectron2's ROIPooler) into one contiguous (N, C, P, P) tensor."""
    if len(features) == 1:
        return roi_align(features[0], boxes, batch_index, output_size, 1.0 / strides[0], sampling_ratio, aligned)
    min_level, max_level = int(math.log2(strides[0])), int(math.log2(strides[-1]))
    levels = assign_levels(boxes, min_level, max_level)
    out = features[0].new_empty((len(boxes), features[0].shape[1], output_size, output_size))  # levels cover all rows
    for level, (feature, stride) in enumerate(zip(features, strides)):
        rows = torch.where(levels == level)[0]
        if len(rows):  # the channels-last result goes straight in: one pass (measured faster than chunks or a sort)
            out[rows] = roi_align(feature, boxes[rows], batch_index[rows], output_size, 1.0 / stride,
                                  sampling_ratio, aligned).to(out.dtype)
    return out
