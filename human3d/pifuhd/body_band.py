"""The fitted body as a bound on how deep the reconstructed person may be.

A single image fixes where the person is across it, not how far they reach toward or away from the camera:
seen from the side, a network that reads the image alone can return a slab, thick where the person is thin,
or with holes through the torso. The fitted body knows the depth. Along each pixel's ray over the body (its
own depth range, smoothed over :data:`SMOOTH`; past its outline, widened by :data:`WIDEN`, the widest range of
the body within reach, the two blended over :data:`GRADE` inside the outline, so that the cut has no seam
there), the surface may lie at most a :class:`DepthMargin` in front of the body's front or behind its back
(clothing, hair); farther is outside. The margin in front is the tighter: the network's own surface
overshoots toward the camera (on the synthetic held-out people its front lies a median 6 to 21 cm before the
true one on four of ten, its back within 3 cm on seven). Over the head, and past its outline where the head is
the nearest of the body, the range is the nearest head pixel's own and the margin :data:`HEAD_MARGIN_CM`
(a face wears nothing thick; hair lies behind; :data:`BARE_HEAD_BACK_CM` behind a head whose mask shows no
hair around it, :func:`hair_seen`): the network makes a head two lobes, before the face and behind
the skull, and the body's range widened from the nose would keep them at the head's sides. A point deeper
than ``fill`` inside the body is inside (the network leaves holes through a head or a torso); for this the body
is solid across gaps up to twice :data:`CLOSE_GAP` voxels wide (anny's mouth is a pocket of its skin). Over
the body's own pixels, between its front and its back along the ray, only the body is inside: the network fills
the air between two legs seen from the side, or between an arm and the torso, with a slab. The network decides
in front of the body's front and behind its back (within the margins), and off the body (a skirt, long hair)
nothing is bounded: the silhouette is the image's to say.

The bound is soft over :data:`RAMP` so that the mesh is smooth where it cuts. It changes only the occupancy
the mesh is extracted from (:class:`BoundedOccupancy`), never the network. By default it bounds human3d's
weights and not the official PIFuHD checkpoint, which runs as published (:func:`chosen_depth_margin`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np
import torch
from scipy import ndimage

from human3d.body.parts import HEAD_PARTS
from human3d.geometry.signed_distance import closed_volume
from human3d.pifuhd.body_guide import BodyGuide

MAP_SIZE = 512  # pixels across the crop of the body's depth maps
WIDEN = 0.06  # crop units (about 6 cm for a standing person): how far beyond the body's outline the bound reaches
GRADE = 0.03  # crop units inside the body's outline over which the widest range within WIDEN gives way to its own
SMOOTH = 0.03  # crop units: the Gaussian that smooths the body's depth over it (its shape, not its chest or fingers)
RAMP = 0.02  # crop units over which a bound goes from no effect to full
MARGIN_CM = (6.0, 12.0)  # default: how far the surface may lie in front of and behind the body (clothing, hair)
HEAD_MARGIN_CM = (2.0, 8.0)  # the same over the head, where it is tighter than the body's margin
BARE_HEAD_BACK_CM = 3.0  # behind a head with no hair seen around it (see hair_seen)
HAIR_SEEN = 0.15  # the share of the person's pixels beside the head (of the head's own) from which it has hair
BETWEEN_GAP = 0.01  # crop units: farther from the body, and between its front and back over it, is outside
CLOSE_GAP = 2  # voxels of the body's distance volume: the fill's body is solid across gaps up to twice as wide
FILL = 0.0  # crop units inside the body from which a point is inside (half inside at RAMP / 2, all at RAMP)
BOUND_CHOICES = ("auto", "on", "off")
HUMAN3D_RUNS = "human3d"  # how the run names of human3d's checkpoints begin (train pifuhd, the bundled weights)


class DepthMargin(NamedTuple):
    """How far (crop units) the surface may lie in front of the body's front and behind its back."""

    front: float
    back: float

    @classmethod
    def of(cls, margin: float | tuple[float, float]) -> DepthMargin:
        """``margin`` as a :class:`DepthMargin`: one number for both sides, or (front, back)."""
        front, back = (margin, margin) if np.isscalar(margin) else margin
        return cls(float(front), float(back))


def chosen_depth_margin(bound: str, run_name: str | None,
                        margin_cm: float | tuple[float, float] = MARGIN_CM) -> DepthMargin | None:
    """The ``depth_margin`` (crop units) that :func:`human3d.pifuhd.pipeline.reconstruct` bounds depth with:
    ``margin_cm`` (one number for both sides, or in front and behind; a standing adult's crop frame has about
    1 m per unit) when ``bound`` is "on", or "auto" with weights human3d trained (their checkpoint's
    ``run_name`` starts with "human3d"); None (not bounded) otherwise: "auto" runs the official PIFuHD
    checkpoint as published."""
    if bound not in BOUND_CHOICES:
        raise ValueError(f"bound must be one of {BOUND_CHOICES}")
    if bound == "auto":
        bound = "on" if (run_name or "").startswith(HUMAN3D_RUNS) else "off"
    centimetres = DepthMargin.of(margin_cm)
    return DepthMargin(centimetres.front / 100.0, centimetres.back / 100.0) if bound == "on" else None


@dataclass(frozen=True)
class DepthBand:
    """The body's nearest (``front``) and farthest (``back``) crop-frame z per pixel of the crop [S, S] (row 0
    at y = 1), NaN where the widened outline does not reach; ``body``: bool [S, S], the body's own pixels;
    ``head``: bool [S, S], the pixels whose range is the head's (None: the body's parts are not known)."""

    front: np.ndarray
    back: np.ndarray
    body: np.ndarray
    head: np.ndarray | None = None

    def sample(self, points: np.ndarray) -> BandSample:
        """The band at crop-frame points [N, 3] (their pixel's, looked up once)."""
        return self.at(crop_pixels(points, self.front.shape[0]))

    def at(self, pixel: tuple[np.ndarray, np.ndarray]) -> BandSample:
        """The band at its own pixels (rows and columns [N], as :func:`crop_pixels` gives them at its size)."""
        head = self.head[pixel] if self.head is not None else np.zeros(len(pixel[0]), bool)
        return BandSample(self.front[pixel], self.back[pixel], head, self.body[pixel])


class BandSample(NamedTuple):
    """A :class:`DepthBand` at some points [N]: its front and back (NaN off the band), whether over the head's
    pixels and whether over the body's own."""

    front: np.ndarray
    back: np.ndarray
    head: np.ndarray
    body: np.ndarray

    def between(self, depth: np.ndarray) -> np.ndarray:
        """bool [N]: whether the points, at crop ``depth`` [N], lie over the body, between its front and back."""
        with np.errstate(invalid="ignore"):
            return self.body & (depth < self.front) & (depth > self.back)


def crop_pixels(points: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The row and column [N] of the ``size`` x ``size`` crop's pixel (row 0 at y = 1) under crop-frame points
    [N, 3] (clamped to the crop)."""
    cols = np.clip(((points[:, 0] + 1) * 0.5 * size).astype(np.int64), 0, size - 1)
    rows = np.clip(((1 - points[:, 1]) * 0.5 * size).astype(np.int64), 0, size - 1)
    return rows, cols


def smoothed_over(values: np.ndarray, covered: np.ndarray, sigma: float) -> np.ndarray:
    """``values`` [S, S] averaged with a Gaussian of ``sigma`` pixels over the ``covered`` pixels only (bool
    [S, S]; the others do not count, and read 0)."""
    weight = ndimage.gaussian_filter(covered.astype(np.float64), sigma)
    average = ndimage.gaussian_filter(np.where(covered, values, 0.0), sigma) / np.maximum(weight, 1e-12)
    return np.where(covered, average, 0.0)


def depth_band(guide: BodyGuide, size: int = MAP_SIZE) -> DepthBand:
    """The :class:`DepthBand` of a present body guide (its mesh rendered orthographically over the crop); over
    the head when the guide knows its parts, the nearest head pixel's own range (see the module docstring)."""
    maps, distance = guide.rendered(size)
    covered = maps.mask > 0.5
    front = np.where(covered, distance - maps.depth_front, -np.inf)
    back = np.where(covered, distance - maps.depth_back, np.inf)
    reach = max(int(round(WIDEN / 2 * size)), 1)  # pixels: the crop spans 2 units
    footprint = np.ones((2 * reach + 1, 2 * reach + 1), bool)
    widest_front = ndimage.grey_dilation(front, footprint=footprint)
    widest_back = ndimage.grey_erosion(back, footprint=footprint)
    sigma = SMOOTH / 2 * size
    own_front, own_back = smoothed_over(front, covered, sigma), smoothed_over(back, covered, sigma)
    own = np.clip(ndimage.distance_transform_edt(covered) / (size / 2) / GRADE, 0.0, 1.0)  # 0 off the body
    front = own * own_front + (1 - own) * widest_front  # off the body: the widest (own_front reads 0 there)
    back = own * own_back + (1 - own) * widest_back
    head = None
    if guide.face_parts is not None and covered.any():
        gap, nearest = ndimage.distance_transform_edt(~covered, return_indices=True)
        nearest = tuple(nearest)  # each pixel's nearest body pixel (rows, columns)
        head = (covered & np.isin(np.rint(maps.iuv[..., 0]), HEAD_PARTS))[nearest] & (gap <= reach)
        front = np.where(head, own_front[nearest], front)
        back = np.where(head, own_back[nearest], back)
    off = ~np.isfinite(front)
    return DepthBand(np.where(off, np.nan, front).astype(np.float32), np.where(off, np.nan, back).astype(np.float32),
                     covered, head)


def resampled(mask: np.ndarray, size: int) -> np.ndarray:
    """A square bool ``mask`` [M, M] over the crop at ``size`` x ``size`` pixels (each its nearest)."""
    index = np.arange(size) * mask.shape[0] // size
    return mask[np.ix_(index, index)]


def hair_seen(band: DepthBand, person_mask: np.ndarray) -> float:
    """The person's pixels (bool ``person_mask`` [M, M] over the crop) past the head's outline but within its
    reach, as a share of the head's own pixels: hair seen around the head (with short hair, or none, the mask
    hugs the skull). 0 when the band knows no head."""
    if band.head is None:
        return 0.0
    person = resampled(person_mask, band.head.shape[0])
    return float((person & band.head & ~band.body).sum() / max((band.head & band.body).sum(), 1))


class BoundedOccupancy:
    """An occupancy function of crop-frame points [N, 3] bounded by a body guide (see the module docstring);
    ``margin``: crop units, one number for both sides or (front, back), over the head no more than
    :data:`HEAD_MARGIN_CM`; ``person_mask``: bool [M, M] at any size, the person's pixels over the crop (row 0 at
    y = 1), where the body may fill (looked up with the band's pixels, at its size); None: everywhere."""

    def __init__(self, occupancy: Callable[[np.ndarray], np.ndarray], guide: BodyGuide,
                 margin: float | tuple[float, float], fill: float = FILL,
                 person_mask: np.ndarray | None = None) -> None:
        self.occupancy, self.margin, self.fill = occupancy, DepthMargin.of(margin), fill
        self.band = depth_band(guide)
        self.person_mask = None if person_mask is None else resampled(person_mask, self.band.front.shape[0])
        head_cm = np.array(HEAD_MARGIN_CM)
        if self.person_mask is not None and hair_seen(self.band, self.person_mask) < HAIR_SEEN:
            head_cm[1] = min(head_cm[1], BARE_HEAD_BACK_CM)
        self.head_margin = DepthMargin(*np.minimum(head_cm / 100.0, self.margin))
        self.solid = BodyGuide(guide.vertices, guide.faces, closed_volume(guide.volume, CLOSE_GAP), guide.face_parts)

    def __call__(self, points: np.ndarray) -> np.ndarray:
        values = self.occupancy(points)
        pixel = crop_pixels(points, self.band.front.shape[0])  # the band's and the person mask's
        band = self.band.at(pixel)
        margin_front = np.where(band.head, self.head_margin.front, self.margin.front)
        margin_back = np.where(band.head, self.head_margin.back, self.margin.back)
        with np.errstate(invalid="ignore"):  # NaN off the body: not bounded
            beyond = np.nan_to_num(np.maximum(points[:, 2] - band.front - margin_front,
                                              band.back - points[:, 2] - margin_back), nan=-1.0)
        values = values * (1 - np.clip(beyond / RAMP, 0, 1))
        with torch.no_grad():
            points_t = torch.from_numpy(np.ascontiguousarray(points.T, np.float32))[None]
            distance = self.solid.features(points_t)[0, 0].numpy()
        values = values * (1 - band.between(points[:, 2]) * np.clip((distance - BETWEEN_GAP) / RAMP, 0, 1))
        inside = np.clip((-distance - self.fill) / RAMP, 0, 1)
        if self.person_mask is not None:
            inside = inside * self.person_mask[pixel]
        return (values + (1 - values) * inside).astype(np.float32)
