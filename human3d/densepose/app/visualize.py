"""Pictures people can read: part colours, an IUV false-colour overlay, U/V contour lines, boxes with scores."""

from __future__ import annotations

import colorsys

import cv2
import numpy as np

from human3d.densepose.result import DensePoseResult

LAYERS = ("iuv", "parts", "contours", "boxes")
DEFAULT_LAYERS = frozenset({"parts", "contours", "boxes"})  # what a picture shows unless asked otherwise
NUM_PARTS = 24


def part_palette() -> np.ndarray:
    """(25, 3) uint8 BGR colours; row 0 (background) black, parts spread around the hue circle."""
    colours = [(0, 0, 0)]
    for p in range(NUM_PARTS):
        r, g, b = colorsys.hsv_to_rgb((p * 7 % NUM_PARTS) / NUM_PARTS, 0.85, 1.0)
        colours.append((int(b * 255), int(g * 255), int(r * 255)))
    return np.array(colours, dtype=np.uint8)


def paste_iuv(result: DensePoseResult, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Whole-image part labels (H, W uint8) and U,V (2, H, W float32); higher-scoring people drawn on top."""
    labels = np.zeros((height, width), np.uint8)
    uv = np.zeros((2, height, width), np.float32)
    for k in np.argsort(result.scores, kind="stable"):
        x, y, w, h = result.boxes_xywh_int[k]
        ys, xs = slice(y, min(y + h, height)), slice(x, min(x + w, width))
        box_labels = result.labels[k][: ys.stop - y, : xs.stop - x]
        fg = box_labels > 0
        labels[ys, xs][fg] = box_labels[fg]
        uv[:, ys, xs][:, fg] = result.uv[k][:, : ys.stop - y, : xs.stop - x][:, fg]
    return labels, uv


def _iso_lines(values: np.ndarray, labels: np.ndarray, steps: int = 10) -> np.ndarray:
    """Pixels where ``values`` crosses a multiple of 1/steps inside one body part."""
    level = np.floor(np.clip(values, 0, 1) * steps)
    lines = np.zeros(labels.shape, bool)
    for axis in (0, 1):
        change = (np.diff(level, axis=axis) != 0) & (np.diff(labels.astype(np.int16), axis=axis) == 0)
        change &= (labels[1:, :] if axis == 0 else labels[:, 1:]) > 0
        if axis == 0:
            lines[1:, :] |= change
        else:
            lines[:, 1:] |= change
    return lines


def render(image_bgr: np.ndarray, result: DensePoseResult,
           layers: set[str] | tuple[str, ...] = ("parts", "contours", "boxes"), alpha: float = 0.6) -> np.ndarray:
    """Draw the chosen ``layers`` (of :data:`LAYERS`) over a copy of a uint8 BGR image."""
    out = image_bgr.copy()
    height, width = out.shape[:2]
    labels, uv = paste_iuv(result, height, width)
    fg = labels > 0
    if "iuv" in layers:  # B = part index, G = U, R = V: the classic DensePose IUV picture
        false = np.stack([labels * (255 // NUM_PARTS), np.clip(uv[0] * 255, 0, 255), np.clip(uv[1] * 255, 0, 255)], -1)
        out[fg] = (alpha * false[fg] + (1 - alpha) * out[fg]).astype(np.uint8)
    if "parts" in layers:
        colours = part_palette()[labels]
        out[fg] = (alpha * colours[fg] + (1 - alpha) * out[fg]).astype(np.uint8)
    if "contours" in layers:
        out[_iso_lines(uv[0], labels)] = (255, 255, 255)
        out[_iso_lines(uv[1], labels)] = (40, 40, 40)
    if "boxes" in layers:
        thickness = max(1, round(max(height, width) / 400))
        for (x1, y1, x2, y2), score in zip(result.boxes_xyxy, result.scores):
            p1, p2 = (int(round(x1)), int(round(y1))), (int(round(x2)), int(round(y2)))
            cv2.rectangle(out, p1, p2, (0, 255, 0), thickness)
            cv2.putText(out, f"{score:.2f}", (p1[0] + 2, p1[1] + 14 * thickness), cv2.FONT_HERSHEY_SIMPLEX,
                        0.5 * thickness, (0, 255, 0), thickness, cv2.LINE_AA)
    return out
