"""How far each of a person's COCO-17 keypoints lies in front of or behind their hips, lifted by a small network.

BlazePose's relative depths are a weak cue: on rendered people they are about 3 times too deep, lean the body
toward the camera, and from the side or behind they are poor. The lifter reads what BlazePose says of a person,
their 17 keypoints' pixels (relative to the hips, in box heights), visibilities and relative depths, and returns
each keypoint's depth relative to the hips' midpoint, in pixels at the person's scale (+ away from the camera),
as :class:`human3d.fit.body_fit.BodyFitter` matches them (``landmark_depth_scale`` 1). It is trained on the data
engine's renders (``human3d train depth-lifter``, :mod:`human3d.fit.depth_lifter_training`), where the true depths
are known, each also shown mirrored left to right (:func:`mirrored_keypoints`: the same depths, sides exchanged).

Build once, query many: :func:`build_depth_lifter` reads a checkpoint and returns a plain module;
:func:`lifted_depths` answers for one person.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from human3d.errors import Human3DError
from human3d.people.landmarks import MIRRORED_COCO17

FORMAT = "human3d-depth-lifter"
VERSION = 1
KEYPOINTS = 17
HIPS = (11, 12)
FEATURES = 4 * KEYPOINTS  # x and y relative to the hips, visibility, BlazePose's depth


@dataclass(frozen=True)
class LifterOptions:
    """The network's size: two hidden layers of ``width`` units, dropout ``dropout`` while training."""

    width: int = 512
    dropout: float = 0.2


class DepthLifter(nn.Module):
    """A multilayer perceptron from :func:`lifter_features` [N, 68] to depths in box heights [N, 17]."""

    def __init__(self, options: LifterOptions = LifterOptions()) -> None:
        super().__init__()
        self.options = options
        width = options.width
        self.layers = nn.Sequential(nn.Linear(FEATURES, width), nn.ReLU(), nn.Dropout(options.dropout),
                                    nn.Linear(width, width), nn.ReLU(), nn.Dropout(options.dropout),
                                    nn.Linear(width, KEYPOINTS))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Each keypoint's depth relative to the hips, in box heights [N, 17]."""
        return self.layers(features)


def lifter_features(pixels: np.ndarray, visibility: np.ndarray, depths: np.ndarray, scale: np.ndarray
                    ) -> torch.Tensor:
    """The lifter's input [N, 68] from BlazePose's COCO-17 ``pixels`` [N, 17, 2], ``visibility`` [N, 17] (0 to 1),
    relative ``depths`` [N, 17] (pixels) and the people's box heights ``scale`` [N] (pixels): pixels relative to
    the hips' midpoint and depths in box heights; a keypoint not seen (visibility 0) gives zeros."""
    pixels, visibility, depths, scale = (torch.as_tensor(np.asarray(a, dtype=np.float32))
                                         for a in (pixels, visibility, depths, scale))
    seen = (visibility > 0).to(pixels.dtype)
    hips = pixels[:, list(HIPS)].mean(dim=1, keepdim=True)
    placed = (pixels - hips) / scale[:, None, None] * seen[..., None]
    return torch.cat([placed.flatten(1), visibility, depths / scale[:, None] * seen], dim=1)


def mirrored_keypoints(pixels: np.ndarray, visibility: np.ndarray, depths: np.ndarray, width: float
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The same people in the image mirrored left to right (``width`` pixels wide): sides exchanged, columns
    flipped, depths unchanged. Arrays as :func:`lifter_features`' (leading axis N)."""
    order = list(MIRRORED_COCO17)
    flipped = np.array(pixels[:, order], dtype=np.float32)
    flipped[..., 0] = width - flipped[..., 0]
    return flipped, np.asarray(visibility)[:, order], np.asarray(depths)[:, order]


def lifted_depths(lifter: DepthLifter, pixels: np.ndarray, visibility: np.ndarray, depths: np.ndarray,
                  scale: float) -> np.ndarray:
    """One person's keypoint depths (17,) relative to their hips, in pixels (+ away from the camera), from
    BlazePose's COCO-17 ``pixels`` (17, 2), ``visibility`` (17,) and relative ``depths`` (17,); ``scale``: the
    person's box height in pixels."""
    with torch.inference_mode():
        lifted = lifter(lifter_features(pixels[None], visibility[None], depths[None], np.array([scale])))
    return lifted[0].numpy() * np.float32(scale)


def save_depth_lifter(lifter: DepthLifter, path: str | Path, trained: dict) -> None:
    """Write ``lifter`` as a checkpoint that describes itself: format, version, options, weights, and
    ``trained`` (how it was trained: data, steps, scores)."""
    torch.save({"format": FORMAT, "version": VERSION, "options": asdict(lifter.options),
                "model": lifter.state_dict(), "trained": trained}, Path(path))


def build_depth_lifter(path: str | Path) -> DepthLifter:
    """The lifter stored at ``path`` (:func:`save_depth_lifter`), in evaluation mode; a one-line error naming the
    file when it is missing, not a checkpoint or another model's."""
    path = Path(path)
    if not path.is_file():
        raise Human3DError.for_path(path, "no such depth-lifter checkpoint")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many kinds for a file that is not its own
        raise Human3DError.for_path(path, f"not a readable checkpoint ({type(error).__name__})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise Human3DError.for_path(path, f"not a {FORMAT} checkpoint")
    if data.get("version") != VERSION:
        raise Human3DError.for_path(path, f"{FORMAT} version {data.get('version')} (this human3d reads {VERSION})")
    lifter = DepthLifter(LifterOptions(**data["options"]))
    try:
        lifter.load_state_dict(data["model"])
    except RuntimeError:
        raise Human3DError.for_path(path, "weights do not match the network its options describe") from None
    return lifter.eval()


@functools.lru_cache(maxsize=1)
def default_depth_lifter() -> DepthLifter:
    """The bundled lifter (weights registry: ``human3d_depth_lifter``), built on first use."""
    from human3d.weights.registry import get_weights

    return build_depth_lifter(get_weights("human3d_depth_lifter").path)
