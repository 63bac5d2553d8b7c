"""The pictures drawn from a result: pasted I, U, V and the picture layers."""

from __future__ import annotations

import numpy as np

from human3d.densepose.app.visualize import part_palette, paste_iuv, render
from human3d.densepose.result import DensePoseResult


def _result() -> DensePoseResult:
    labels = np.zeros((10, 12), np.uint8)
    labels[2:8, 3:9] = 5
    uv = np.zeros((2, 10, 12), np.float32)
    uv[0][labels > 0] = np.linspace(0, 1, 36)
    uv[1][labels > 0] = 0.5
    return DensePoseResult(np.array([[4.2, 6.9, 16.8, 16.5]], np.float32), np.array([0.9], np.float32), [labels], [uv])


def test_paste_and_layers():
    result = _result()
    labels, uv = paste_iuv(result, 30, 40)
    x, y, w, h = result.boxes_xywh_int[0]
    assert (x, y, w, h) == (4, 6, 12, 9)  # each of x1, y1, x2 - x1, y2 - y1 truncated
    np.testing.assert_array_equal(labels[y:y + h, x:x + w], result.labels[0][:h, :w])
    assert labels.sum() == result.labels[0][:h].sum() and uv[1].max() == 0.5
    image = np.full((30, 40, 3), 100, np.uint8)
    parts = render(image, result, {"parts"}, alpha=1.0)
    np.testing.assert_array_equal(parts[labels == 5], np.repeat(part_palette()[5][None], (labels == 5).sum(), 0))
    np.testing.assert_array_equal(parts[labels == 0], image[labels == 0])
    contours = render(image, result, {"contours"})
    assert (contours != image).any(axis=2)[labels > 0].any() and not (contours != image).any(axis=2)[labels == 0].any()
    boxes = render(image, result, {"boxes"})
    assert tuple(boxes[10, 4]) == (0, 255, 0)  # left edge of the box
    assert (render(image, result, {"iuv"}) != image).any()
