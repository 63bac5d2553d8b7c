"""A rendered sample's true DensePose: the data engine's own I, U, V of every person, as a DensePose result."""

from __future__ import annotations

import numpy as np

from human3d.densepose.result import DensePoseResult
from human3d.synth.scene import Sample


def sample_densepose(sample: Sample) -> DensePoseResult:
    """Every person of ``sample`` with their rendered part and U, V, in a box around their pixels (score 1);
    people hidden from view are left out."""
    boxes, labels, uvs = [], [], []
    for instance in range(1, len(sample.people) + 1):
        person = sample.maps.instance == instance
        if not person.any():
            continue
        ys, xs = np.nonzero(person)
        x1, y1, x2, y2 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
        part = np.where(person, np.rint(sample.maps.iuv[..., 0]), 0).astype(np.uint8)[y1:y2, x1:x2]
        boxes.append([x1, y1, x2, y2])
        labels.append(part)
        uvs.append(np.moveaxis(sample.maps.iuv[y1:y2, x1:x2, 1:], -1, 0).astype(np.float32) * (part > 0))
    return DensePoseResult(np.array(boxes, np.float32).reshape(-1, 4), np.ones(len(boxes)), labels, uvs)
