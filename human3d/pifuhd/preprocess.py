"""The person crop and the network inputs, as the official evaluation datasets make them.

The crop (a :class:`~human3d.geometry.crop.Crop`, from the official integer rect ``x y w h`` in image
pixels) comes from OpenPose BODY_25 keypoints (official ``fullbody`` rule), from a rect file
(``x y w h``), or from a foreground mask (our rule, :func:`human3d.geometry.crop.crop_from_mask`:
the mask's bounding box, centred, enlarged to the keypoint rule's margin).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from human3d.errors import Human3DError
from human3d.geometry.crop import Crop

FEET = (11, 19, 21, 22)  # RAnkle, LBigToe, LHeel, RBigToe in BODY_25
MID_HIP = 8


@dataclass(frozen=True)
class NetworkInputs:
    """Normalised [1, 3, S, S] float32 crops in [-1, 1] for both levels, and the crop itself."""

    image_512: np.ndarray
    image_1024: np.ndarray
    crop_rgb: np.ndarray  # the padded crop, uint8 RGB, at its native size
    rect: Crop


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


def rect_from_keypoints(keypoints: np.ndarray) -> Crop:
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
    return Crop.from_xywh(x - radius, y - radius, 2 * radius, 2 * radius)


def read_rect(path: str | Path) -> Crop:
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
    return Crop.from_xywh(values[0], values[1], values[2], values[3])


def crop(image: np.ndarray, rect: Crop) -> np.ndarray:
    """The integer rect of ``image``; parts outside the image are black (official padding)."""
    x, y, w, h = rect.xywh
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
    rgb: np.ndarray, rect: Crop, local_size: int = 1024, global_size: int = 512
) -> NetworkInputs:
    """Crop, resize (OpenCV bilinear) to ``global_size`` (the coarse ``loadSize``) and ``local_size``, normalise."""
    cropped = crop(rgb, rect)
    resized_512 = cv2.resize(cropped, (global_size, global_size), interpolation=cv2.INTER_LINEAR)
    resized_big = cv2.resize(cropped, (local_size, local_size), interpolation=cv2.INTER_LINEAR)
    return NetworkInputs(normalise(resized_512), normalise(resized_big), cropped, rect)
