"""DensePose R-CNN assembled from its parts, and :func:`build_rcnn` to load a model-zoo checkpoint."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import torch
from torch import nn

from human3d.densepose.rcnn.backbone import FPN
from human3d.densepose.rcnn.chart_predictor import ChartOutput
from human3d.densepose.rcnn.config import DensePoseConfig, get_config, recognize_config
from human3d.densepose.rcnn.roi_heads import ROIHeads
from human3d.densepose.rcnn.rpn import RPN
from human3d.errors import Human3DError

_IGNORED_EXTRA = ("pixel_mean", "pixel_std", "proposal_generator.anchor_generator.")


@dataclass
class RawOutput:
    """One image's network output in resized-image pixels: boxes (N, 4), scores (N,), charts (N, C, S, S)."""

    boxes: torch.Tensor
    scores: torch.Tensor
    charts: ChartOutput


class DensePoseRCNN(nn.Module):
    """Backbone + FPN, RPN, box head and DensePose branch; module names are detectron2's."""

    def __init__(self, config: DensePoseConfig) -> None:
        super().__init__()
        self.config = config
        self.backbone = FPN(config.depth)
        self.proposal_generator = RPN(config)
        self.roi_heads = ROIHeads(config)
        self.register_buffer("pixel_mean", torch.tensor(config.pixel_mean_bgr).view(3, 1, 1), persistent=False)

    def normalize(self, images: list[torch.Tensor]) -> tuple[torch.Tensor, list[tuple[int, int]]]:
        """uint8/float BGR images (3, H, W) -> mean-subtracted batch zero-padded to a multiple of 32, sizes."""
        sizes = [(int(im.shape[1]), int(im.shape[2])) for im in images]
        div = self.config.size_divisibility
        height = -(-max(h for h, _ in sizes) // div) * div
        width = -(-max(w for _, w in sizes) // div) * div
        batch = self.pixel_mean.new_zeros((len(images), 3, height, width))
        for i, image in enumerate(images):
            batch[i, :, : sizes[i][0], : sizes[i][1]] = image.to(self.pixel_mean) - self.pixel_mean
        return batch, sizes

    def forward(self, batch: torch.Tensor, image_sizes: list[tuple[int, int]]) -> list[RawOutput]:
        """One pass over a normalised batch: detections and their charts for every image."""
        features = self.backbone(batch)
        proposals = [boxes for boxes, _ in self.proposal_generator(features, image_sizes)]
        detections = self.roi_heads.detect(features, proposals, image_sizes)
        boxes = [d.boxes for d in detections]
        if sum(len(b) for b in boxes) == 0:
            empty = batch.new_zeros((0, 1, 1, 1))
            charts = ChartOutput(empty, empty, empty, empty)
            return [RawOutput(d.boxes, d.scores, charts) for d in detections]
        charts = self.roi_heads.densepose(features, boxes)
        parts = [charts.map(lambda t, s=s: t[s]) for s in _slices([len(b) for b in boxes])]
        return [RawOutput(d.boxes, d.scores, c) for d, c in zip(detections, parts)]


def _slices(counts: list[int]) -> list[slice]:
    starts = [sum(counts[:i]) for i in range(len(counts))]
    return [slice(s, s + c) for s, c in zip(starts, counts)]


def load_weights(model: DensePoseRCNN, state: Mapping[str, torch.Tensor], source: str = "checkpoint",
                 strict: bool = True) -> list[str]:
    """Copy ``state`` into ``model`` by name and shape; returns the names of the model left as they were.

    Frozen batch norm statistics absent from the file default to mean 0, variance 1 (detectron2's
    rule for numpy checkpoints); ``pixel_mean``/``pixel_std``/anchor buffers are ignored. Strict: any
    missing, unexpected or wrongly shaped tensor is an error. Not strict (fine-tuning from another
    variant): only the tensors whose name and shape match are loaded.
    """
    expected = model.state_dict()
    state = {k: v for k, v in state.items() if not k.startswith(_IGNORED_EXTRA)}
    for name in expected:
        if name not in state and name.startswith("backbone.bottom_up.") and name.endswith(".norm.running_mean"):
            state[name] = torch.zeros_like(expected[name])
        elif name not in state and name.startswith("backbone.bottom_up.") and name.endswith(".norm.running_var"):
            state[name] = torch.ones_like(expected[name])
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    wrong = [k for k in expected if k in state and tuple(state[k].shape) != tuple(expected[k].shape)]
    if not strict:
        usable = {k: v for k, v in state.items() if k in expected and k not in wrong}
        model.load_state_dict(usable, strict=False)
        return [k for k in expected if k not in usable]
    for problem, names in (("missing", missing), ("unexpected", unexpected), ("wrong shape for", wrong)):
        if names:
            raise Human3DError.for_path(source, f"does not match {model.config.name}: {len(names)} tensors "
                                                f"{problem} (first: {names[0]})")
    model.load_state_dict(state, strict=True)
    return []


def build_rcnn(state: Mapping[str, torch.Tensor], config: str | DensePoseConfig | None = None,
               source: str = "state dict") -> DensePoseRCNN:
    """DensePose R-CNN with a model-zoo state dict loaded strictly, in eval mode without gradients.

    ``config`` (a name or a :class:`DensePoseConfig`) is recognised from the tensor shapes when None;
    ``source`` names the checkpoint in error messages. Checkpoint files are read (and light-model
    checkpoints told apart) by :func:`human3d.densepose.predictor.build_densepose`.
    """
    if config is None:
        try:
            config = recognize_config({k: tuple(v.shape) for k, v in state.items()})
        except Human3DError as error:
            raise Human3DError.for_path(source, str(error)) from None
    elif isinstance(config, str):
        config = get_config(config)
    model = DensePoseRCNN(config)
    load_weights(model, state, source)
    return model.eval().requires_grad_(False)
