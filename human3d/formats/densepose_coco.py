"""DensePose-COCO JSON: COCO's run-length encoding, per-person annotations, writer and reader.

Format facts (DensePose-COCO, as released): per person annotation ``bbox`` [x, y, w, h],
``segmentation`` (here COCO's compressed RLE), ``dp_masks`` (14 coarse-part masks, each a
256x256 RLE over the box, or ``[]`` when the part is absent), and points ``dp_x``/``dp_y``
(box-normalised: the box spans 0..256), ``dp_I`` (part 1..24), ``dp_U``/``dp_V`` in [0, 1].
Image coordinates of a point: ``x = x0 + dp_x * w / 256``, ``y = y0 + dp_y * h / 256``.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from human3d.errors import Human3DError
from human3d.io.atomic import write_text_atomic

DP_GRID = 256
COARSE_OF_FINE = np.array(
    [0, 1, 1, 2, 3, 4, 5, 6, 7, 6, 7, 8, 9, 8, 9, 10, 11, 10, 11, 12, 13, 12, 13, 14, 14], np.uint8
)
"""DensePose's 24 fine parts -> the 14 coarse parts of ``dp_masks`` (1 torso, 2 right hand, 3 left
hand, 4 left foot, 5 right foot, 6/7 right/left upper leg, 8/9 right/left lower leg, 10/11 left/right
upper arm, 12/13 left/right lower arm, 14 head); index 0 = background."""

COCO17_NAMES = [
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
]  # fmt: skip
COCO17_SKELETON = [
    [16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12], [7, 13], [6, 7], [6, 8], [7, 9],
    [8, 10], [9, 11], [2, 3], [1, 2], [1, 3], [2, 4], [3, 5], [4, 6], [5, 7],
]  # fmt: skip
PERSON_CATEGORY = {
    "id": 1, "name": "person", "supercategory": "person", "keypoints": COCO17_NAMES, "skeleton": COCO17_SKELETON
}


def rle_encode(mask: np.ndarray) -> dict:
    """COCO compressed RLE ``{"size": [h, w], "counts": str}`` of a 2-D boolean mask."""
    mask = np.asarray(mask, dtype=bool)
    height, width = mask.shape
    flat = mask.reshape(-1, order="F").astype(np.int8)
    changes = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate([[0], changes, [flat.size]])
    counts = np.diff(bounds).tolist()
    if flat.size and flat[0] == 1:
        counts = [0] + counts
    chars = []
    for i, count in enumerate(counts):
        x = count - counts[i - 2] if i > 2 else count
        more = True
        while more:
            c = x & 0x1F
            x >>= 5
            more = x != -1 if c & 0x10 else x != 0
            if more:
                c |= 0x20
            chars.append(chr(c + 48))
    return {"size": [int(height), int(width)], "counts": "".join(chars)}


def _counts_from_string(text: str) -> list[int]:
    counts: list[int] = []
    p = 0
    while p < len(text):
        x, k, more = 0, 0, True
        while more:
            c = ord(text[p]) - 48
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and c & 0x10:
                x |= -1 << (5 * k)
        if len(counts) > 2:
            x += counts[-2]
        counts.append(x)
    return counts


def rle_decode(rle: dict) -> np.ndarray:
    """Boolean mask (h, w) of a COCO RLE (compressed string or uncompressed list ``counts``)."""
    height, width = (int(v) for v in rle["size"])
    counts = rle["counts"]
    if isinstance(counts, bytes):
        counts = counts.decode("ascii")
    counts = _counts_from_string(counts) if isinstance(counts, str) else [int(c) for c in counts]
    if sum(counts) != height * width or min(counts, default=0) < 0:
        raise ValueError(f"RLE counts do not cover a {height}x{width} mask")
    values = np.zeros(len(counts), dtype=bool)
    values[1::2] = True
    flat = np.repeat(values, counts)
    return flat.reshape((height, width), order="F")


def segmentation_mask(segmentation, height: int, width: int) -> np.ndarray:
    """A COCO ``segmentation`` (RLE dict or polygon list) as a boolean (H, W) mask."""
    if isinstance(segmentation, dict):
        return rle_decode(segmentation)
    mask = np.zeros((height, width), dtype=np.uint8)
    for polygon in segmentation or []:
        points = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
        cv2.fillPoly(mask, [np.rint(points).astype(np.int32)], 1)
    return mask.astype(bool)


def mask_bbox(mask: np.ndarray) -> list[float]:
    """COCO ``[x, y, w, h]`` (pixels) of the True pixels of ``mask``."""
    rows, cols = np.nonzero(mask)
    x0, y0 = cols.min(), rows.min()
    return [float(x0), float(y0), float(cols.max() - x0 + 1), float(rows.max() - y0 + 1)]


def sample_dp_points(
    iuv: np.ndarray, person_mask: np.ndarray, bbox: list[float], rng: np.random.Generator, max_points: int = 100
) -> dict:
    """DensePose points of one person, like the real annotation: up to ``max_points`` pixels spread
    evenly over the visible parts, box-normalised to the 256 grid (``dp_x``, ``dp_y``)."""
    parts = np.where(person_mask, np.rint(iuv[..., 0]).astype(np.int64), 0)
    present = [p for p in range(1, 25) if (parts == p).any()]
    rows, cols = [], []
    if present:
        per_part = max(1, max_points // len(present))
        for part in present:
            r, c = np.nonzero(parts == part)
            pick = rng.choice(len(r), size=min(per_part, len(r)), replace=False)
            rows.append(r[np.sort(pick)])
            cols.append(c[np.sort(pick)])
    rows = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    cols = np.concatenate(cols) if cols else np.zeros(0, np.int64)
    x0, y0, w, h = bbox
    return {
        "dp_x": [round(float(v), 4) for v in (cols + 0.5 - x0) * DP_GRID / w],
        "dp_y": [round(float(v), 4) for v in (rows + 0.5 - y0) * DP_GRID / h],
        "dp_I": [float(v) for v in parts[rows, cols]],
        "dp_U": [round(float(v), 6) for v in iuv[rows, cols, 1]],
        "dp_V": [round(float(v), 6) for v in iuv[rows, cols, 2]],
    }


def dp_masks(iuv: np.ndarray, person_mask: np.ndarray, bbox: list[float]) -> list:
    """The 14 coarse-part masks of one person over its box, resampled to 256x256 (nearest)."""
    x0, y0, w, h = (int(round(v)) for v in bbox)
    fine = np.where(person_mask, np.rint(iuv[..., 0]).astype(np.int64), 0)[y0 : y0 + h, x0 : x0 + w]
    coarse = cv2.resize(COARSE_OF_FINE[fine], (DP_GRID, DP_GRID), interpolation=cv2.INTER_NEAREST)
    return [rle_encode(coarse == part) if (coarse == part).any() else [] for part in range(1, 15)]


def person_annotation(
    annotation_id: int,
    image_id: int,
    iuv: np.ndarray,
    person_mask: np.ndarray,
    rng: np.random.Generator,
    keypoints: np.ndarray | None = None,
    max_points: int = 100,
) -> dict:
    """One DensePose-COCO annotation of the person whose visible pixels are ``person_mask``.

    ``keypoints``: optional (17, 3) pixel x, y and COCO visibility (0, 1, 2)."""
    bbox = mask_bbox(person_mask)
    annotation = {
        "id": int(annotation_id),
        "image_id": int(image_id),
        "category_id": 1,
        "iscrowd": 0,
        "area": float(person_mask.sum()),
        "bbox": bbox,
        "segmentation": rle_encode(person_mask),
        "dp_masks": dp_masks(iuv, person_mask, bbox),
        **sample_dp_points(iuv, person_mask, bbox, rng, max_points),
    }
    if keypoints is not None:
        keypoints = np.asarray(keypoints, dtype=np.float64)
        flat = keypoints.reshape(-1)
        annotation["keypoints"] = [round(float(v), 3) if k % 3 < 2 else int(v) for k, v in enumerate(flat)]
        annotation["num_keypoints"] = int((keypoints[:, 2] > 0).sum())
    return annotation


def coco_document(images: list[dict], annotations: list[dict], description: str = "human3d synthetic people") -> dict:
    """A whole DensePose-COCO JSON document (images sorted by id, annotations by id)."""
    return {
        "info": {"description": description, "version": "1.0"},
        "licenses": [],
        "categories": [PERSON_CATEGORY],
        "images": sorted(images, key=lambda image: image["id"]),
        "annotations": sorted(annotations, key=lambda annotation: annotation["id"]),
    }


def write_coco(path: str | Path, document: dict) -> None:
    """Write a COCO JSON document atomically (sorted keys: same content, same bytes)."""
    write_text_atomic(path, json.dumps(document, sort_keys=True, separators=(",", ":")))


def read_densepose_coco(path: str | Path) -> dict:
    """Read and check a (DensePose-)COCO JSON; a ``Human3DError`` names the file if it is not one."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise Human3DError.for_path(path, f"not a readable COCO JSON file ({error.__class__.__name__})") from error
    if not isinstance(document, dict) or not all(isinstance(document.get(k), list) for k in ("images", "annotations")):
        raise Human3DError.for_path(path, "not a COCO JSON file (needs 'images' and 'annotations' lists)")
    return document


def dp_points_in_image(annotation: dict) -> dict[str, np.ndarray]:
    """The DensePose points of an annotation in image pixels: ``x``, ``y``, ``I`` (int), ``U``, ``V``."""
    x0, y0, w, h = annotation["bbox"]
    return {
        "x": x0 + np.asarray(annotation.get("dp_x", []), dtype=np.float64) * w / DP_GRID,
        "y": y0 + np.asarray(annotation.get("dp_y", []), dtype=np.float64) * h / DP_GRID,
        "I": np.asarray(annotation.get("dp_I", []), dtype=np.float64).astype(np.int64),
        "U": np.asarray(annotation.get("dp_U", []), dtype=np.float64),
        "V": np.asarray(annotation.get("dp_V", []), dtype=np.float64),
    }


def dp_segmentation(annotation: dict) -> np.ndarray:
    """The 256x256 coarse-part map (0..14) of an annotation's ``dp_masks`` (later parts win)."""
    segmentation = np.zeros((DP_GRID, DP_GRID), dtype=np.uint8)
    for part, rle in enumerate(annotation.get("dp_masks", []), start=1):
        if rle:
            segmentation[rle_decode(rle)] = part
    return segmentation
