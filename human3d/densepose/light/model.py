"""A light single-stage DensePose network for real-time CPU use (human3d's default DensePose model).

One fully-convolutional pass at the image's own size gives stride-4 maps (CenterNet-style detection
plus dense charts, no region proposals, no per-box head):

* ``heat`` (1): person-centre heatmap logit; a person is a local maximum of its sigmoid;
* ``size`` (2): log of the box width and height in stride units, read at the centre;
* ``offset`` (2): sub-cell position of the box centre, read at the centre;
* ``parts`` (25): background + 24 DensePose parts, logits at every cell;
* ``u``, ``v`` (24 each): chart coordinates of every part at every cell;
* ``instance`` (2): vector from each cell to its person's box centre (in units of :data:`OFFSET_UNIT`
  pixels), used to give each pixel to one detected person.

Backbone: a depthwise-separable (MobileNet-like) encoder to stride 32, a light FPN decoder back to
stride 4, two small heads. A *guided* model (``LightConfig.guide`` > 0, the people model of
:mod:`human3d.densepose.light.person_crops`) also reads a pose guide
(:mod:`human3d.densepose.light.pose_guide`: the person's limbs drawn from their keypoints, and their
mask), stacked with the normalised image before the first convolution. Parameter names all start with
``light_`` so a checkpoint of this model is recognised by its keys (:func:`is_light_state`); widths and
guide channels are read back from the tensor shapes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from human3d.errors import Human3DError

NUM_PARTS = 24
STRIDE = 4
OFFSET_UNIT = 32.0
KEY_PREFIX = "light_"
# channel layout of the network output
CHANNELS = {"heat": 1, "size": 2, "offset": 2, "parts": NUM_PARTS + 1, "u": NUM_PARTS, "v": NUM_PARTS, "instance": 2}
DET_CHANNELS = CHANNELS["heat"] + CHANNELS["size"] + CHANNELS["offset"]
DENSE_CHANNELS = sum(CHANNELS.values()) - DET_CHANNELS
HEAT_PRIOR_BIAS = -2.19  # sigmoid = 0.1 at start, CenterNet's initialisation
PIXEL_MEAN_BGR = (103.53, 116.28, 123.675)
PIXEL_STD_BGR = (57.375, 57.12, 58.395)
COUNTER_SUFFIX = "num_batches_tracked"  # batch-norm step counters: not stored, not needed


@dataclass(frozen=True)
class LightConfig:
    """Widths of the encoder stages (strides 2, 4, 8, 16, 32), blocks per stage, decoder width, and the
    channels of the pose guide read beside the image (0: none)."""

    widths: tuple[int, ...] = (16, 32, 48, 96, 160)
    depths: tuple[int, ...] = (2, 3, 3, 2)
    decoder: int = 64
    guide: int = 0


DEFAULT_CONFIG = LightConfig()


@dataclass
class LightMaps:
    """The network output split by meaning; each (N, C, h, w) at stride :data:`STRIDE`."""

    heat: torch.Tensor
    size: torch.Tensor
    offset: torch.Tensor
    parts: torch.Tensor
    u: torch.Tensor
    v: torch.Tensor
    instance: torch.Tensor


def split_maps(output: torch.Tensor) -> LightMaps:
    """Cut the concatenated network output (N, 80, h, w) into :class:`LightMaps`."""
    return LightMaps(*torch.split(output, list(CHANNELS.values()), dim=1))


class ConvBN(nn.Module):
    """Convolution (no bias), batch norm, optional ReLU. :func:`fuse_batch_norms` folds the norm away."""

    def __init__(self, cin: int, cout: int, kernel: int = 1, stride: int = 1, groups: int = 1,
                 relu: bool = True) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False)
        self.bn: nn.Module = nn.BatchNorm2d(cout)
        self.relu = relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.bn(self.conv(x))
        return F.relu(x) if self.relu else x


class SeparableBlock(nn.Module):
    """Depthwise k x k (stride s) then pointwise 1x1; residual when the shape is kept."""

    def __init__(self, cin: int, cout: int, stride: int = 1, kernel: int = 3) -> None:
        super().__init__()
        self.depthwise = ConvBN(cin, cin, kernel, stride, groups=cin)
        self.pointwise = ConvBN(cin, cout, 1, relu=stride != 1 or cin != cout)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.pointwise(self.depthwise(x))
        return F.relu(x + y) if self.residual else y


class Encoder(nn.Module):
    """Stem (stride 2) and four stages (strides 4, 8, 16, 32); returns the four stage outputs."""

    def __init__(self, config: LightConfig) -> None:
        super().__init__()
        w = config.widths
        self.stem = ConvBN(3 + config.guide, w[0], 3, stride=2)
        self.stages = nn.ModuleList()
        for i, depth in enumerate(config.depths):
            kernel = 3 if i < 2 else 5  # wider receptive field where people are a few cells tall
            blocks = [SeparableBlock(w[i], w[i + 1], 2, kernel)] + [SeparableBlock(w[i + 1], w[i + 1], 1, kernel)
                                                                     for _ in range(depth - 1)]
            self.stages.append(nn.Sequential(*blocks))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.stem(x)
        features = []
        for stage in self.stages:
            x = stage(x)
            features.append(x)
        return features


class Decoder(nn.Module):
    """FPN-like top-down path: 1x1 laterals, nearest x2 upsampling and addition, one block per level."""

    def __init__(self, config: LightConfig) -> None:
        super().__init__()
        d = config.decoder
        self.lateral = nn.ModuleList(ConvBN(c, d, 1) for c in config.widths[1:])
        self.context = ConvBN(config.widths[-1], d, 1)  # global average of the deepest features
        self.smooth = nn.ModuleList(SeparableBlock(d, d) for _ in config.widths[1:-1])

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        deepest = features[-1]
        x = self.lateral[-1](deepest) + self.context(deepest.mean(dim=(2, 3), keepdim=True))
        for level in range(len(features) - 2, -1, -1):
            lateral = self.lateral[level](features[level])
            x = F.interpolate(x, size=lateral.shape[-2:], mode="nearest") + lateral
            x = self.smooth[level](x)
        return x


class Head(nn.Module):
    """``blocks`` separable blocks then a 1x1 prediction convolution with bias."""

    def __init__(self, width: int, blocks: int, out_channels: int) -> None:
        super().__init__()
        self.blocks = nn.Sequential(*(SeparableBlock(width, width) for _ in range(blocks)))
        self.predict = nn.Conv2d(width, out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.predict(self.blocks(x))


class LightDensePose(nn.Module):
    """BGR images (N, 3, H, W) in 0..255, H and W multiples of 32 -> maps (N, 80, H/4, W/4); a guided model
    (``config.guide`` channels) also takes the pose guide (N, guide, H, W) in 0..1."""

    size_divisibility = 32

    def __init__(self, config: LightConfig = DEFAULT_CONFIG) -> None:
        super().__init__()
        self.config = config
        self.light_encoder = Encoder(config)
        self.light_decoder = Decoder(config)
        self.light_detect = Head(config.decoder, 1, DET_CHANNELS)
        self.light_dense = Head(config.decoder, 2, DENSE_CHANNELS)
        self.register_buffer("pixel_mean", torch.tensor(PIXEL_MEAN_BGR).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("pixel_std", torch.tensor(PIXEL_STD_BGR).view(1, 3, 1, 1), persistent=False)
        with torch.no_grad():
            self.light_detect.predict.bias.zero_()
            self.light_detect.predict.bias[0] = HEAT_PRIOR_BIAS

    @property
    def guide_channels(self) -> int:
        """Channels of the pose guide this model reads (0: the image alone)."""
        return self.config.guide

    def forward(self, images_bgr: torch.Tensor, guide: torch.Tensor | None = None) -> torch.Tensor:
        x = (images_bgr - self.pixel_mean) / self.pixel_std
        if self.config.guide:
            if guide is None or guide.shape[1] != self.config.guide:
                raise Human3DError(f"this light DensePose model reads a pose guide of {self.config.guide} channels "
                                   "beside the image (run it on the people finder's people)")
            x = torch.cat([x, guide.to(x.dtype)], dim=1)
        features = self.light_decoder(self.light_encoder(x))
        return torch.cat([self.light_detect(features), self.light_dense(features)], dim=1)


def fuse_batch_norms(model: LightDensePose) -> LightDensePose:
    """Fold every (eval-mode) batch norm into its convolution, in place; the outputs do not change."""
    for module in model.modules():
        if isinstance(module, ConvBN) and isinstance(module.bn, nn.BatchNorm2d):
            module.conv = torch.nn.utils.fusion.fuse_conv_bn_eval(module.conv.eval(), module.bn.eval())
            module.bn = nn.Identity()
    return model


def checkpoint_state(model: LightDensePose) -> dict[str, torch.Tensor]:
    """The tensors a checkpoint keeps: the state dict without batch-norm step counters."""
    return {k: v for k, v in model.state_dict().items() if not k.endswith(COUNTER_SUFFIX)}


def is_light_state(state: Mapping[str, object]) -> bool:
    """True when a state dict's names are this model's (every name starts with ``light_``)."""
    return bool(state) and all(name.startswith(KEY_PREFIX) for name in state)


def config_from_state(state: Mapping[str, torch.Tensor]) -> LightConfig:
    """Recover the widths, depths, decoder width and guide channels from the tensor names and shapes."""
    try:
        widths = [int(state["light_encoder.stem.conv.weight"].shape[0])]
        depths = []
        stage = 0
        while f"light_encoder.stages.{stage}.0.pointwise.conv.weight" in state:
            widths.append(int(state[f"light_encoder.stages.{stage}.0.pointwise.conv.weight"].shape[0]))
            depths.append(len({k.split(".")[3] for k in state if k.startswith(f"light_encoder.stages.{stage}.")}))
            stage += 1
        decoder = int(state["light_decoder.context.conv.weight"].shape[0])
        guide = int(state["light_encoder.stem.conv.weight"].shape[1]) - 3
    except KeyError as error:
        raise Human3DError(f"not a light DensePose checkpoint (missing {error.args[0]})") from None
    return LightConfig(tuple(widths), tuple(depths), decoder, guide)


def build_light_densepose(state: Mapping[str, torch.Tensor], source: str = "state dict", fuse: bool = True
                          ) -> LightDensePose:
    """The light model with ``state`` loaded strictly (eval mode, no gradients; norms folded when ``fuse``)."""
    try:
        config = config_from_state(state)
    except Human3DError as error:
        raise Human3DError.for_path(source, str(error)) from None
    model = LightDensePose(config)
    expected = {k: v for k, v in model.state_dict().items() if not k.endswith(COUNTER_SUFFIX)}
    state = {k: v for k, v in state.items() if not k.endswith(COUNTER_SUFFIX)}
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    wrong = [k for k in expected if k in state and tuple(state[k].shape) != tuple(expected[k].shape)]
    for problem, names in (("missing", missing), ("unexpected", unexpected), ("wrong shape for", wrong)):
        if names:
            raise Human3DError.for_path(source, f"does not match the light DensePose model: {len(names)} tensors "
                                                f"{problem} (first: {names[0]})")
    model.load_state_dict({k: torch.as_tensor(state[k]).to(expected[k].dtype) for k in expected}, strict=False)
    model.eval().requires_grad_(False)
    return fuse_batch_norms(model) if fuse else model
