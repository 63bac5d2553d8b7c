"""The body fitted to a photo, in the PIFuHD crop frame: what a body-guided reconstruction reads, and what
bounds the depth of any reconstruction (:mod:`human3d.pifuhd.body_band`).

The person is the one the crop was made for (found already, or found now: the one whose box overlaps the
crop most); anny is fitted to them (:mod:`human3d.fit.body_fit`), their keypoints, BlazePose's relative
depths and the bundled light DensePose's points, as ``human3d body`` fits a photo but with the settings of
:data:`RECONSTRUCTION_FIT` (the depths rescaled, and trusted more facing the camera), and through two lenses,
the body being their mean (:data:`LENSES`, :func:`lens_mean`). Each
skin vertex goes where the camera sees it: its pixel gives x and y in the crop, and its depth, relative to the
body's median depth, is scaled as the image scales sizes at that depth (the crop frame's z has x's scale).

A fit whose outline disagrees with the person's mask (:func:`outline_agreement`) is refused to a body-guided
network (:func:`photo_body_guide`): it then reads no body (:meth:`BodyGuide.absent`) and reconstructs from the
image alone, as it was partly trained to. A depth bound still takes it, with wider margins
(:meth:`PhotoBody.bound_margin`).
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np

from human3d.densepose.predictor import DensePosePredictor
from human3d.errors import Human3DError
from human3d.fit.body_fit import BodyFit, BodyFitter, FitConfig
from human3d.fit.camera import FOCAL_PER_LONGER_SIDE, Intrinsics, default_intrinsics
from human3d.fit.dense_correspondences import densepose_of
from human3d.geometry.crop import Crop
from human3d.people.finder import Person
from human3d.people.landmarks import mirrored_landmarks
from human3d.pifuhd import preprocess
from human3d.pifuhd.back_view import Occupancy, likelier_body, maybe_from_behind
from human3d.pifuhd.body_band import DepthMargin
from human3d.pifuhd.body_guide import BodyGuide

MAX_SPILL = 0.15  # of the body's outline beyond the person's mask (a right body lies within the clothed person)
MIN_COVER = 0.35  # of the person's mask within the body's outline (loose clothes and hair lower it)
OUTLINE_SIZE = 256  # pixels of the crop where the two outlines are compared
# A fit whose outline disagrees still bounds depth (better than the network's slab), with margins this many
# times as wide: on the ten renders whose fits the check refuses, Chamfer 5.43 cm unbounded, 5.02 with the
# usual margins, 5.02 with these (1.5 times: 5.04; 3 times: 5.07); P2S 4.02, 4.21 (the wrong body cuts some of
# the person away) and 3.99 (docs: the 2026-12-07 bound-by-refused-fits report).
DISAGREEING_MARGIN = 2.0
# The fit a reconstruction reads: the depth lifter's keypoint depths (human3d.fit.depth_lifter), at weight 10
# facing the camera and 1 side-on or turned away (BlazePose's own depths: 10 and 0.02). Held-out Chamfer 2.36 to
# 2.22 cm, second held-out 3.33 to 3.22, statues 5.01 to 5.02. Trusted at 10 however the person turns: 2.23,
# 3.12 and 5.06, but on the body-fit benchmark's photos people with raised arms seen from behind were bent out of
# shape (PA-MPJPE 44 to 158 and 54 to 209 mm) (docs: the 2026-12-08 depth-lifter report).
RECONSTRUCTION_FIT = FitConfig(lifted_depths=True, depth_weight=1.0, facing_depth_weight=10.0)
# The fit before the lifter: BlazePose's relative depths at the scale they have on rendered people (0.3 of its
# pixels), trusted far more where the person faces the camera. Whether a person is seen from behind is decided
# between two such fits, as it was measured (human3d.pifuhd.back_view): the lifter's fit of a person seen from
# behind and read as facing the camera is a plausible body facing it, which the network's agreement can prefer.
BLAZEPOSE_FIT = FitConfig(landmark_depth_scale=0.3, facing_depth_weight=10.0)
# A photo's lens is unknown. The body that bounds a reconstruction is fitted through each of these lenses (focal
# lengths per pixel of the photo's longer side: a normal lens, and a long one, near the renders' orthographic
# camera) and is their mean, vertex by vertex, in the crop frame: where the fit wavers (which of its starts wins,
# how far a leg strides) the two partly average out. Held-out Chamfer 2.47 to 2.36 cm, second held-out 3.38 to
# 3.33, statues 5.00 to 5.01; either lens alone: 2.47 and 2.40 (docs: the 2026-12-07 two-lenses report).
LENSES = (FOCAL_PER_LONGER_SIDE, 4.0)
SAME_FACING = 0.7  # the cosine between two fits' forward axes from which they are averaged (about 45 degrees)


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


def found_person(rgb: np.ndarray, crop: Crop | None = None) -> Person:
    """The person in ``crop`` of the photo ``rgb`` (no crop: the largest), found by the people finder.
    Raises :class:`Human3DError` when there is none."""
    from human3d.people.finder import find_people

    people = find_people(rgb)
    person = (people[0] if people else None) if crop is None else person_in_crop(people, crop)
    if person is None:
        where = "in the photo" if crop is None else "in the crop"
        raise Human3DError(f"no person found {where} to fit a body to (body-guided weights need one)")
    return person


@functools.lru_cache(maxsize=2)
def reconstruction_fitter(lifted: bool = True) -> BodyFitter:
    """The fitter of :data:`RECONSTRUCTION_FIT` (``lifted``) or :data:`BLAZEPOSE_FIT`, built on first use."""
    return BodyFitter(RECONSTRUCTION_FIT if lifted else BLAZEPOSE_FIT)


def fit_person(rgb: np.ndarray, crop: Crop | None = None, person: Person | None = None,
               turned: bool = False, lifted: bool = True) -> BodyFit:
    """anny fitted to the person in ``crop`` of the photo ``rgb`` (uint8 [H, W, 3]; no crop: the largest person),
    to their keypoints and DensePose's points, through a normal lens; ``person``: found already (else
    :func:`found_person`). ``turned``: the person read as turned round
    (:func:`human3d.people.landmarks.mirrored_landmarks`; fitted to the mirrored keypoints alone, DensePose's
    points being named as the fit was). ``lifted``: the depth lifter's depths (:data:`RECONSTRUCTION_FIT`), else
    BlazePose's (:data:`BLAZEPOSE_FIT`)."""
    return fit_through_lenses(rgb, crop, person, turned, (FOCAL_PER_LONGER_SIDE,), lifted)[0]


def fit_through_lenses(rgb: np.ndarray, crop: Crop | None = None, person: Person | None = None,
                       turned: bool = False, lenses: Sequence[float] = LENSES, lifted: bool = True) -> list[BodyFit]:
    """:func:`fit_person`'s fit made once through each of ``lenses`` (focal lengths per pixel of the photo's
    longer side), DensePose run once."""
    person = found_person(rgb, crop) if person is None else person
    if turned:
        person = dataclasses.replace(person, landmarks=mirrored_landmarks(person.landmarks))
    densepose = None if turned else densepose_of(photo_densepose(), rgb, [person])
    height, width = rgb.shape[:2]
    return [reconstruction_fitter(lifted).fit([person], width, height, densepose=densepose,
                                        intrinsics=default_intrinsics(width, height, lens))[0] for lens in lenses]


def lens_mean(fits: list[BodyFit], crop: Crop) -> np.ndarray:
    """The skin vertices (V, 3) in the crop frame of the first of ``fits`` (one person fitted through several
    lenses), averaged vertex by vertex with those of the others whose forward axis lies within
    :data:`SAME_FACING` of its own (a fit turned the other way is no second opinion)."""
    forward = fits[0].rotation[:, 2]
    agreeing = [fit for fit in fits if float(fit.rotation[:, 2] @ forward) >= SAME_FACING]
    return np.mean([body_in_crop(fit.vertices, fit.intrinsics, crop) for fit in agreeing], axis=0)


def body_faces() -> np.ndarray:
    """The triangles (F, 3) of a fitted body's skin vertices (every anny body's skin)."""
    from human3d.body.model import get_body_model

    return get_body_model().topology.faces


def fit_guide(fit: BodyFit, crop: Crop) -> BodyGuide:
    """The :func:`skin_guide` of one fit's body in the crop frame of ``crop``."""
    return skin_guide(body_in_crop(fit.vertices, fit.intrinsics, crop))


def skin_guide(vertices: np.ndarray) -> BodyGuide:
    """The :class:`BodyGuide` of anny's skin ``vertices`` (V, 3) in the crop frame, knowing each face's DensePose
    part (the depth bound finds the head by them)."""
    from human3d.body.model import get_body_model

    topology = get_body_model().topology
    return BodyGuide.of_mesh(vertices, topology.faces, topology.face_parts)


@dataclass(frozen=True)
class OutlineAgreement:
    """How a fitted body's outline agrees with the person's mask, both in the crop."""

    cover: float  # the share of the mask that the body covers
    spill: float  # the share of the body's outline outside the mask

    @property
    def plausible(self) -> bool:
        """Whether the fit may guide the network: a body lies within the clothed person and fills most of them.
        On 110 training renders this refused 8 fits, each with a mean skin error of 20 to 40 cm."""
        return self.spill <= MAX_SPILL and self.cover >= MIN_COVER


def outline_agreement(guide: BodyGuide, mask: np.ndarray) -> OutlineAgreement:
    """The agreement of ``guide``'s body with the person's ``mask`` (bool [S, S], the crop's pixels)."""
    outline = np.abs(guide.normal_maps(mask.shape[0])[:3]).sum(0) > 0
    covered = float((outline & mask).sum())
    return OutlineAgreement(covered / max(float(mask.sum()), 1.0), 1.0 - covered / max(float(outline.sum()), 1.0))


def mask_in_crop(mask: np.ndarray, crop: Crop, size: int) -> np.ndarray:
    """A photo's bool ``mask`` [H, W] over ``crop``, at ``size`` x ``size`` pixels (False outside the photo)."""
    cropped = preprocess.crop(mask.astype(np.uint8), crop)
    return cv2.resize(cropped, (size, size), interpolation=cv2.INTER_NEAREST) > 0


@dataclass(frozen=True)
class PhotoBody:
    """The body fitted to a photo's person, in the crop frame, and how its outline agrees with their mask."""

    guide: BodyGuide
    agreement: OutlineAgreement

    def bound_margin(self, margin: float | tuple[float, float]) -> DepthMargin:
        """The margin (crop units; one number or front and back) the body bounds depth with: ``margin``, or
        :data:`DISAGREEING_MARGIN` times it where the outline disagrees (:attr:`OutlineAgreement.plausible`)."""
        scale = 1.0 if self.agreement.plausible else DISAGREEING_MARGIN
        return DepthMargin(*(scale * side for side in DepthMargin.of(margin)))


def photo_body(rgb: np.ndarray, crop: Crop, person: Person | None = None,
               occupancy: Occupancy | None = None) -> PhotoBody:
    """The body of the person in ``crop`` of the photo ``rgb`` (uint8 [H, W, 3]), however its outline agrees with
    theirs; ``person``: found already (else :func:`found_person`). ``occupancy``: the image's network, encoded;
    given, a fit facing the camera on a person who may be seen from behind is turned round where the network
    agrees with a turned fit more than with the fit as read, both with BlazePose's depths
    (:mod:`human3d.pifuhd.back_view`), and the turned person is fitted again with the lifter's. Raises
    :class:`Human3DError` when no person can be found there."""
    person = found_person(rgb, crop) if person is None else person
    fits = fit_through_lenses(rgb, crop, person)
    guide = skin_guide(lens_mean(fits, crop))
    mask = mask_in_crop(person.mask, crop, OUTLINE_SIZE)
    if occupancy is not None and maybe_from_behind(rgb, person, fits[0]):
        # decided between two fits with BlazePose's depths, as it was measured (BLAZEPOSE_FIT)
        as_read, turned = (fit_guide(fit_person(rgb, crop, person, turned=back, lifted=False), crop)
                           for back in (False, True))
        if likelier_body(as_read, turned, occupancy, mask) is turned:
            guide = fit_guide(fit_person(rgb, crop, person, turned=True), crop)
    return PhotoBody(guide, outline_agreement(guide, mask))


def photo_body_guide(rgb: np.ndarray, crop: Crop, person: Person | None = None) -> BodyGuide:
    """The body guide a body-guided network reads for the person in ``crop`` of the photo ``rgb``
    (:func:`photo_body`), or :meth:`BodyGuide.absent` when the fit's outline disagrees with their mask
    (:func:`outline_agreement`). Raises :class:`Human3DError` when no person can be found there."""
    body = photo_body(rgb, crop, person)
    return body.guide if body.agreement.plausible else BodyGuide.absent()
