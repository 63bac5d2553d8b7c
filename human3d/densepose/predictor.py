"""The DensePose predictor protocol and the factories behind it: checkpoint -> model -> predictor.

Every model's predictor implements :class:`DensePosePredictor`: the R-CNN's
(:class:`human3d.densepose.rcnn.predictor.RCNNDensePosePredictor`) and the light model's, on onnxruntime
(the default on the CPU: :func:`human3d.densepose.light.onnx.onnx_network`) or torch: on the people finder's people
(:class:`human3d.densepose.light.person_crops.PersonCropPredictor`, the default of ``human3d densepose``)
or on the people the network finds itself
(:class:`human3d.densepose.light.predictor.LightDensePosePredictor`). All return
:class:`human3d.densepose.result.DensePoseResult`.

Importing this module does not import torch; the factories import the models when called.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable, Mapping, Protocol, Sequence, runtime_checkable

import numpy as np

from human3d.errors import Human3DError

if TYPE_CHECKING:
    import torch
    from torch import nn

    from human3d.densepose.light.model import LightDensePose
    from human3d.densepose.light.onnx import OnnxLightNetwork
    from human3d.densepose.light.person_crops import PeopleSource
    from human3d.densepose.rcnn.config import DensePoseConfig
    from human3d.densepose.rcnn.model import DensePoseRCNN
    from human3d.densepose.result import DensePoseResult


BACKENDS = ("auto", "torch", "onnxruntime")
"""Where the light model's network runs (:func:`predictor_for`)."""


@runtime_checkable
class DensePosePredictor(Protocol):
    """What callers use of any DensePose predictor: BGR uint8 images in, one result per image out.

    ``predict`` runs one forward pass for the whole batch; ``__call__`` predicts one image. Results
    are in input-image pixels. ``device`` is where the network runs.
    """

    device: torch.device

    def predict(self, images_bgr: Sequence[np.ndarray]) -> list[DensePoseResult]:
        """One :class:`DensePoseResult` per image, in input pixels."""
        ...

    def __call__(self, image_bgr: np.ndarray) -> DensePoseResult:
        """Predict one image."""
        ...


def build_densepose(checkpoint: str | Path | Mapping[str, torch.Tensor], config: str | DensePoseConfig | None = None
                    ) -> DensePoseRCNN | LightDensePose:
    """Read a model-zoo ``.pkl`` (or a state dict), recognise or take its config, return the model in eval mode.

    A checkpoint of the light model (:mod:`human3d.densepose.light.model`) is recognised by its names and
    gives a :class:`LightDensePose` instead (``config`` does not apply to it).
    """
    from human3d.densepose.light.model import build_light_densepose, is_light_state
    from human3d.densepose.rcnn.checkpoint import read_state_dict
    from human3d.densepose.rcnn.model import build_rcnn

    source = "state dict" if isinstance(checkpoint, Mapping) else str(checkpoint)
    state = dict(checkpoint) if isinstance(checkpoint, Mapping) else read_state_dict(checkpoint)
    if is_light_state(state):  # human3d's light single-stage model (its own names), ``config`` does not apply
        return build_light_densepose(state, source)
    return build_rcnn(state, config, source)


def light_weights(people_finder: bool, checkpoint: str | Path | None = None) -> Path:
    """The light DensePose weights to load: ``checkpoint`` when given, else the bundled people model (on the
    people finder's people, ``densepose-light-people``) or the network-alone model (``densepose-light``)."""
    from human3d.weights.resolve import resolve_weights

    return resolve_weights("densepose-light-people" if people_finder else "densepose-light", checkpoint)


def check_backend(backend: str) -> None:
    """Raise :class:`Human3DError` (one line) unless ``backend`` is one of :data:`BACKENDS`."""
    if backend not in BACKENDS:
        raise Human3DError(f"unknown back end {backend!r} (choose from {', '.join(BACKENDS)})")


def predictor_for(model: nn.Module, device: str = "cpu", min_score: float | None = None,
                  backend: str = "auto", precision: str | None = None, finder: PeopleSource | None = None
                  ) -> DensePosePredictor:
    """An ``RCNNDensePosePredictor`` for an R-CNN; for the light model a ``PersonCropPredictor`` on the people
    ``finder`` finds when one is given (anything with the finder's ``find``, e.g. a
    :class:`human3d.people.following.PeopleFollower`), else a ``LightDensePosePredictor`` (the network finds
    the people itself). ``backend`` (:data:`BACKENDS`): where the light model's network runs; ``auto`` is
    onnxruntime on the CPU and torch elsewhere (an R-CNN always runs on torch). ``min_score`` None keeps each
    model's default (the network's own people only); ``precision`` (R-CNN only: ``fp32``, ``bf16-head`` or ``bf16``)
    None picks the best the device supports."""
    from human3d.densepose.light.model import LightDensePose
    from human3d.densepose.light.person_crops import PersonCropPredictor
    from human3d.densepose.light.predictor import LightDensePosePredictor
    from human3d.densepose.rcnn.predictor import RCNNDensePosePredictor

    check_backend(backend)
    if not isinstance(model, LightDensePose):
        if backend == "onnxruntime":
            raise Human3DError("--backend onnxruntime runs the light model only (leave out --checkpoint, "
                               "or pass a light-model .pkl)")
        return RCNNDensePosePredictor(model, device, min_score, precision=precision)
    if precision is not None:
        raise Human3DError("--precision applies to DensePose R-CNN checkpoints, not to the light model")
    if finder is None and model.guide_channels:
        raise Human3DError("this light DensePose model reads the people finder's poses: it cannot run without "
                           "the people finder (leave out --no-people-finder, or pass the network-alone model)")
    network = light_network(model, device, backend)
    if finder is not None:
        return PersonCropPredictor(network, finder, device)
    return LightDensePosePredictor(network, device, min_score)


def light_network(model: LightDensePose, device: str = "cpu", backend: str = "auto"
                  ) -> LightDensePose | OnnxLightNetwork:
    """The light ``model``'s network as ``backend`` (:data:`BACKENDS`) runs it: the torch model itself, or an
    onnxruntime session (``auto`` on the CPU; exported once per machine,
    :func:`human3d.densepose.light.onnx.onnx_network`)."""
    check_backend(backend)
    import torch

    on_cpu = torch.device(device).type == "cpu"
    if backend == "onnxruntime" and not on_cpu:
        raise Human3DError("--backend onnxruntime runs on the CPU (leave out --device)")
    if backend == "torch" or not on_cpu:
        return model
    from human3d.densepose.light.onnx import onnx_network

    return onnx_network(model)


def densepose_predictor(checkpoint: str | Path | Mapping[str, torch.Tensor] | None = None, *,
                        config: str | DensePoseConfig | None = None, device: str = "cpu",
                        min_score: float | None = None, backend: str = "auto", precision: str | None = None,
                        finder: PeopleSource | Callable[[], PeopleSource] | None = None) -> DensePosePredictor:
    """A ready predictor: :func:`build_densepose` of ``checkpoint`` (default: the bundled light weights, as
    ``human3d densepose`` uses: the people model with a ``finder``, the network alone without), then
    :func:`predictor_for`. ``finder``: see there; or a function that builds one, called only when the
    checkpoint is a light model's (an R-CNN finds its people itself, so no finder is loaded for it).

    Raises :class:`Human3DError` (one line) when ``checkpoint`` is None and the bundled weights are missing.
    """
    from human3d.densepose.light.model import LightDensePose

    if checkpoint is None:
        checkpoint = light_weights(finder is not None)
    model = build_densepose(checkpoint, config)
    if finder is not None and not hasattr(finder, "find"):
        finder = finder() if isinstance(model, LightDensePose) else None
    return predictor_for(model, device, min_score, backend, precision, finder)
