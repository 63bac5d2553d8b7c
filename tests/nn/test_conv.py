"""The shared fast convolutions against torch's, for the kernel shapes of DensePose R-CNN and PIFuHD."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from human3d.nn import conv
from human3d.nn.conv import Conv2d, conv2d, set_winograd, winograd_available

# (input shape, out channels, kernel, stride, padding, bias)
SHAPES = [
    ((2, 16, 9, 11), 24, 3, 1, 1, True),    # R-CNN 3x3, a batch
    ((1, 32, 13, 7), 8, 1, 1, 0, True),     # 1x1 as one matrix product
    ((1, 32, 13, 7), 8, 1, 2, 0, True),     # strided 1x1 (ResNet shortcut)
    ((1, 64, 20, 20), 32, 3, 1, 1, False),  # hourglass ConvBlock 3x3, no bias
    ((1, 64, 18, 18), 64, 3, 1, 0, True),   # normal generator residual block: 3x3 after a reflection pad
    ((1, 64, 16, 16), 128, 1, 1, 0, False), # hourglass shortcut projection
    ((1, 9, 32, 32), 64, 7, 2, 3, True),    # hourglass stem (torch's path)
    ((1, 64, 16, 16), 128, 3, 2, 1, True),  # generator downsampling (torch's path)
    ((1, 16, 22, 22), 3, 7, 1, 0, True),    # generator output after a reflection pad (torch's path)
]


@pytest.fixture(autouse=True)
def winograd_on():
    """The Winograd path on, whatever this CPU's default (it is off by default on AVX-512), then the default."""
    set_winograd(True)
    yield
    set_winograd(None)


@pytest.mark.parametrize("shape, cout, kernel, stride, padding, has_bias", SHAPES)
@pytest.mark.parametrize("channels_last", [False, True])
def test_fast_convolutions_match_torch(shape, cout, kernel, stride, padding, has_bias, channels_last):
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(*shape, generator=generator)
    weight = torch.randn(cout, shape[1], kernel, kernel, generator=generator)
    bias = torch.randn(cout, generator=generator) if has_bias else None
    if channels_last:
        layout = torch.channels_last
        x, weight = x.contiguous(memory_format=layout), weight.contiguous(memory_format=layout)
    with torch.inference_mode():
        expected = F.conv2d(x.double(), weight.double(), None if bias is None else bias.double(), stride, padding)
        # the rounding yardstick: the sum of |terms| of each output (float32 eps is 6e-8 of it)
        magnitude = F.conv2d(x.double().abs(), weight.double().abs(), None, stride, padding).max()
        ours = conv2d(x, weight, bias, (stride, stride), (padding, padding), (1, 1), 1)
    assert ours.dtype == torch.float32 and ours.shape == expected.shape
    assert float((ours.double() - expected).abs().max() / magnitude) < 1e-5


def test_winograd_switch_and_torch_fallback():
    x, conv = torch.randn(1, 8, 10, 10), Conv2d(8, 8, 3, padding=1)
    with torch.inference_mode():
        on = conv(x)
        set_winograd(False)
        try:
            assert not winograd_available()
            assert torch.equal(conv(x), F.conv2d(x, conv.weight, conv.bias, 1, 1))
        finally:
            set_winograd(True)
    torch.testing.assert_close(on, F.conv2d(x, conv.weight, conv.bias, 1, 1), rtol=0, atol=1e-5)


def test_winograd_is_on_by_default_only_without_avx512(monkeypatch):
    set_winograd(None)
    monkeypatch.setattr(conv, "cpu_flags", lambda: frozenset({"avx2", "fma"}))
    assert conv.winograd_by_default() and winograd_available() == torch.backends.nnpack.is_available()
    monkeypatch.setattr(conv, "cpu_flags", lambda: frozenset({"avx2", "avx512f", "avx512_bf16"}))
    assert not conv.winograd_by_default() and not winograd_available()
    set_winograd(True)  # asked for, it is taken whatever the CPU
    assert winograd_available() == torch.backends.nnpack.is_available()


def test_reflect_padding_mode_is_torch_s():
    x = torch.randn(1, 4, 7, 7)
    ours = Conv2d(4, 4, 3, padding=1, padding_mode="reflect")
    theirs = nn.Conv2d(4, 4, 3, padding=1, padding_mode="reflect")
    theirs.load_state_dict(ours.state_dict())
    with torch.inference_mode():
        assert torch.equal(ours(x), theirs(x))


def test_training_keeps_torch_convolutions():
    x = torch.randn(1, 4, 6, 6, requires_grad=True)
    conv = Conv2d(4, 4, 3, padding=1)
    conv(x).sum().backward()
    assert x.grad is not None and conv.weight.grad is not None


@pytest.mark.parametrize("height, padding", [(37, 1), (37, 0), (9, 1), (8, 0)])
def test_winograd_bands_give_the_whole_convolution(monkeypatch, height, padding):
    """Bands of output rows (forced small here; 8 rows at least) join into the convolution of the whole image."""
    monkeypatch.setattr(conv, "WINOGRAD_BAND_BYTES", 1)
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(1, 6, height, 11, generator=generator)
    weight, bias = torch.randn(5, 6, 3, 3, generator=generator), torch.randn(5, generator=generator)
    with torch.inference_mode():
        ours = conv2d(x, weight, bias, (1, 1), (padding, padding), (1, 1), 1)
        expected = F.conv2d(x, weight, bias, 1, padding)
    assert ours.shape == expected.shape
    torch.testing.assert_close(ours, expected, rtol=3e-5, atol=1e-4)
