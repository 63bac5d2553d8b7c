"""The light DensePose network as ONNX, and an onnxruntime session standing in for the torch network.

Only the network (BGR image batch, and a guided model's pose guides -> stride-4 maps; batch, height and
width dynamic, batch norms folded) goes to ONNX; the decoding stays the same torch code for both back ends
(:class:`human3d.densepose.light.predictor.LightDensePosePredictor` and
:class:`human3d.densepose.light.person_crops.PersonCropPredictor` take either). onnxruntime is the light
model's default back end on the CPU: on one 256-pixel crop and one thread of an Intel Xeon it takes 10.9 ms
where torch takes 16.3 ms. Each model is exported once per machine (:func:`onnx_network`), into
``$HUMAN3D_CACHE/onnx`` under a digest of its weights and of the code that defines it.
"""

from __future__ import annotations

import hashlib
import inspect
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from human3d.densepose.light.model import LightDensePose
from human3d.errors import Human3DError
from human3d.io.atomic import atomic_path
from human3d.io.cache import cache_dir

INPUT_NAME, GUIDE_NAME, OUTPUT_NAME = "images_bgr", "guide", "maps"
OPSET = 17


def export_onnx(model: LightDensePose, path: str | Path, example_hw: tuple[int, int] = (256, 320)) -> Path:
    """Write ``model`` (eval mode) as an ONNX file; returns the path. Batch, height and width stay dynamic."""
    model = model.eval()
    examples = (torch.zeros((1, 3, *example_hw)),)
    names = [INPUT_NAME]
    if model.guide_channels:
        examples += (torch.zeros((1, model.guide_channels, *example_hw)),)
        names.append(GUIDE_NAME)
    axes = {0: "batch", 2: "height", 3: "width"}
    with atomic_path(path) as temporary, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(model, examples, str(temporary), dynamo=False, opset_version=OPSET,
                          input_names=names, output_names=[OUTPUT_NAME],
                          dynamic_axes={**{name: axes for name in names}, OUTPUT_NAME: axes})
    return Path(path)


class OnnxLightNetwork:
    """An onnxruntime session (CPU) standing in for the torch network: float batch (and pose guides) in,
    maps out. ``threads``: onnxruntime's threads; None follows torch's thread count at each call, as the
    torch network does (a video's network keeps to one thread while the people finder runs beside it; one
    session is made per thread count used)."""

    def __init__(self, path: str | Path, threads: int | None = None) -> None:
        import onnxruntime

        self.runtime, self.path, self.threads = onnxruntime, Path(path), threads
        try:
            self.model = self.path.read_bytes()
        except OSError as error:
            raise Human3DError.for_path(path, f"cannot be read ({error.strerror or error})") from None
        self.sessions: dict[int, Any] = {}
        guide = [i for i in self.session().get_inputs() if i.name == GUIDE_NAME]
        self.guide_channels = int(guide[0].shape[1]) if guide else 0

    def session(self) -> Any:
        """The session for this call's thread count (made on first use)."""
        threads = self.threads or torch.get_num_threads()
        if threads not in self.sessions:
            options = self.runtime.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            # idle threads sleep instead of spinning: spinning ones slowed the torch decoding that follows
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            try:
                self.sessions[threads] = self.runtime.InferenceSession(self.model, options,
                                                                       providers=["CPUExecutionProvider"])
            except Exception as error:  # onnxruntime raises its own exception types for bad files
                raise Human3DError.for_path(self.path, f"not a loadable ONNX model ({type(error).__name__})") from None
        return self.sessions[threads]

    def __call__(self, batch: torch.Tensor, guide: torch.Tensor | None = None) -> torch.Tensor:
        feeds = {INPUT_NAME: batch}
        if self.guide_channels:
            if guide is None:
                raise Human3DError("this light DensePose model reads a pose guide beside the image "
                                   "(run it on the people finder's people)")
            feeds[GUIDE_NAME] = guide
        arrays = {name: np.ascontiguousarray(x.detach().float().cpu().numpy()) for name, x in feeds.items()}
        return torch.from_numpy(self.session().run([OUTPUT_NAME], arrays)[0])


def model_digest(model: LightDensePose) -> str:
    """A digest of what the exported graph depends on: the model's tensors, the code of its module, torch's
    version and the opset (16 hex digits)."""
    digest = hashlib.sha256(f"{torch.__version__} opset {OPSET}".encode())
    digest.update(inspect.getsource(sys.modules[type(model).__module__]).encode())
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def onnx_network(model: LightDensePose, threads: int | None = None) -> OnnxLightNetwork:
    """``model`` on onnxruntime: exported on first use into ``$HUMAN3D_CACHE/onnx`` (by :func:`model_digest`),
    read from there afterwards; where the cache cannot be written, exported for this run only."""
    path = cache_dir("onnx") / f"light_densepose_{model_digest(model)}.onnx"
    if not path.exists():
        try:
            export_onnx(model, path)
        except OSError:  # a read-only home, a cache path that is a file: a temporary export (the bytes are read)
            with tempfile.TemporaryDirectory(prefix="human3d_onnx_") as folder:
                return OnnxLightNetwork(export_onnx(model, Path(folder) / path.name), threads)
    return OnnxLightNetwork(path, threads)
