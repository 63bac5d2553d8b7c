"""The person crop and the network inputs, as the official evaluation datasets make them.

The crop is a square rect (x, y, w, h) in image pixels, from OpenPose BODY_25 keypoints (official
``fullbody`` rule), from a rect file (``x y w h``), or from a foreground mask (our rule: the mask's
bounding box, centred, enlarged to the keypoint rule's margin).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from human3d.errors import Human3DError

FEET = (11, 19, 21, 22)  # RAnkle, LBigToe, LHeel, RBigToe in BODY_25
MID_HIP = 8
MASK_MARGIN = 0.6  # half-side of the square crop per unit of the mask's larger extent
MIN_FOREGROUND_FRACTION = 0.10  # the mask's bounding box must span this much of the image height


@dataclass(frozen=True)
class NetworkInputs:
    """Normalised [1, 3, S, S] float32 crops in [-1, 1] for both levels, and the crop itself."""

    image_512: np.ndarray
    image_1024: np.ndarray
    crop_rgb: np.ndarray  # the padded crop, uint8 RGB, at its native size
    rect: tuple[int, int, int, int]


def composite_over_grey(rgba: np.ndarray) -> np.ndarray:
    """Official handling of a 4-channel image: un-premultiply, composite over 0.5 grey, truncate to uint8."""
    image = rgba.astype(np.float32) / 255.0
    image[:, :, :3] /= image[:, :, 3:] + 1e-8
    image = image[:, :, 3:] * image[:, :, :3] + 0.5 * (1.0 - image[:, :, 3:])
    return (255.0 * image).astype(np.uint8)


def select_person(people_keypoints: list[np.ndarray], source: str | Path = "keypoints") -> np.ndarray:
    """The person with the tallest y-extent of confident (> 0.5) keypoints; ties keep the earlier one."""
    best, best_height = None, -1.0
    for keypoints in people_keypoints:
        confident = keypoints[keypoints[:, 2] > 0.5]
        if len(confident) == 0:
            continue
        height = confident[:, 1].max() - confident[:, 1].min()
        if height > best_height:
            best, best_height = keypoints, height
    if best is None:
        raise Human3DError.for_path(source, "no person with confident keypoints")
    return best


def read_keypoints(path: str | Path) -> np.ndarray:
    """The selected person's BODY_25 keypoints [25, 3] (x, y, confidence) from an OpenPose JSON file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
        people = [np.asarray(p["pose_keypoints_2d"], dtype=np.float64).reshape(-1, 3) for p in data["people"]]
    except FileNotFoundError:
        raise Human3DError.for_path(path, "keypoints file not found") from None
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise Human3DError.for_path(path, "not an OpenPose keypoints JSON (people[].pose_keypoints_2d)") from None
    if not people or any(len(p) < 25 for p in people):
        raise Human3DError.for_path(path, "no person in the keypoints file" if not people else "not BODY_25 keypoints")
    return select_person(people, path)


def rect_from_keypoints(keypoints: np.ndarray) -> tuple[int, int, int, int]:
    """Official full-body crop: square around the confident keypoints, integer truncation as in numpy."""
    if not (keypoints[list(FEET), 2] > 0.5).any():
        center = keypoints[MID_HIP, :2].astype(int)
        points = keypoints[keypoints[:, 2] > 0.5][:, :2]
        if len(points) == 0:
            raise Human3DError("keypoints: no confident keypoint")
        radius = int(1.45 * np.sqrt(((center[None, :] - points) ** 2).sum(1)).max(0))
        center[1] += int(0.05 * radius)
    else:
        points = keypoints[keypoints[:, 2] > 0.2]
        pmax, pmin = points.max(0), points.min(0)
        center = (0.5 * (pmax[:2] + pmin[:2])).astype(int)
        radius = int(0.65 * max(pmax[0] - pmin[0], pmax[1] - pmin[1]))
    x, y = int(center[0]), int(center[1])
    return (x - radius, y - radius, 2 * radius, 2 * radius)


def read_rect(path: str | Path) -> tuple[int, int, int, int]:
    """The first ``x y w h`` line of a rect file (official ``<name>_rect.txt``)."""
    path = Path(path)
    try:
        values = [int(float(v)) for v in path.read_text().split()[:4]]
    except FileNotFoundError:
        raise Human3DError.for_path(path, "rect file not found") from None
    except (ValueError, UnicodeDecodeError):
        raise Human3DError.for_path(path, "not a rect file (expected 'x y w h')") from None
    if len(values) != 4 or values[2] <= 0 or values[3] <= 0:
        raise Human3DError.for_path(path, "not a rect file (expected 'x y w h' with positive size)")
    return (values[0], values[1], values[2], values[3])


def rect_from_mask(mask: np.ndarray, source: str | Path = "mask") -> tuple[int, int, int, int]:
    """Square crop around the foreground (mask > 0.5): centred on its bounding box, side 1.2x its larger extent."""
    rows, cols = np.nonzero(mask > 0.5)
    if len(rows) == 0 or rows.max() - rows.min() + 1 < MIN_FOREGROUND_FRACTION * mask.shape[0]:
        raise Human3DError.for_path(source, "no person-sized foreground in the mask")
    extent = max(rows.max() - rows.min() + 1, cols.max() - cols.min() + 1)
    cx, cy = (cols.max() + cols.min() + 1) // 2, (rows.max() + rows.min() + 1) // 2
    radius = int(MASK_MARGIN * extent)
    return (int(cx - radius), int(cy - radius), 2 * radius, 2 * radius)


def crop(image: np.ndarray, rect: tuple[int, int, int, int]) -> np.ndarray:
    """The rect of ``image``; parts outside the image are black (official padding)."""
    x, y, w, h = rect
    out = np.zeros((h, w) + image.shape[2:], dtype=image.dtype)
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + w, image.shape[1]), min(y + h, image.shape[0])
    if x1 > x0 and y1 > y0:
        out[y0 - y : y1 - y, x0 - x : x1 - x] = image[y0:y1, x0:x1]
    return out


def normalise(rgb: np.ndarray) -> np.ndarray:
    """uint8 RGB [H, W, 3] -> float32 [1, 3, H, W] in [-1, 1] (ToTensor then Normalize(0.5, 0.5))."""
    image = rgb.astype(np.float32) / np.float32(255.0)
    return ((image - np.float32(0.5)) / np.float32(0.5)).transpose(2, 0, 1)[None].copy()


def network_inputs(
    rgb: np.ndarray, rect: tuple[int, int, int, int], local_size: int = 1024, global_size: int = 512
) -> NetworkInputs:
    """Crop, resize (OpenCV bilinear) to ``global_size`` (the coarse ``loadSize``) and ``local_size``, normalise."""
    cropped = crop(rgb, rect)
    resized_512 = cv2.resize(cropped, (global_size, global_size), interpolation=cv2.INTER_LINEAR)
    resized_big = cv2.resize(cropped, (local_size, local_size), interpolation=cv2.INTER_LINEAR)
    return NetworkInputs(normalise(resized_512), normalise(resized_big), cropped, tuple(int(v) for v in rect))
