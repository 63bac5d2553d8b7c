"""detectron2's exact image path: PIL read with EXIF orientation, RGB -> BGR, shortest-edge resize with PIL bilinear."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from human3d.errors import Human3DError


def read_image_bgr(path: str | Path) -> np.ndarray:
    """uint8 H x W x 3 BGR image as detectron2's ``read_image(path, "BGR")`` (alpha dropped, no compositing)."""
    try:
        with Image.open(path) as image:
            image = ImageOps.exif_transpose(image).convert("RGB")
            return np.ascontiguousarray(np.asarray(image)[:, :, ::-1])
    except FileNotFoundError:
        raise Human3DError.for_path(path, "file not found") from None
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as error:
        raise Human3DError.for_path(path, f"not a readable image ({error.__class__.__name__})") from None


def resized_shape(height: int, width: int, min_size: int, max_size: int) -> tuple[int, int]:
    """ResizeShortestEdge: short side -> ``min_size`` unless the long side would pass ``max_size``."""
    scale = min_size * 1.0 / min(height, width)
    if height < width:
        new_h, new_w = float(min_size), scale * width
    else:
        new_h, new_w = scale * height, float(min_size)
    if max(new_h, new_w) > max_size:
        scale = max_size * 1.0 / max(new_h, new_w)
        new_h, new_w = new_h * scale, new_w * scale
    return int(new_h + 0.5), int(new_w + 0.5)


def resize_bgr(image: np.ndarray, min_size: int, max_size: int) -> np.ndarray:
    """Resize a uint8 BGR image with PIL's bilinear filter (antialiased when shrinking), as detectron2."""
    height, width = resized_shape(image.shape[0], image.shape[1], min_size, max_size)
    if (height, width) == image.shape[:2]:
        return image
    return np.asarray(Image.fromarray(image).resize((width, height), Image.BILINEAR))
