"""DensePose results as fitting targets: pixels paired with the points of anny's skin they show.

Our DensePose charts are charts of anny's own skin (:mod:`human3d.body.charts`), so a pixel labelled
(I, U, V) names one point of the body: a face and barycentric weights (:func:`iuv_to_surface`), that is
fixed weights over three of anny's vertices, which the keypoint rig poses as it poses a keypoint
(:func:`human3d.body.keypoint_rig.build_keypoint_rig`). Pure functions: a person's correspondences from
a result (:func:`person_correspondences`) and their weights over anny's vertices
(:func:`surface_weights`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse

from human3d.body.charts import ChartedBody, iuv_to_surface
from human3d.densepose.light.person_crops import PersonCropPredictor
from human3d.densepose.result import DensePoseResult
from human3d.people.finder import Person
from human3d.people.tiles import box_iou_cover

MIN_IOU = 0.3  # a DensePose instance belongs to a person when their boxes overlap this much


@dataclass(frozen=True)
class Correspondences:
    """A person's DensePose pixels [N, 2] (x, y, pixel centres) and their chart points: part [N], U, V [N]."""

    pixels: np.ndarray
    parts: np.ndarray
    u: np.ndarray
    v: np.ndarray


def densepose_of(predictor: PersonCropPredictor | None, image_rgb: np.ndarray, people: list[Person]
                 ) -> DensePoseResult | None:
    """The DensePose of ``people`` found in ``image_rgb`` (None without a predictor or without people)."""
    if predictor is None or not people:
        return None
    return predictor.predict_people([np.ascontiguousarray(image_rgb[..., ::-1])], [people])[0]


def person_correspondences(result: DensePoseResult, box_xyxy: np.ndarray, count: int) -> Correspondences | None:
    """Up to ``count`` labelled pixels, spread evenly, of the result's instance that best overlaps the person's
    box (None when none overlaps it by :data:`MIN_IOU`)."""
    if not len(result):
        return None
    overlaps = [box_iou_cover(box_xyxy, box)[0] for box in result.boxes_xyxy]
    best = int(np.argmax(overlaps))
    if overlaps[best] < MIN_IOU:
        return None
    labels, uv = result.labels[best], result.uv[best]
    rows, cols = np.nonzero(labels)
    if not len(rows):
        return None
    chosen = np.unique(np.linspace(0, len(rows) - 1, min(count, len(rows))).round().astype(int))
    rows, cols = rows[chosen], cols[chosen]
    x, y = result.boxes_xywh_int[best][:2]
    pixels = np.stack([x + cols + 0.5, y + rows + 0.5], axis=1).astype(np.float64)
    return Correspondences(pixels, labels[rows, cols].astype(np.int64), uv[0, rows, cols], uv[1, rows, cols])


def surface_weights(body: ChartedBody, skin_vertices: np.ndarray, vertex_count: int,
                    found: Correspondences) -> scipy.sparse.csr_array:
    """Weights [N, vertex_count] (sparse: three per row) over anny's full vertex list of each correspondence's
    skin point: its face's three corners (``body`` charts the skin, whose vertex ``i`` is anny's
    ``skin_vertices[i]``), weighted by barycentric coordinates."""
    face, barycentric = iuv_to_surface(body, found.parts, found.u, found.v)
    corners = skin_vertices[body.faces[face]]  # (N, 3) indices into anny's vertices
    rows = np.arange(len(face))[:, None].repeat(3, axis=1)
    return scipy.sparse.csr_array((barycentric.ravel().astype(np.float64), (rows.ravel(), corners.ravel())),
                                  shape=(len(face), vertex_count))
