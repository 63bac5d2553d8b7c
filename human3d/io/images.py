"""Reading and writing images: one-line errors for missing files, non-images, empty or tiny images.

Images are read upright: an EXIF orientation (phones store portraits as rotated landscapes) is applied.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from human3d.errors import Human3DError
from human3d.io.atomic import atomic_path

MIN_SIDE = 32  # pixels; smaller images cannot show a person
EXIF_ORIENTATION = 0x0112
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def image_files(folder: str | Path) -> list[Path]:
    """The image files (by extension, ``IMAGE_SUFFIXES``) directly inside ``folder``, sorted by name."""
    return sorted(p for p in Path(folder).iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _decode(path: Path) -> np.ndarray:
    if not path.is_file():
        raise Human3DError.for_path(path, "image not found")
    data = np.fromfile(path, dtype=np.uint8)
    if data.size == 0:
        raise Human3DError.for_path(path, "empty file, not an image")
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if image is None or image.size == 0:
        raise Human3DError.for_path(path, "not an image (or a truncated one)")
    image = upright(image, exif_orientation(path))
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype != np.uint8:
        raise Human3DError.for_path(path, f"unsupported image sample type {image.dtype}")
    if min(image.shape[:2]) < MIN_SIDE:
        raise Human3DError.for_path(
            path, f"image is too small ({image.shape[1]}x{image.shape[0]}, need >= {MIN_SIDE} px)"
        )
    return image


def exif_orientation(path: Path) -> int:
    """The file's EXIF orientation (1 to 8; 1, upright, when there is none or it cannot be read)."""
    try:
        with Image.open(path) as image:
            value = image.getexif().get(EXIF_ORIENTATION, 1)
    except (OSError, ValueError, SyntaxError):  # Pillow's errors for files it cannot parse
        return 1
    return int(value) if value in range(1, 9) else 1


def upright(image: np.ndarray, orientation: int) -> np.ndarray:
    """``image`` (rows, columns, ...) turned and mirrored as EXIF ``orientation`` says, so that it is upright."""
    if orientation in (2, 4, 5, 7):  # the mirrored ones
        image = image[:, ::-1]
    turns = {3: 2, 4: 2, 5: 1, 6: 3, 7: 3, 8: 1}.get(orientation, 0)  # counter-clockwise quarter turns
    return np.ascontiguousarray(np.rot90(image, turns))


def read_image(path: str | Path) -> np.ndarray:
    """uint8 RGB [H, W, 3], or RGBA [H, W, 4] when the file has an alpha channel; grey becomes RGB."""
    image = _decode(Path(path))
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def read_mask(path: str | Path) -> np.ndarray:
    """A foreground mask as float32 [H, W] in [0, 1] (alpha if the file has one, else its grey value)."""
    image = _decode(Path(path))
    if image.ndim == 3:
        image = image[:, :, 3] if image.shape[2] == 4 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return image.astype(np.float32) / 255.0


def write_image(path: str | Path, rgb: np.ndarray) -> None:
    """Write uint8 RGB(A) [H, W, 3|4] atomically; the format follows the extension (PNG, JPEG...)."""
    path = Path(path)
    image = cv2.cvtColor(rgb, cv2.COLOR_RGBA2BGRA if rgb.shape[2] == 4 else cv2.COLOR_RGB2BGR)
    try:
        ok, encoded = cv2.imencode(path.suffix or ".png", image)
    except cv2.error:
        ok = False
    if not ok:
        raise Human3DError.for_path(path, "cannot encode an image with this extension")
    with atomic_path(path) as tmp:
        tmp.write_bytes(encoded.tobytes())
