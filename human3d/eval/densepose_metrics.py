"""DensePose-COCO evaluation: GPS AP, GPSm AP and box AP of DensePose results against a DensePose-COCO JSON.

The protocol follows the DensePose-COCO evaluation (detectron2 ``projects/DensePose``,
``densepose_coco_evaluation.py``); the facts used:

* **GPS of a (detection, person) pair**: every annotated point of the person is looked up in the
  detection's box; its predicted (I, U, V) becomes a body-surface point, and its score is
  ``exp(-g² / (2 κ²))`` with ``g`` the geodesic distance to the annotated surface point and ``κ``
  the normalisation distance of the annotated point's coarse part (8 coarse parts). A point that
  falls outside the detection's box or on its background scores 0; a point on another part is
  scored by its geodesic distance like any other. GPS is the mean over the person's points.
* **GPSm** = ``sqrt(GPS · mask IoU)``; the person's mask is the union of its ``dp_masks``
  (256×256 over the box, resampled to the box bilinearly and cut at 0.5), else its segmentation;
  the detection's mask is its foreground (part > 0) in its box.
* **AP**: COCO's greedy matching by decreasing score at thresholds 0.50:0.05:0.95, 101-point
  interpolated precision, at most 20 detections per image, areas all / medium (32²-96²) / large.
  People without DensePose points (and crowds) are ignored: a detection that does not match any
  annotated person but covers an ignored one with box IoU >= 0.8 is not counted, and images
  whose people are all ignored count no detection.
* **box AP**: COCO's bbox protocol (at most 100 detections, areas all / small / medium / large;
  crowds match many detections by intersection over the detection's area).

Geodesics are measured on our body mesh (:mod:`human3d.eval.geodesic`); see :func:`coarse_kappa` for κ.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from scipy.ndimage import zoom

from human3d.densepose.result import DensePoseResult
from human3d.errors import Human3DError
from human3d.eval.geodesic import GPS_COARSE_OF_FINE, SMPL_MEAN_GEODESIC, BodyGeodesics, reference_body_geodesics
from human3d.formats import densepose_coco as coco
from human3d.formats.densepose_coco import segmentation_mask
from human3d.io.atomic import write_text_atomic

IOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)
"""COCO's similarity thresholds 0.50:0.05:0.95."""
RECALL_POINTS = np.linspace(0.0, 1.0, 101)
"""COCO's 101 recall points of the interpolated precision."""
AREA_RANGES = {"all": (0.0, 1e10), "small": (0.0, 32.0**2), "medium": (32.0**2, 96.0**2), "large": (96.0**2, 1e10)}
"""COCO's object area ranges (pixels²)."""
DENSEPOSE_MAX_DETECTIONS = 20
BOX_MAX_DETECTIONS = 100
GT_BOX_FALLBACK_IOU = 0.8
"""A detection left unmatched that covers an ignored person with this box IoU is not counted."""
GPS_CUTOFF = 5.3
"""Geodesic distances are only followed up to 5.3 κ: beyond, a point scores below 1e-6 and counts as 0."""
NEAR_RADIUS = 0.25
"""Metres: the first reach of a distance field (see :class:`AnnotatedPerson`)."""
KAPPA_CHOICES = ("ours", "smpl")


@dataclass
class APSummary:
    """Average precisions (fractions in [0, 1]; -1 where no person falls in the area range)."""

    ap: float
    ap50: float
    ap75: float
    ap_small: float | None
    ap_medium: float
    ap_large: float


@dataclass
class DensePoseReport:
    """Result of :func:`evaluate_densepose`."""

    gps: APSummary
    gpsm: APSummary
    box: APSummary
    mean_gps: float
    """Mean over annotated people of the best GPS any detection reaches on them (0 when missed); not an
    official figure, but it moves smoothly while AP is still 0."""
    images: int
    people: int
    points: int
    detections: int
    kappa: str
    kappa_values: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        """JSON-ready dict (AP values as fractions)."""
        return asdict(self)

    def format(self) -> str:
        """A small table of the figures (AP in percent, as papers print them)."""

        def cell(value: float | None) -> str:
            return "  n/a" if value is None or value < 0 else f"{100 * value:5.1f}"

        lines = [f"{self.images} images, {self.people} annotated people ({self.points} points), "
                 f"{self.detections} detections; kappa: {self.kappa}; {self.seconds:.1f} s",
                 "metric    AP  AP50  AP75   APs   APm   APl"]
        for name, summary in (("GPS", self.gps), ("GPSm", self.gpsm), ("box", self.box)):
            values = (summary.ap, summary.ap50, summary.ap75, summary.ap_small, summary.ap_medium, summary.ap_large)
            lines.append(f"{name:<5}" + " ".join(cell(v) for v in values))
        lines.append(f"mean GPS of the best detection per person: {self.mean_gps:.3f}")
        return "\n".join(lines)

    def write_json(self, path: str | Path, extra: dict | None = None) -> None:
        """Write :meth:`to_dict` (plus ``extra`` entries) as JSON, atomically."""
        write_text_atomic(path, json.dumps({**self.to_dict(), **(extra or {})}, indent=2))


# --------------------------------------------------------------------------- similarities


def box_iou(dets_xywh: np.ndarray, gts_xywh: np.ndarray, gt_crowd: np.ndarray) -> np.ndarray:
    """(D, G) COCO box IoU; for a crowd person, intersection over the detection's area."""
    dets = np.asarray(dets_xywh, dtype=np.float64).reshape(-1, 4)
    gts = np.asarray(gts_xywh, dtype=np.float64).reshape(-1, 4)
    low = np.maximum(dets[:, None, :2], gts[None, :, :2])
    high = np.minimum(dets[:, None, :2] + dets[:, None, 2:], gts[None, :, :2] + gts[None, :, 2:])
    inter = np.prod(np.clip(high - low, 0, None), axis=2)
    det_area = (dets[:, 2] * dets[:, 3])[:, None]
    union = np.where(np.asarray(gt_crowd, bool)[None, :], det_area, det_area + (gts[:, 2] * gts[:, 3])[None, :] - inter)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > 0, inter / union, 0.0)


def mask_iou(det_masks: list[np.ndarray], gt_masks: list[np.ndarray], gt_crowd: np.ndarray) -> np.ndarray:
    """(D, G) IoU of boolean image masks; for a crowd person, intersection over the detection's area."""
    result = np.zeros((len(det_masks), len(gt_masks)))
    for d, det in enumerate(det_masks):
        det_area = det.sum()
        for g, gt in enumerate(gt_masks):
            inter = np.logical_and(det, gt).sum()
            union = det_area if gt_crowd[g] else det_area + gt.sum() - inter
            result[d, g] = inter / union if union > 0 else 0.0
    return result


def point_scores(distances: np.ndarray, kappa: np.ndarray) -> np.ndarray:
    """Per-point GPS ``exp(-g² / (2 κ²))`` (0 for an infinite distance)."""
    return np.exp(-np.square(distances) / (2.0 * np.square(kappa)))


def coarse_kappa(kind: str = "ours", geodesics: BodyGeodesics | None = None) -> np.ndarray:
    """(9,) normalisation distance κ per GPS coarse part (index 0 unused), in metres.

    ``"ours"``: each coarse part's mean geodesic distance measured on our reference body the way the
    official values were measured on SMPL (mean distance between two points of the part);
    ``"smpl"``: the official values as published. Index fine parts with ``GPS_COARSE_OF_FINE``.
    """
    if kind not in KAPPA_CHOICES:
        raise ValueError(f"kappa must be one of {KAPPA_CHOICES}, got {kind!r}")
    if kind == "smpl":
        return SMPL_MEAN_GEODESIC.copy()
    return (geodesics or reference_body_geodesics()).mean_part_distances()


class AnnotatedPerson:
    """One person's annotated points on the reference body; distance fields are grown on demand.

    A predicted point farther than ``GPS_CUTOFF`` κ in a straight line scores 0 without a search
    (its geodesic is at least as long). Otherwise a field row is followed to :data:`NEAR_RADIUS`
    when the predicted point is that near in a straight line (enough for a good prediction), and
    to the cutoff when it is not or when its triangle was not reached; a limited search gives the
    same distances as an unlimited one wherever it reaches the predicted point's triangle.
    """

    def __init__(
        self, geodesics: BodyGeodesics, kappa: np.ndarray, I: np.ndarray, U: np.ndarray, V: np.ndarray
    ) -> None:
        """``kappa``: (9,) per coarse part (:func:`coarse_kappa`); I, U, V: the annotated chart points."""
        self.geodesics = geodesics
        self.I = np.asarray(I, dtype=np.int64)
        self.points = geodesics.chart_points(self.I, U, V)
        self.kappa = np.asarray(kappa, dtype=np.float64)[GPS_COARSE_OF_FINE[self.I]]
        self._fields = np.full((len(self.I), geodesics.surface.num_vertices), np.inf)
        self._radius = np.zeros(len(self.I))

    def _grow(self, rows: np.ndarray, radius: np.ndarray) -> None:
        """Follow the fields of ``rows`` to at least ``radius`` (per row)."""
        todo = radius > self._radius[rows]
        rows, radius = rows[todo], radius[todo]
        for value in np.unique(radius):
            chosen = rows[radius == value]
            self._fields[chosen] = self.geodesics.surface.fields(self.points.take(chosen), limit=value)
            self._radius[chosen] = value

    def scores(self, I: np.ndarray, U: np.ndarray, V: np.ndarray) -> np.ndarray:
        """(N,) per-point GPS of predicted chart points, one per annotated point (I = 0: background, 0)."""
        I = np.asarray(I, dtype=np.int64)
        result = np.zeros(len(self.I))
        rows = np.flatnonzero(I > 0)
        if len(rows) == 0:
            return result
        surface = self.geodesics.surface
        targets = self.geodesics.chart_points(I[rows], np.clip(U[rows], 0, 1), np.clip(V[rows], 0, 1))
        sources = self.points.take(rows)
        cutoff = GPS_CUTOFF * self.kappa[rows]
        straight = np.linalg.norm(targets.position - sources.position, axis=1)  # geodesics are never shorter
        within = straight <= cutoff  # the rest score below 1e-6: 0
        rows, targets, sources, cutoff = rows[within], targets.take(within), sources.take(within), cutoff[within]
        self._grow(rows, np.where(straight[within] <= NEAR_RADIUS, np.minimum(NEAR_RADIUS, cutoff), cutoff))
        corner_fields = np.take_along_axis(self._fields[rows], surface.faces[targets.face], axis=1)
        unreached = ~np.isfinite(corner_fields).all(axis=1)
        self._grow(rows[unreached], cutoff[unreached])
        distances = surface.distances_from_fields(self._fields[rows], sources, targets)
        result[rows] = point_scores(distances, self.kappa[rows])
        return result


def sample_prediction(result: DensePoseResult, k: int, x: np.ndarray, y: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(I, U, V) of detection ``k`` at image points (x, y) in pixels; I = 0 outside its box."""
    bx, by, bw, bh = (int(v) for v in result.boxes_xywh_int[k])
    col = np.floor(np.asarray(x)).astype(np.int64) - bx
    row = np.floor(np.asarray(y)).astype(np.int64) - by
    labels, uv = result.labels[k], result.uv[k]
    inside = (col >= 0) & (row >= 0) & (col < min(bw, labels.shape[1])) & (row < min(bh, labels.shape[0]))
    col, row = np.where(inside, col, 0), np.where(inside, row, 0)
    I = np.where(inside, labels[row, col], 0).astype(np.int64)
    return I, np.where(inside, uv[0, row, col], 0.0), np.where(inside, uv[1, row, col], 0.0)


def _paste(mask: np.ndarray, x: int, y: int, height: int, width: int) -> np.ndarray:
    """A box-sized mask placed at (x, y) in an empty image of (height, width), clipped."""
    image = np.zeros((height, width), dtype=bool)
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + mask.shape[1], width), min(y + mask.shape[0], height)
    if x1 > x0 and y1 > y0:
        image[y0:y1, x0:x1] = mask[y0 - y : y1 - y, x0 - x : x1 - x]
    return image


def detection_mask(result: DensePoseResult, k: int, height: int, width: int) -> np.ndarray:
    """Detection ``k``'s foreground (part > 0) as an image mask."""
    bx, by = (int(v) for v in result.boxes_xywh_int[k][:2])
    return _paste(result.labels[k] > 0, bx, by, height, width)


def person_mask(annotation: dict, height: int, width: int) -> np.ndarray:
    """An annotated person's mask: its ``dp_masks`` resampled over its box (the protocol's choice), else its
    segmentation."""
    if any(annotation.get("dp_masks") or []):
        coarse = coco.dp_segmentation(annotation) > 0
        x, y, w, h = annotation["bbox"]
        scale = (max(h, 1) / coco.DP_GRID, max(w, 1) / coco.DP_GRID)
        scaled = zoom(coarse.astype(np.float64), scale, order=1, prefilter=False)
        return _paste(scaled > 0.5, int(x), int(y), height, width)
    return segmentation_mask(annotation.get("segmentation"), height, width)


# --------------------------------------------------------------------------- matching and AP


@dataclass
class ImageMatches:
    """One image's detections after matching: scores (by decreasing score), matched and ignored per threshold."""

    scores: np.ndarray  # (D,)
    matched: np.ndarray  # (T, D) bool
    ignored: np.ndarray  # (T, D) bool
    people: int  # people that count (not ignored, in the area range)


def match_image(similarity: np.ndarray, gt_ignore: np.ndarray, gt_crowd: np.ndarray, gt_areas: np.ndarray,
                det_scores: np.ndarray, det_areas: np.ndarray, area_range: tuple[float, float],
                thresholds: np.ndarray = IOU_THRESHOLDS, box_similarity: np.ndarray | None = None,
                densepose_rules: bool = False) -> ImageMatches:
    """COCO's greedy matching of one image; detections must come sorted by decreasing score.

    ``densepose_rules``: the DensePose-COCO additions (no detection counts in an image whose people
    are all ignored; an unmatched detection whose best still-unmatched person by ``box_similarity``
    (IoU >= 0.8) is an ignored one is not counted).
    """
    areas = np.asarray(gt_areas)
    gt_ignore = np.asarray(gt_ignore, bool) | (areas < area_range[0]) | (areas > area_range[1])
    order = np.argsort(gt_ignore, kind="mergesort")  # people that count first
    gt_ignore, crowd = gt_ignore[order], np.asarray(gt_crowd, bool)[order]
    similarity = np.asarray(similarity, dtype=np.float64).reshape(len(det_scores), len(order))[:, order]
    T, D, G = len(thresholds), len(det_scores), len(order)
    gt_taken = np.zeros((T, G), dtype=bool)
    matched = np.zeros((T, D), dtype=bool)
    ignored = np.zeros((T, D), dtype=bool)
    if densepose_rules and (G == 0 or gt_ignore.all()):
        ignored[:] = True
    for t, threshold in enumerate(thresholds):
        for d in range(D):
            best, m = min(threshold, 1 - 1e-10), -1
            for g in range(G):
                if gt_taken[t, g] and not crowd[g]:
                    continue
                if m > -1 and not gt_ignore[m] and gt_ignore[g]:
                    break
                if similarity[d, g] < best or similarity[d, g] == 0.0:
                    continue
                best, m = similarity[d, g], g
            if m > -1:
                ignored[t, d] = gt_ignore[m]
                matched[t, d] = True
                gt_taken[t, m] = True
    if densepose_rules and box_similarity is not None and G:
        boxes = np.asarray(box_similarity, dtype=np.float64).reshape(D, G)[:, order]
        for d in np.flatnonzero(~matched[-1]):
            free = ~gt_taken[-1] | crowd
            candidates = np.where(free & (boxes[d] >= GT_BOX_FALLBACK_IOU), boxes[d], -1.0)
            if candidates.max() >= GT_BOX_FALLBACK_IOU:
                m = int(np.flatnonzero(candidates == candidates.max())[-1])
                ignored[:, d] = gt_ignore[m]
                if gt_ignore[m]:
                    matched[-1, d] = True
                    gt_taken[-1, m] = True
    outside = (np.asarray(det_areas) < area_range[0]) | (np.asarray(det_areas) > area_range[1])
    ignored |= ~matched & outside[None, :]
    return ImageMatches(np.asarray(det_scores, dtype=np.float64), matched, ignored, int((~gt_ignore).sum()))


def precision_curve(images: list[ImageMatches], thresholds: np.ndarray = IOU_THRESHOLDS) -> np.ndarray | None:
    """(T, 101) interpolated precision at COCO's recall points, or None when no person counts."""
    people = sum(image.people for image in images)
    if people == 0:
        return None
    order = np.argsort(-np.concatenate([image.scores for image in images]), kind="mergesort")
    matched = np.concatenate([image.matched for image in images], axis=1)[:, order]
    ignored = np.concatenate([image.ignored for image in images], axis=1)[:, order]
    precision = np.zeros((len(thresholds), len(RECALL_POINTS)))
    for t in range(len(thresholds)):
        tp = np.cumsum(matched[t] & ~ignored[t]).astype(np.float64)
        fp = np.cumsum(~matched[t] & ~ignored[t]).astype(np.float64)
        if len(tp) == 0:
            continue
        recall = tp / people
        pr = np.maximum.accumulate((tp / (tp + fp + np.spacing(1)))[::-1])[::-1]
        where = np.searchsorted(recall, RECALL_POINTS, side="left")
        valid = where < len(pr)
        precision[t, valid] = pr[where[valid]]
    return precision


def _ap(precision: np.ndarray | None, threshold: float | None = None) -> float:
    if precision is None:
        return -1.0
    if threshold is not None:
        precision = precision[np.abs(IOU_THRESHOLDS - threshold) < 1e-3]
    return float(precision.mean())


@dataclass
class _ImageSimilarities:
    """What the matching of one metric needs for one image (detections sorted by score)."""

    similarity: np.ndarray
    gt_ignore: np.ndarray
    gt_crowd: np.ndarray
    gt_areas: np.ndarray
    det_scores: np.ndarray
    det_areas: np.ndarray
    box_similarity: np.ndarray | None = None


def _summarize(images: list[_ImageSimilarities], densepose_rules: bool, with_small: bool) -> APSummary:
    """AP, AP50, AP75 (area all) and per area range, over all images."""

    def curve(area: str) -> np.ndarray | None:
        return precision_curve([
            match_image(i.similarity, i.gt_ignore, i.gt_crowd, i.gt_areas, i.det_scores, i.det_areas, AREA_RANGES[area],
                        box_similarity=i.box_similarity, densepose_rules=densepose_rules)
            for i in images
        ])

    overall = curve("all")
    return APSummary(_ap(overall), _ap(overall, 0.5), _ap(overall, 0.75), _ap(curve("small")) if with_small else None,
                     _ap(curve("medium")), _ap(curve("large")))


# --------------------------------------------------------------------------- the whole evaluation


def _detections_xywh(result: DensePoseResult) -> np.ndarray:
    boxes = np.asarray(result.boxes_xyxy, dtype=np.float64).reshape(-1, 4)
    return np.stack([boxes[:, 0], boxes[:, 1], boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]], axis=1)


def _has_points(annotation: dict) -> bool:
    return len(annotation.get("dp_x") or []) > 0


def evaluate_densepose(results: Mapping[int, DensePoseResult], coco_json: str | Path, kappa: str = "ours",
                       geodesics: BodyGeodesics | None = None) -> DensePoseReport:
    """GPS AP, GPSm AP and box AP of ``results`` (COCO image id -> result) on the images of ``coco_json`` they cover.

    Only the images in ``results`` are evaluated (an image without detections is a result with
    none). ``kappa``: ``"ours"`` (normalisation distances measured on our body, the default) or
    ``"smpl"`` (the official values). ``geodesics`` defaults to the reference body's.
    """
    start = time.perf_counter()
    results = {int(image_id): result for image_id, result in results.items()}
    path = Path(coco_json)
    document = coco.read_densepose_coco(path)
    infos = {int(image["id"]): image for image in document["images"]}
    unknown = sorted(set(results) - set(infos))
    if unknown:
        raise Human3DError.for_path(path, f"has no image with id {unknown[0]} (a result refers to it)")
    by_image: dict[int, list[dict]] = {}
    for annotation in document["annotations"]:
        by_image.setdefault(int(annotation["image_id"]), []).append(annotation)
    geodesics = geodesics or reference_body_geodesics()
    kappas = coarse_kappa(kappa, geodesics)

    dense, masked, boxed = [], [], []
    best_gps: list[float] = []
    points = detections = 0
    for image_id in sorted(results):
        result, info = results[image_id], infos[image_id]
        height, width = int(info["height"]), int(info["width"])
        annotations = by_image.get(image_id, [])
        order = np.argsort(-np.asarray(result.scores, dtype=np.float64), kind="mergesort")
        det_xywh = _detections_xywh(result)
        detections += len(order)
        gt_xywh = np.array([a["bbox"] for a in annotations], dtype=np.float64).reshape(-1, 4)
        crowd = np.array([bool(a.get("iscrowd", 0)) for a in annotations], dtype=bool)
        gt_areas = np.array([float(a.get("area", a["bbox"][2] * a["bbox"][3])) for a in annotations])
        det_areas = det_xywh[:, 2] * det_xywh[:, 3]

        top = order[:BOX_MAX_DETECTIONS]
        box_ignore = crowd | np.array([bool(a.get("ignore", 0)) for a in annotations], dtype=bool)
        boxed.append(_ImageSimilarities(box_iou(det_xywh[top], gt_xywh, crowd), box_ignore, crowd, gt_areas,
                                        np.asarray(result.scores)[top], det_areas[top]))

        top = order[:DENSEPOSE_MAX_DETECTIONS]
        dp_ignore = crowd | ~np.array([_has_points(a) for a in annotations], dtype=bool)
        gps = np.zeros((len(top), len(annotations)))
        overlap = np.zeros((len(top), len(annotations)))
        boxes = box_iou(det_xywh[top], gt_xywh, np.zeros(len(annotations), bool))
        det_masks = [detection_mask(result, int(k), height, width) for k in top]
        for g, annotation in enumerate(annotations):
            if dp_ignore[g]:
                continue
            pts = coco.dp_points_in_image(annotation)
            points += len(pts["I"])
            person = AnnotatedPerson(geodesics, kappas, pts["I"], pts["U"], pts["V"])
            for d, k in enumerate(top):
                I, U, V = sample_prediction(result, int(k), pts["x"], pts["y"])
                gps[d, g] = person.scores(I, U, V).mean() if (I > 0).any() else 0.0
            overlap[:, g] = mask_iou(det_masks, [person_mask(annotation, height, width)], crowd[g : g + 1])[:, 0]
            best_gps.append(float(gps[:, g].max()) if len(top) else 0.0)
        scores, areas = np.asarray(result.scores)[top], det_areas[top]
        dense.append(_ImageSimilarities(gps, dp_ignore, crowd, gt_areas, scores, areas, boxes))
        masked.append(_ImageSimilarities(np.sqrt(gps * overlap), dp_ignore, crowd, gt_areas, scores, areas, boxes))

    return DensePoseReport(
        gps=_summarize(dense, densepose_rules=True, with_small=False),
        gpsm=_summarize(masked, densepose_rules=True, with_small=False),
        box=_summarize(boxed, densepose_rules=False, with_small=True),
        mean_gps=float(np.mean(best_gps)) if best_gps else 0.0,
        images=len(results), people=len(best_gps), points=points, detections=detections, kappa=kappa,
        kappa_values=[round(float(v), 4) for v in kappas[1:]],
        seconds=time.perf_counter() - start,
    )
