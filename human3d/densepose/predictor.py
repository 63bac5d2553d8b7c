"""The right predictor for a built DensePose model: the R-CNN's, or the light model's (torch or onnxruntime)."""

from __future__ import annotations

from torch import nn

from human3d.errors import Human3DError


def predictor_for(model: nn.Module, device: str = "cpu", min_score: float | None = None, onnx: bool = False):
    """A ``DensePosePredictor`` for an R-CNN, a ``LightDensePosePredictor`` for the light model
    (through onnxruntime when ``onnx``; CPU only). ``min_score`` None keeps each model's default."""
    from human3d.densepose.light import LightDensePose
    from human3d.densepose.light_predictor import LightDensePosePredictor
    from human3d.densepose.predictor import DensePosePredictor

    if not isinstance(model, LightDensePose):
        if onnx:
            raise Human3DError("--onnx runs the light model only (leave out --checkpoint, or pass a light-model .pkl)")
        return DensePosePredictor(model, device, min_score)
    if onnx:
        if device != "cpu":
            raise Human3DError("--onnx runs on the CPU (leave out --device)")
        from human3d.densepose.onnx_export import onnx_predictor

        return onnx_predictor(model, min_score=min_score)
    return LightDensePosePredictor(model, device, min_score)
