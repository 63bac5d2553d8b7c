"""The body fitted to a photo, in the PIFuHD crop frame: what a body-guided reconstruction reads.

The person is the one the crop was made for (found already, or found now: the one whose box overlaps the
crop most); anny is fitted to them (:mod:`human3d.fit.body_fit`, the photo's default pinhole camera), their
keypoints and the bundled light DensePose's points, as ``human3d body`` fits a photo. Each
skin vertex goes where the camera sees it: its pixel gives x and y in the crop, and its depth, relative to the
body's median depth, is scaled as the image scales sizes at that depth (the crop frame's z has x's scale).
"""

from __future__ import annotations

import functools

import numpy as np

from human3d.densepose.predictor import DensePosePredictor
from human3d.errors import Human3DError
from human3d.fit.body_fit import BodyFit, default_fitter
from human3d.fit.camera import Intrinsics
from human3d.fit.dense_correspondences import densepose_of
from human3d.geometry.crop import Crop
from human3d.people.finder import Person
from human3d.pifuhd.body_guide import BodyGuide


def body_in_crop(vertices: np.ndarray, intrinsics: Intrinsics, crop: Crop) -> np.ndarray:
    """A fitted body's skin ``vertices`` (V, 3) (the fit's camera frame: OpenCV, metres) in the crop frame of
    ``crop`` (z = 0 at their median depth)."""
    camera = np.asarray(vertices, dtype=np.float64)
    depth = np.maximum(camera[:, 2], 1e-3)
    focal, cx, cy = intrinsics.focal, intrinsics.cx, intrinsics.cy
    columns, rows = camera[:, 0] / depth * focal + cx, camera[:, 1] / depth * focal + cy
    middle = float(np.median(depth))
    half_width, half_height = crop.width / 2, crop.height / 2
    return np.stack([(columns - crop.cx) / half_width, (crop.cy - rows) / half_height,
                     (middle - depth) * focal / middle / half_width], axis=1)


def overlap(box_xyxy: np.ndarray, crop: Crop) -> float:
    """The area of a person's box inside the crop, over the box's area."""
    x0, y0, x1, y1 = (float(v) for v in box_xyxy)
    left, top = crop.cx - crop.width / 2, crop.cy - crop.height / 2
    width = max(0.0, min(x1, left + crop.width) - max(x0, left))
    height = max(0.0, min(y1, top + crop.height) - max(y0, top))
    return width * height / max((x1 - x0) * (y1 - y0), 1e-6)


def person_in_crop(people: list[Person], crop: Crop) -> Person | None:
    """The person whose box lies most inside ``crop`` (ties: the larger, as the people are ordered), if any."""
    inside = [person for person in people if overlap(person.box_xyxy, crop) > 0.5]
    return max(inside, key=lambda person: overlap(person.box_xyxy, crop)) if inside else None


@functools.lru_cache(maxsize=1)
def photo_densepose() -> DensePosePredictor:
    """The bundled light DensePose on the people finder's people, built on first use: its points join the fit
    (on the synthetic held-out renders, body-guided Chamfer 4.24 to 4.07 cm; the statue scans 7.83 to 7.52)."""
    from human3d.densepose.predictor import densepose_predictor
    from human3d.people.finder import default_finder

    return densepose_predictor(finder=default_finder())


def fit_person(rgb: np.ndarray, crop: Crop | None = None, person: Person | None = None) -> BodyFit:
    """anny fitted to the person in ``crop`` of the photo ``rgb`` (uint8 [H, W, 3]; no crop: the largest person),
    to their keypoints and DensePose's points; ``person``: found already (else the people finder runs).
    Raises :class:`Human3DError` when there is none."""
    if person is None:
        from human3d.people.finder import find_people

        people = find_people(rgb)
        person = (people[0] if people else None) if crop is None else person_in_crop(people, crop)
        if person is None:
            where = "in the photo" if crop is None else "in the crop"
            raise Human3DError(f"no person found {where} to fit a body to (body-guided weights need one)")
    densepose = densepose_of(photo_densepose(), rgb, [person])
    return default_fitter().fit([person], rgb.shape[1], rgb.shape[0], densepose=densepose)[0]


def body_faces() -> np.ndarray:
    """The triangles (F, 3) of a fitted body's skin vertices (every anny body's skin)."""
    from human3d.body.model import get_body_model

    return get_body_model().topology.faces


def photo_body_guide(rgb: np.ndarray, crop: Crop, person: Person | None = None) -> BodyGuide:
    """The body guide of the person in ``crop`` of the photo ``rgb`` (uint8 [H, W, 3]); ``person``: found already
    (else the people finder runs). Raises :class:`Human3DError` when no person can be found or fitted there."""
    fit = fit_person(rgb, crop, person)
    return BodyGuide.of_mesh(body_in_crop(fit.vertices, fit.intrinsics, crop), body_faces())
