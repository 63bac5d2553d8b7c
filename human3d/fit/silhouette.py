"""The person's mask as a fitting term: points spread over anny's skin must project inside it.

A clothed person's mask holds their body, so the term is one-sided: a skin point that projects outside
the mask costs its distance to the mask (in box heights, robustly), a point inside costs nothing, and a
point outside the image costs nothing (the mask is unknown there). Pure functions: the points
(:func:`outline_vertices`), the distance maps of masks (:func:`mask_maps`) and their bilinear lookup
for a batch of fits (:func:`outside_cost`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy import ndimage

from human3d.fit.camera import box_scale


def outline_vertices(template: np.ndarray, candidates: np.ndarray, count: int) -> np.ndarray:
    """``count`` indices of ``candidates`` (vertex indices into ``template`` [V, 3]) spread evenly over the
    body: farthest-point sampling from the first candidate (deterministic)."""
    points = template[candidates]
    chosen = [0]
    distance = np.linalg.norm(points - points[0], axis=1)
    for _ in range(count - 1):
        chosen.append(int(distance.argmax()))
        distance = np.minimum(distance, np.linalg.norm(points - points[chosen[-1]], axis=1))
    return candidates[np.array(chosen)]


@dataclass
class MaskMaps:
    """Distance-to-mask maps of several people (:func:`outside_distance`), each over a window around the
    person, padded to one size: ``maps`` [P, H, W], ``origins`` [P, 2] (each window's top-left pixel, x, y)
    and the image's ``width`` and ``height``."""

    maps: torch.Tensor
    origins: torch.Tensor
    width: int
    height: int


def outside_distance(mask: np.ndarray, scale: float) -> np.ndarray:
    """Per pixel, the distance to the nearest pixel of ``mask`` (bool [H, W]) in units of ``scale`` pixels
    (0 inside; float32); all zeros for an empty mask (no term)."""
    if not mask.any():
        return np.zeros(mask.shape, dtype=np.float32)
    return (ndimage.distance_transform_edt(~mask) / scale).astype(np.float32)


def mask_maps(masks: list[np.ndarray], boxes: list[np.ndarray], margin: float = 0.5,
              device: torch.device | str = "cpu") -> MaskMaps:
    """The :class:`MaskMaps` of people's masks (bool [H, W], the whole image) and boxes (x1, y1, x2, y2): each
    map covers the box grown by ``margin`` of its size on every side, in units of the box's height."""
    height, width = masks[0].shape
    windows, origins = [], []
    for mask, box in zip(masks, boxes):
        x1, y1, x2, y2 = box
        grow_x, grow_y = margin * (x2 - x1), margin * (y2 - y1)
        left, top = int(max(0, np.floor(x1 - grow_x))), int(max(0, np.floor(y1 - grow_y)))
        right, bottom = int(min(width, np.ceil(x2 + grow_x))), int(min(height, np.ceil(y2 + grow_y)))
        right, bottom = max(right, left + 2), max(bottom, top + 2)
        windows.append(outside_distance(mask[top:bottom, left:right], box_scale(box)))
        origins.append((left, top))
    size = max(w.shape[0] for w in windows), max(w.shape[1] for w in windows)
    padded = [np.pad(w, ((0, size[0] - w.shape[0]), (0, size[1] - w.shape[1])), mode="edge") for w in windows]
    return MaskMaps(torch.tensor(np.array(padded), device=device),
                    torch.tensor(origins, dtype=torch.float32, device=device), width, height)


def outside_cost(maps: MaskMaps, people: torch.Tensor, pixels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Distances to the mask [N, P] of ``pixels`` [N, P, 2] (x, y; pixel i spans [i, i + 1)), person
    ``people`` [N] each (bilinear; beyond a person's window, the window's border), and whether each pixel
    lies in the image [N, P]."""
    x, y = pixels[..., 0], pixels[..., 1]
    inside = (x >= 0) & (x <= maps.width) & (y >= 0) & (y <= maps.height)
    local = pixels - maps.origins[people][:, None].to(pixels.dtype)
    return sample_maps(maps.maps, people, local), inside


def sample_maps(maps: torch.Tensor, rows: torch.Tensor, pixels: torch.Tensor) -> torch.Tensor:
    """Bilinear values [N, P] of maps [C, H, W] at ``pixels`` [N, P, 2] (x, y; pixel i spans [i, i + 1)), map
    ``rows`` [N] each; beyond a map's edge, the edge's value."""
    height, width = maps.shape[1:]
    x, y = (pixels[..., 0] - 0.5).clamp(0, width - 1), (pixels[..., 1] - 0.5).clamp(0, height - 1)
    x0, y0 = x.detach().floor().clamp(max=width - 2), y.detach().floor().clamp(max=height - 2)
    fx, fy = x - x0, y - y0
    flat = maps.reshape(-1).to(x.dtype)
    base = rows[:, None] * (height * width) + y0.long() * width + x0.long()
    return ((1 - fy) * ((1 - fx) * flat[base] + fx * flat[base + 1])
            + fy * ((1 - fx) * flat[base + width] + fx * flat[base + width + 1]))
