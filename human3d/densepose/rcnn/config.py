"""The six supported DensePose R-CNN configurations, their test-time settings, and recognition from a state dict."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

from human3d.errors import Human3DError

MODEL_ZOO_URL = "https://dl.fbaipublicfiles.com/densepose"


@dataclass(frozen=True)
class DensePoseConfig:
    """Architecture and test-time settings of one model-zoo configuration (detectron2 names in comments)."""

    name: str
    depth: int  # ResNet depth: 50 or 101
    decoder: bool  # ROI_DENSEPOSE_HEAD.DECODER_ON
    deeplab_head: bool  # DensePoseDeepLabHead instead of DensePoseV1ConvXHead
    pooler_resolution: int  # ROI_DENSEPOSE_HEAD.POOLER_RESOLUTION
    coarse_channels: int  # NUM_COARSE_SEGM_CHANNELS
    zoo_path: str = ""  # model-zoo file below MODEL_ZOO_URL
    # --- test-time settings shared by all six configs (SPEC section 4) ---
    min_size: int = 800
    max_size: int = 1333
    pixel_mean_bgr: tuple[float, float, float] = (103.530, 116.280, 123.675)
    size_divisibility: int = 32
    anchor_sizes: tuple[int, ...] = (32, 64, 128, 256, 512)
    anchor_ratios: tuple[float, ...] = (0.5, 1.0, 2.0)
    rpn_pre_nms_topk: int = 1000
    rpn_post_nms_topk: int = 1000
    rpn_nms_thresh: float = 0.7
    box_reg_weights: tuple[float, float, float, float] = (10.0, 10.0, 5.0, 5.0)
    score_thresh: float = 0.05
    box_nms_thresh: float = 0.5
    detections_per_image: int = 100
    box_pooler_resolution: int = 7
    pooler_sampling_ratio: int = 2
    pooler_aligned: bool = False
    num_patches: int = 24
    head_channels: int = 512
    head_convs: int = 8
    deeplab_dilations: tuple[int, int, int] = (6, 12, 56)
    scale_clamp: float = math.log(1000.0 / 16)

    @property
    def model_zoo_url(self) -> str:
        """Where the official weights for this configuration are published."""
        return f"{MODEL_ZOO_URL}/{self.zoo_path}"


CONFIGS: dict[str, DensePoseConfig] = {
    c.name: c
    for c in (
        DensePoseConfig("densepose_rcnn_R_50_FPN_s1x", 50, True, False, 28, 2,
                        "densepose_rcnn_R_50_FPN_s1x/165712039/model_final_162be9.pkl"),
        DensePoseConfig("densepose_rcnn_R_50_FPN_s1x_legacy", 50, False, False, 14, 15,
                        "densepose_rcnn_R_50_FPN_s1x_legacy/164832157/model_final_d366fa.pkl"),
        DensePoseConfig("densepose_rcnn_R_101_FPN_s1x", 101, True, False, 28, 2,
                        "densepose_rcnn_R_101_FPN_s1x/165712084/model_final_c6ab63.pkl"),
        DensePoseConfig("densepose_rcnn_R_101_FPN_s1x_legacy", 101, False, False, 14, 15,
                        "densepose_rcnn_R_101_FPN_s1x_legacy/164832182/model_final_10af0e.pkl"),
        DensePoseConfig("densepose_rcnn_R_50_FPN_DL_s1x", 50, True, True, 28, 2,
                        "densepose_rcnn_R_50_FPN_DL_s1x/165712097/model_final_0ed407.pkl"),
        DensePoseConfig("densepose_rcnn_R_101_FPN_DL_s1x", 101, True, True, 28, 2,
                        "densepose_rcnn_R_101_FPN_DL_s1x/165712116/model_final_844d15.pkl"),
    )
}


def get_config(name: str) -> DensePoseConfig:
    """Look a configuration up by name, with or without the ``densepose_rcnn_`` prefix."""
    key = name if name.startswith("densepose_rcnn_") else f"densepose_rcnn_{name}"
    if key not in CONFIGS:
        known = ", ".join(n.removeprefix("densepose_rcnn_") for n in CONFIGS)
        raise Human3DError(f"unknown DensePose config {name!r} (known: {known})")
    return CONFIGS[key]


_COARSE = "roi_heads.densepose_predictor.ann_index_lowres.weight"


def recognize_config(shapes: Mapping[str, Sequence[int]]) -> DensePoseConfig:
    """Tell the configuration from a state dict's names and shapes (name -> shape).

    ResNet-101 has a 23-block res4; the legacy models have no decoder and 15 coarse channels;
    the DeepLab models have an ASPP module in the DensePose head. Raises ``Human3DError`` when
    the names are not those of a DensePose R-CNN.
    """
    if _COARSE not in shapes or "backbone.bottom_up.stem.conv1.weight" not in shapes:
        raise Human3DError("not a DensePose R-CNN checkpoint (no DensePose predictor / ResNet stem weights)")
    depth = 101 if "backbone.bottom_up.res4.22.conv1.weight" in shapes else 50
    decoder = "roi_heads.decoder.predictor.weight" in shapes
    deeplab = any(k.startswith("roi_heads.densepose_head.ASPP.") for k in shapes)
    coarse = int(shapes[_COARSE][1])
    for config in CONFIGS.values():
        if ((config.depth, config.decoder, config.deeplab_head, config.coarse_channels)
                == (depth, decoder, deeplab, coarse)):
            return config
    raise Human3DError(
        f"unsupported DensePose variant (ResNet-{depth}, decoder={decoder}, DeepLab head={deeplab}, "
        f"{coarse} coarse channels); pass --config to force one"
    )
