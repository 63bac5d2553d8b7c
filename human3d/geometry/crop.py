"""The person crop and its frame: one rectangle type, shared by inference, training and evaluation.

A :class:`Crop` is a rectangle of image pixels given by its centre and size, in pixel-edge
coordinates (pixel (col, row) covers [col, col + 1) x [row, row + 1)). The official PIFuHD rects
``x y w h`` (keypoint rule, ``<name>_rect.txt`` files, the mask rule) are integer rects of this
kind: :meth:`Crop.from_xywh` and :attr:`Crop.xywh` convert exactly. Training jitters a crop's
centre and side by fractions of a pixel, which the centre form keeps without rounding.

The crop frame: x right, y up, z toward the camera; the rect spans x, y in [-1, 1]; z has x's
scale and z = 0 lies at a chosen depth (:func:`depth_origin`). The whole image's frame
(``pifu_calib`` of an orthographic sample camera) is the same with the whole image as the rect.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from human3d.errors import Human3DError

MASK_MARGIN = 0.6  # half-side of the square crop per unit of the mask's larger extent
MIN_FOREGROUND_FRACTION = 0.10  # the mask's bounding box must span this much of the image height


@dataclass(frozen=True)
class Crop:
    """A rectangle of an image in pixels: centre (``cx``, ``cy``) and size (``width``, ``height``)."""

    cx: float
    cy: float
    width: float
    height: float

    @classmethod
    def from_xywh(cls, x: float, y: float, w: float, h: float) -> "Crop":
        """From the official rect: top-left corner (``x``, ``y``) and size (``w``, ``h``)."""
        return cls(x + w / 2, y + h / 2, float(w), float(h))

    @classmethod
    def square(cls, cx: float, cy: float, side: float) -> "Crop":
        """A square of ``side`` pixels centred on (``cx``, ``cy``)."""
        return cls(float(cx), float(cy), float(side), float(side))

    @classmethod
    def whole_image(cls, width: int, height: int) -> "Crop":
        """The centred square of the image's larger side (integer corner, as the official code pads)."""
        side = max(width, height)
        return cls.from_xywh((width - side) // 2, (height - side) // 2, side, side)

    @property
    def xywh(self) -> tuple[int, int, int, int]:
        """The official integer rect ``(x, y, w, h)`` (exact for a crop made from one; else rounded)."""
        return (
            int(round(self.cx - self.width / 2)),
            int(round(self.cy - self.height / 2)),
            int(round(self.width)),
            int(round(self.height)),
        )

    @property
    def side(self) -> float:
        """The side of a square crop (its width; the crop frame's x and z scale)."""
        return self.width


def crop_from_mask(mask: np.ndarray, source: str | Path = "mask") -> Crop:
    """Square crop around the foreground (mask > 0.5): centred on its bounding box, side 1.2x its larger
    extent, integer corner and side (the inference rule for masks and alpha channels)."""
    rows, cols = np.nonzero(mask > 0.5)
    if len(rows) == 0 or rows.max() - rows.min() + 1 < MIN_FOREGROUND_FRACTION * mask.shape[0]:
        raise Human3DError.for_path(source, "no person-sized foreground in the mask")
    extent = max(rows.max() - rows.min() + 1, cols.max() - cols.min() + 1)
    cx, cy = (cols.max() + cols.min() + 1) // 2, (rows.max() + rows.min() + 1) // 2
    radius = int(MASK_MARGIN * extent)
    return Crop.from_xywh(int(cx - radius), int(cy - radius), 2 * radius, 2 * radius)


def depth_origin(vertices: np.ndarray, calib: np.ndarray) -> float:
    """The depth (z in ``calib``'s frame) that the crop frame puts at z = 0: the median of the mesh's vertices.

    As in PIFu's training renders, which centre each mesh on its vertex median. A single image does
    not show absolute depth; the median sits in the torso whatever the arms and legs do, so the
    network can infer where it is (the middle of a bounding box moves with every outstretched limb).
    Evaluation places a reconstruction's z = 0 at the same depth of the ground truth.
    """
    return float(np.median(np.asarray(vertices, dtype=np.float64) @ calib[2, :3] + calib[2, 3]))


def _centre(crop: Crop, image_size: tuple[int, int], z_origin: float) -> np.ndarray:
    """The crop frame's origin (3, 1) in the whole image's frame: the rect's centre, at depth ``z_origin``."""
    width, height = image_size
    return np.array([[2 * crop.cx / width - 1], [1 - 2 * crop.cy / height], [z_origin]])


def _scale(crop: Crop, image_size: tuple[int, int]) -> np.ndarray:
    """Per axis (3, 1): whole-image frame units per crop frame unit (z has x's scale)."""
    width, height = image_size
    return np.array([[crop.width / width], [crop.height / height], [crop.width / width]])


def points_to_crop(
    points: np.ndarray, calib: np.ndarray, crop: Crop, image_size: tuple[int, int], z_origin: float = 0.0
) -> np.ndarray:
    """World points (3, N) -> float32 crop-frame points (3, N).

    ``calib`` maps world to the whole image's frame (the image of ``image_size`` = (width, height)
    pixels spans [-1, 1]); ``z_origin``, a z of that frame, becomes z = 0.
    """
    frame = calib[:3, :3] @ points + calib[:3, 3:4]
    width, height = image_size
    inverse = np.array([[width / crop.width], [height / crop.height], [width / crop.width]])
    return ((frame - _centre(crop, image_size, z_origin)) * inverse).astype(np.float32)


def crop_to_image_frame(points: np.ndarray, crop: Crop, image_size: tuple[int, int], z_origin: float) -> np.ndarray:
    """Crop-frame points (3, N) -> the whole image's frame (the inverse of :func:`points_to_crop` after ``calib``)."""
    return points * _scale(crop, image_size) + _centre(crop, image_size, z_origin)


def crop_to_image_matrix(crop: Crop, image_size: tuple[int, int], z_origin: float = 0.0) -> np.ndarray:
    """4x4 form of :func:`crop_to_image_frame`: crop frame -> the whole image's frame."""
    width, height = image_size
    return np.array(
        [
            [crop.width / width, 0.0, 0.0, 2.0 * crop.cx / width - 1.0],
            [0.0, crop.height / height, 0.0, 1.0 - 2.0 * crop.cy / height],
            [0.0, 0.0, crop.width / width, z_origin],
            [0.0, 0.0, 0.0, 1.0],
        ]
    )


def crop_to_world(crop: Crop, image_size: tuple[int, int], calib: np.ndarray, z_origin: float = 0.0) -> np.ndarray:
    """4x4 map from the crop frame (z = 0 at ``z_origin``, a z of the whole image's frame) to world,
    through the whole image's frame (``calib``: world -> that frame)."""
    return np.linalg.inv(calib) @ crop_to_image_matrix(crop, image_size, z_origin)
