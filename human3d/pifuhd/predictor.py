"""Encode an image once, then answer many occupancy / normal queries against the cached features."""

from __future__ import annotations

import contextlib
from typing import Callable

import numpy as np
import torch

from human3d.errors import Human3DError
from human3d.nn.conv import winograd_available
from human3d.pifuhd.body_guide import BodyGuide
from human3d.pifuhd.folded import FoldedOccupancy, can_fold
from human3d.pifuhd.model import PifuhdFeatures, PifuhdNet

PRECISIONS = ("fp32", "bf16")  # of the encode (normal generators and image filters); the queries stay float32
DEFAULT_BATCH = 50_000
FOLDED_BATCH = 16_384  # folded queries have no batch-dependent layer; this size keeps the GEMMs in cache


class PifuhdPredictor:
    """Holds a built network on a device and the features of the last encoded image.

    On CPU the 3x3 convolutions of both hourglass filters and of the normal generators' residual blocks
    run as NNPACK's Winograd kernel (:func:`human3d.nn.conv.conv2d`), which wants the default (NCHW)
    layout; without it the hourglass filters run in channels-last, oneDNN's fastest layout for them.
    ``precision="bf16"`` runs the encode under bfloat16 autocast: about 2.5x faster where the CPU multiplies
    bfloat16 natively (AVX512_BF16 or AMX), slower elsewhere; with trained weights the mesh stays within
    about half a voxel of float32's (``docs/results/2026-12-05-pifuhd-encode-speed.md``).
    """

    def __init__(self, model: PifuhdNet, device: str | torch.device = "cpu", batch_size: int = DEFAULT_BATCH,
                 precision: str = "fp32") -> None:
        if precision not in PRECISIONS:
            raise Human3DError(f"unknown precision {precision!r} (choose from {', '.join(PRECISIONS)})")
        self.device, self.precision = torch.device(device), precision
        self.model = model.to(self.device).eval()
        if not (self.device.type == "cpu" and winograd_available()):
            for image_filter in (self.model.image_filter, self.model.netG.image_filter):
                image_filter.to(memory_format=torch.channels_last)
        self.batch_size = batch_size
        self._features: PifuhdFeatures | None = None
        self._folded: FoldedOccupancy | None = None

    @torch.inference_mode()
    def encode(self, image_512: np.ndarray, image_1024: np.ndarray, body: BodyGuide | None = None) -> None:
        """Run the normal generators and both image filters on normalised [1, 3, S, S] inputs (under bfloat16
        autocast with ``precision="bf16"``; the features are kept in float32 either way); body-guided weights
        need the person's ``body`` (:mod:`human3d.pifuhd.body_guide`), kept for the queries."""
        to = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)).to(self.device)  # noqa: E731
        autocast = (torch.autocast(self.device.type, dtype=torch.bfloat16) if self.precision == "bf16"
                    else contextlib.nullcontext())
        with autocast:
            features = self.model.encode(to(image_512), to(image_1024), body)
        as_float = lambda t: None if t is None else t.float()  # noqa: E731
        self._features = PifuhdFeatures(as_float(features.coarse), as_float(features.fine),
                                        as_float(features.normal_front), as_float(features.normal_back), body)
        self._folded = FoldedOccupancy(self.model, self._features) if can_fold(self.model) else None

    @property
    def features(self) -> PifuhdFeatures:
        """The cached features (``encode`` first)."""
        if self._features is None:
            raise RuntimeError("encode an image before querying")
        return self._features

    def normal_maps(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Front and back normal maps as float32 [3, H, W] (exactly the generators' output)."""
        as_array = lambda t: None if t is None else t[0].float().cpu().numpy()  # noqa: E731
        return as_array(self.features.normal_front), as_array(self.features.normal_back)

    @torch.inference_mode()
    def _batched(
        self, points: np.ndarray, function: Callable[[torch.Tensor], torch.Tensor], batch_size: int | None = None
    ) -> np.ndarray:
        batch_size = batch_size or self.batch_size
        outputs = []
        for start in range(0, len(points), batch_size):
            chunk = torch.from_numpy(np.ascontiguousarray(points[start : start + batch_size], dtype=np.float32))
            outputs.append(function(chunk.to(self.device).T.unsqueeze(0))[0].T.float().cpu().numpy())
        return np.concatenate(outputs) if outputs else np.zeros((0,), np.float32)

    def occupancy(self, points: np.ndarray) -> np.ndarray:
        """Fine-level occupancy float32 [N] at world points [N, 3] (the surface is its 0.5 level)."""
        return self._batched(points, lambda p: self.model.query(self.features, p)[0])[:, 0]

    def surface_occupancy(self, points: np.ndarray) -> np.ndarray:
        """:meth:`occupancy` for surface extraction: the folded fast path where the checkpoint allows it.

        Equal to :meth:`occupancy` up to float rounding (see :mod:`human3d.pifuhd.folded`).
        """
        if self._folded is None:
            return self.occupancy(points)
        return self._batched(points, self._folded, FOLDED_BATCH)[:, 0]

    def query(self, points: np.ndarray) -> dict[str, np.ndarray]:
        """Fine and coarse occupancy [N] and phi [N, C] at world points [N, 3]."""
        joined = self._batched(points, lambda p: torch.cat(self.model.query(self.features, p), 1))
        return {"fine": joined[:, 0], "coarse": joined[:, 1], "phi": joined[:, 2:]}

    def surface_normals(self, points: np.ndarray) -> np.ndarray:
        """Unit normals [N, 3] from forward differences of the fine occupancy (outward)."""
        return self._batched(points, lambda p: self.model.surface_normals(self.features, p))
