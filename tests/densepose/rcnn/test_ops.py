"""NMS, ROIAlign and the folded frozen batch norm against straightforward per-box / per-sample implementations
of their definitions."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from human3d.densepose.rcnn.boxes import apply_deltas, batched_nms, nms
from human3d.densepose.rcnn.layers import Conv2dNorm, FrozenBatchNorm2d
from human3d.densepose.rcnn.roi_align import assign_levels, pool_levels, roi_align


def _greedy_nms(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> list[int]:
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    keep: list[int] = []
    for i in order:
        ok = True
        for j in keep:
            xx1, yy1 = max(boxes[i, 0], boxes[j, 0]), max(boxes[i, 1], boxes[j, 1])
            xx2, yy2 = min(boxes[i, 2], boxes[j, 2]), min(boxes[i, 3], boxes[j, 3])
            inter = max(0.0, xx2 - xx1) * max(0.0, yy2 - yy1)
            area = lambda b: (b[2] - b[0]) * (b[3] - b[1])  # noqa: E731
            if inter / (area(boxes[j]) + area(boxes[i]) - inter) > threshold:
                ok = False
                break
        if ok:
            keep.append(i)
    return keep


def _random_boxes(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * 200
    wh = torch.rand(n, 2, generator=g) * 80 + 1
    return torch.cat([xy, xy + wh], 1), torch.rand(n, generator=g)


@pytest.mark.parametrize("seed, threshold", [(0, 0.5), (1, 0.7), (2, 0.3)])
def test_nms_equals_greedy_definition(seed, threshold):
    boxes, scores = _random_boxes(300, seed)
    keep = nms(boxes, scores, threshold)
    assert keep.tolist() == _greedy_nms(boxes.double().numpy(), scores.numpy(), threshold)


def test_batched_nms_is_per_group_in_both_regimes():
    for n in (200, 1500):  # coordinate-offset regime and the per-group loop regime
        boxes, scores = _random_boxes(n, 3)
        groups = torch.arange(n) % 3
        keep = batched_nms(boxes, scores, groups, 0.5)
        expected = []
        for g in range(3):
            index = torch.where(groups == g)[0]
            expected += index[_greedy_nms(boxes[index].double().numpy(), scores[index].numpy(), 0.5)].tolist()
        assert sorted(keep.tolist()) == sorted(expected)
        assert torch.all(scores[keep][:-1] >= scores[keep][1:])


def _bilinear(feature: np.ndarray, y: float, x: float) -> np.ndarray:
    height, width = feature.shape[1:]
    if y < -1.0 or y > height or x < -1.0 or x > width:
        return np.zeros(feature.shape[0])
    y, x = max(y, 0.0), max(x, 0.0)
    y0, x0 = int(y), int(x)
    if y0 >= height - 1:
        y0 = y1 = height - 1
        y = float(y0)
    else:
        y1 = y0 + 1
    if x0 >= width - 1:
        x0 = x1 = width - 1
        x = float(x0)
    else:
        x1 = x0 + 1
    ly, lx = y - y0, x - x0
    return ((1 - ly) * (1 - lx) * feature[:, y0, x0] + (1 - ly) * lx * feature[:, y0, x1]
            + ly * (1 - lx) * feature[:, y1, x0] + ly * lx * feature[:, y1, x1])


def _roi_align_definition(feature, box, size, scale, ratio, aligned):
    shift = 0.5 if aligned else 0.0
    x1, y1, x2, y2 = [c * scale - shift for c in box]
    w, h = x2 - x1, y2 - y1
    if not aligned:
        w, h = max(w, 1.0), max(h, 1.0)
    bin_h, bin_w = h / size, w / size
    out = np.zeros((feature.shape[0], size, size))
    for py in range(size):
        for px in range(size):
            for iy in range(ratio):
                for ix in range(ratio):
                    y = y1 + py * bin_h + (iy + 0.5) * bin_h / ratio
                    x = x1 + px * bin_w + (ix + 0.5) * bin_w / ratio
                    out[:, py, px] += _bilinear(feature, y, x)
    return out / ratio**2


@pytest.mark.parametrize("aligned", [False, True])
def test_roi_align_equals_definition_including_borders(aligned):
    g = torch.Generator().manual_seed(0)
    feature = torch.randn(2, 3, 13, 17, generator=g)
    boxes = torch.tensor([[8.0, 4.0, 40.0, 30.0], [-10.0, -6.0, 20.0, 12.0], [50.0, 30.0, 90.0, 70.0],
                          [30.0, 20.0, 30.5, 20.2], [0.0, 0.0, 68.0, 52.0]])
    batch = torch.tensor([0, 1, 0, 1, 0])
    ours = roi_align(feature, boxes, batch, 5, 0.25, 2, aligned)
    for k in range(len(boxes)):
        expected = _roi_align_definition(feature[batch[k]].double().numpy(), boxes[k].tolist(), 5, 0.25, 2, aligned)
        np.testing.assert_allclose(ours[k].numpy(), expected, rtol=0, atol=1e-5)


def _awkward_boxes(n: int, height: int, width: int, scale: float, generator: torch.Generator) -> torch.Tensor:
    """Random XYXY boxes (image pixels) around a map: inside, partly and wholly outside, tiny, empty."""
    side = torch.tensor([width, height]) / scale
    xy = torch.rand(n, 2, generator=generator) * (side + 20 / scale) - 10 / scale  # 10 map pixels beyond each side
    tiny = torch.rand(n, 1, generator=generator) < 0.3
    wh = torch.where(tiny, torch.rand(n, 2, generator=generator) * 0.5, torch.rand(n, 2, generator=generator) * side)
    fixed = torch.tensor([[-40.0, -30.0, -10.0, -5.0],  # wholly outside (every sample before -1)
                          [-3.5, -3.9, -0.5, -0.2],  # samples in (-1, 0] snap to pixel 0 (aligned: some before -1)
                          [side[0] - 1, side[1] - 1, side[0] + 3, side[1] + 3],  # over the far edge by < 1 pixel
                          [side[0] + 8, 4.0, side[0] + 30, 9.0],  # wholly past the last column
                          [10.0, 10.0, 10.0, 10.0]])  # empty
    return torch.cat([torch.cat([xy, xy + wh], 1), fixed])


@pytest.mark.parametrize("batch, height, width, memory", [
    (3, 11, 14, torch.contiguous_format),  # the map copied to a channels-last table
    (3, 11, 14, torch.channels_last),  # the table a view of the map
    (1, 40, 50, torch.contiguous_format),  # few samples for the map: gathered from the strided view
    (2, 1, 7, torch.contiguous_format),  # one row: every sample snaps to it
])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("ratio", [1, 2])
@pytest.mark.parametrize("aligned", [False, True])
def test_roi_align_equals_torchvision_definition_on_random_boxes(batch, height, width, memory, dtype, ratio, aligned):
    generator = torch.Generator().manual_seed(ratio + 2 * aligned + 4 * height)
    feature = torch.randn(batch, 4, height, width, generator=generator, dtype=dtype).contiguous(memory_format=memory)
    boxes = _awkward_boxes(12, height, width, 0.25, generator).to(dtype)
    index = torch.randint(0, batch, (len(boxes),), generator=generator)
    ours = roi_align(feature, boxes, index, 5, 0.25, ratio, aligned)
    assert ours.shape == (len(boxes), 4, 5, 5) and ours.dtype == dtype
    expected = np.stack([_roi_align_definition(feature[i].double().numpy(), box.tolist(), 5, 0.25, ratio, aligned)
                         for box, i in zip(boxes.double(), index.tolist())])
    assert np.abs(expected[-5]).max() == 0 and np.abs(expected[-2]).max() == 0  # the boxes wholly outside
    np.testing.assert_allclose(ours.numpy(), expected, rtol=0, atol=1e-12 if dtype == torch.float64 else 2e-5)


def test_roi_align_bfloat16_and_gradient():
    """bfloat16 maps are pooled in float32; the gradient w.r.t. the map is the adjoint (training goes through it)."""
    generator = torch.Generator().manual_seed(7)
    feature = torch.randn(2, 3, 9, 11, generator=generator, dtype=torch.float64)
    boxes = _awkward_boxes(4, 9, 11, 0.25, generator).double()
    index = torch.tensor([0, 1, 1, 0, 1, 0, 1, 0, 1])
    half = feature.to(torch.bfloat16)
    assert torch.equal(roi_align(half, boxes, index, 4, 0.25, 2, True),
                       roi_align(half.float(), boxes, index, 4, 0.25, 2, True).to(torch.bfloat16))
    assert torch.autograd.gradcheck(lambda x: roi_align(x, boxes, index, 4, 0.25, 2, False),
                                    (feature.requires_grad_(True),), fast_mode=True)  # a channels-last copy
    single = torch.randn(1, 3, 20, 24, generator=generator, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: roi_align(x, boxes, index * 0, 4, 0.25, 1, True),
                                    (single,), fast_mode=True)  # few samples for the map: its strided view


def test_pool_levels_pools_each_box_on_its_level():
    generator = torch.Generator().manual_seed(8)
    fpn = [torch.randn(2, 3, 64 // s, 48 // s, generator=generator) for s in (1, 2, 4, 8)]
    boxes = torch.tensor([[0.0, 0.0, 100.0, 80.0], [10.0, 20.0, 250.0, 200.0], [5.0, 5.0, 40.0, 30.0],
                          [0.0, 0.0, 250.0, 300.0], [-40.0, -20.0, 500.0, 460.0]])
    index = torch.tensor([1, 0, 1, 0, 1])
    levels = assign_levels(boxes, 2, 5).tolist()
    assert levels == [0, 1, 0, 2, 3]
    pooled = pool_levels(fpn, [4, 8, 16, 32], boxes, index, 7, 2, True)
    assert pooled.shape == (5, 3, 7, 7) and pooled.is_contiguous()
    for k, level in enumerate(levels):
        expected = _roi_align_definition(fpn[level][index[k]].double().numpy(), boxes[k].tolist(), 7,
                                         1.0 / 4 / 2**level, 2, True)
        np.testing.assert_allclose(pooled[k].numpy(), expected, rtol=0, atol=2e-5)


def test_level_assignment_and_delta_decoding():
    sides = [100.0, 120.0, 224.0, 600.0, 1.0]  # floor(4 + log2(side / 224)) clamped to [2, 5]
    boxes = torch.tensor([[0.0, 0.0, s, s] for s in sides])
    assert assign_levels(boxes, 2, 5).tolist() == [0, 1, 2, 3, 0]  # counted from p2
    decoded = apply_deltas(torch.tensor([[1.0, -2.0, math.log(2.0), 10.0]]), torch.tensor([[10.0, 20.0, 30.0, 60.0]]),
                           (1.0, 1.0, 1.0, 1.0), math.log(1000.0 / 16))
    # centre (20, 40) moves by (20, -80); width doubles to 40; height grows by the clamped factor 62.5
    np.testing.assert_allclose(decoded.numpy(), [[20.0, -40 - 1250.0, 60.0, -40 + 1250.0]], rtol=1e-6)


@pytest.mark.parametrize("bias", [False, True])
def test_conv_with_frozen_batch_norm_folds_exactly(bias):
    """The folded convolution equals convolution, then (x - mean) / sqrt(var + eps) * weight + bias, then ReLU."""
    generator = torch.Generator().manual_seed(3)
    norm = FrozenBatchNorm2d(6)
    for name in ("weight", "bias", "running_mean"):
        getattr(norm, name).copy_(torch.randn(6, generator=generator))
    norm.running_var.copy_(torch.rand(6, generator=generator) + 0.1)
    conv = Conv2dNorm(4, 6, 3, stride=2, padding=1, bias=bias, norm=norm, relu=True)
    x = torch.randn(2, 4, 9, 11, generator=generator)
    with torch.no_grad():
        bias = None if conv.bias is None else conv.bias.double()
        y = torch.nn.functional.conv2d(x.double(), conv.weight.double(), bias, stride=2, padding=1)
        mean, var = norm.running_mean.double().view(-1, 1, 1), norm.running_var.double().view(-1, 1, 1)
        expected = ((y - mean) / torch.sqrt(var + norm.eps) * norm.weight.double().view(-1, 1, 1)
                    + norm.bias.double().view(-1, 1, 1)).clamp(min=0)
        np.testing.assert_allclose(conv(x).numpy(), expected.numpy(), rtol=0, atol=1e-5)
