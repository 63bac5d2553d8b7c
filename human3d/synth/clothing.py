"""Clothing and hair that change the silhouette, attached to a posed body.

Garments are closed shells (see :mod:`human3d.synth.shells`):

* shirts, T-shirts, jackets, trousers, shorts, shoes: offset slabs over body regions chosen by
  DensePose part and by position along the bones (COCO-17 keypoints), loose where real clothes are
  (flared hems, wide legs, folds);
* skirts and dresses: a generalized cylinder hanging from the waist, wider than the body at every
  height, closed at the hem (solid between the legs, as watertight scans are);
* hair: an inflated cap over the scalp, plus a bun or a long-hair volume.

Garment faces carry the DensePose part and U,V beneath them (offset slabs copy the body face they
come from; cylinders and hair volumes take :func:`human3d.body.charts.closest_iuv`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from human3d.body.parts import HEAD_PARTS
from human3d.synth.renderer import vertex_normals
from human3d.synth.shells import Shell, closed_tube, ellipsoid, offset_shell

if TYPE_CHECKING:
    from human3d.body.model import PosedBody

LABELS = {"background": 0, "skin": 1, "hair": 2, "top": 3, "bottom": 4, "dress": 5, "shoes": 6}
"""Garment classes of the ``label`` map."""

TOPS = ("tshirt", "shirt", "jacket", "tank")
BOTTOMS = ("trousers", "wide_trousers", "shorts", "skirt", "long_skirt")
HAIR = ("none", "short", "bob", "bun", "long")

TORSO, HANDS, FEET = (1, 2), (3, 4), (5, 6)
UPPER_LEGS, LOWER_LEGS = (7, 8, 9, 10), (11, 12, 13, 14)
UPPER_ARMS, LOWER_ARMS = (15, 16, 17, 18), (19, 20, 21, 22)
# COCO-17 indices
NOSE, L_EAR, R_EAR, L_SHOULDER, R_SHOULDER, L_ELBOW, R_ELBOW, L_WRIST, R_WRIST = 0, 3, 4, 5, 6, 7, 8, 9, 10
L_HIP, R_HIP, L_KNEE, R_KNEE, L_ANKLE, R_ANKLE = 11, 12, 13, 14, 15, 16
LEFT_PARTS = {4, 5, 8, 10, 12, 14, 15, 17, 19, 21}


@dataclass
class Outfit:
    """What one person wears; every number is drawn by :func:`sample_outfit`."""

    top: str = "tshirt"
    bottom: str = "trousers"
    hair: str = "short"
    shoes: bool = True
    looseness: float = 0.5  # 0 tight .. 1 very loose
    sleeve: float = 0.5  # fraction of the upper arm (short sleeves) or of the lower arm (long)
    hem: float = 0.5  # skirt/shorts length: 0 short .. 1 long
    hair_volume: float = 0.5
    fold_phase: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])


@dataclass
class Garment:
    """One closed garment shell with its class label."""

    name: str
    label: int
    shell: Shell


def sample_outfit(rng: np.random.Generator) -> Outfit:
    """A random outfit (deterministic given the generator state)."""
    top = str(rng.choice(TOPS))
    return Outfit(
        top=top,
        bottom=str(rng.choice(BOTTOMS, p=[0.3, 0.15, 0.2, 0.2, 0.15])),
        hair=str(rng.choice(HAIR, p=[0.1, 0.3, 0.2, 0.15, 0.25])),
        shoes=bool(rng.random() < 0.9),
        looseness=float(rng.uniform(0.0, 1.0)),
        sleeve=float(rng.uniform(0.3, 1.0)) if top != "tank" else 0.0,
        hem=float(rng.uniform(0.0, 1.0)),
        hair_volume=float(rng.uniform(0.2, 1.0)),
        fold_phase=[float(v) for v in rng.uniform(0, 2 * np.pi, 3)],
    )


def _along(points: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Position of ``points`` along the segment start -> end (0 at start, 1 at end)."""
    axis = end - start
    return (points - start) @ axis / max(float(axis @ axis), 1e-12)


def _sided(parts: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Per face, the left-side value where the part is on the person's left, else the right one."""
    is_left = np.isin(parts, list(LEFT_PARTS))
    return np.where(is_left, left, right)


def _folds(points: np.ndarray, phase: list[float], wavelength: float = 0.09) -> np.ndarray:
    """Smooth pseudo-random fold pattern in [-1, 1] over 3-D points."""
    k = 2 * np.pi / wavelength
    return (
        np.sin(points[:, 0] * k + phase[0])
        + np.sin(points[:, 1] * k * 0.7 + phase[1])
        + np.sin(points[:, 2] * k + phase[2])
    ) / 3.0


class _BodyRegions:
    """Per-face positions along the limbs of one posed body, shared by all its garments."""

    def __init__(self, body: "PosedBody") -> None:
        self.body = body
        self.vertices = np.asarray(body.vertices, dtype=np.float64)
        self.faces = np.asarray(body.faces, dtype=np.int64)
        self.parts = np.asarray(body.face_parts)
        self.normals = vertex_normals(self.vertices, self.faces)
        k = np.asarray(body.keypoints_coco17, dtype=np.float64)[:, :3]
        self.k = k
        centres = self.vertices[self.faces].mean(axis=1)
        self.centres = centres
        self.hip_mid = (k[L_HIP] + k[R_HIP]) / 2
        self.shoulder_mid = (k[L_SHOULDER] + k[R_SHOULDER]) / 2
        self.torso = _along(centres, self.hip_mid, self.shoulder_mid)
        self.upper_arm = _sided(
            self.parts, _along(centres, k[L_SHOULDER], k[L_ELBOW]), _along(centres, k[R_SHOULDER], k[R_ELBOW])
        )
        self.lower_arm = _sided(
            self.parts, _along(centres, k[L_ELBOW], k[L_WRIST]), _along(centres, k[R_ELBOW], k[R_WRIST])
        )
        self.upper_leg = _sided(self.parts, _along(centres, k[L_HIP], k[L_KNEE]), _along(centres, k[R_HIP], k[R_KNEE]))
        self.lower_leg = _sided(
            self.parts, _along(centres, k[L_KNEE], k[L_ANKLE]), _along(centres, k[R_KNEE], k[R_ANKLE])
        )

    def is_part(self, parts) -> np.ndarray:
        return np.isin(self.parts, list(parts))

    def vertex_values(self, selected: np.ndarray, face_values: np.ndarray) -> np.ndarray:
        """Per-vertex mean of ``face_values`` over the selected faces around each vertex."""
        corners = self.faces[selected].reshape(-1)
        values = np.repeat(face_values[selected], 3)
        total = np.bincount(corners, values, minlength=len(self.vertices))
        count = np.bincount(corners, minlength=len(self.vertices))
        return total / np.maximum(count, 1)

    def slab(self, selected: np.ndarray, face_thickness: np.ndarray) -> Shell:
        body = self.body
        thickness = self.vertex_values(selected, face_thickness)
        return offset_shell(
            self.vertices, self.faces, self.parts, np.asarray(body.corner_uv), selected, thickness, self.normals
        )


def _top(regions: _BodyRegions, outfit: Outfit) -> Shell:
    loose = outfit.looseness
    base = {"tshirt": 0.008, "shirt": 0.012, "jacket": 0.025, "tank": 0.006}[outfit.top]
    flare = {"tshirt": 0.02, "shirt": 0.035, "jacket": 0.04, "tank": 0.015}[outfit.top] * loose
    hem = -0.05 if outfit.top == "jacket" else 0.05
    torso = regions.is_part(TORSO) & (regions.torso > hem)
    selected = torso.copy()
    sleeve_thickness = np.zeros(len(regions.parts))
    if outfit.top != "tank":
        long_sleeves = outfit.top in ("shirt", "jacket")
        if long_sleeves:
            selected |= regions.is_part(UPPER_ARMS)
            selected |= regions.is_part(LOWER_ARMS) & (regions.lower_arm < 0.5 + 0.45 * outfit.sleeve)
        else:
            selected |= regions.is_part(UPPER_ARMS) & (regions.upper_arm < 0.25 + 0.6 * outfit.sleeve)
        sleeve_thickness = base + 0.5 * flare * np.clip(
            np.where(regions.is_part(LOWER_ARMS), 1.0 + regions.lower_arm, regions.upper_arm), 0, 2
        )
    lower = np.clip(1.0 - regions.torso / 0.7, 0.0, 1.0)
    thickness = np.where(regions.is_part(TORSO), base + flare * lower, sleeve_thickness)
    thickness *= 1.0 + 0.35 * loose * _folds(regions.centres, outfit.fold_phase)
    return regions.slab(selected, thickness)


def _bottom_slab(regions: _BodyRegions, outfit: Outfit) -> Shell:
    loose = outfit.looseness
    waist = 0.35
    selected = regions.is_part(TORSO) & (regions.torso < waist)
    selected |= regions.is_part(UPPER_LEGS)
    if outfit.bottom == "shorts":
        selected &= ~regions.is_part(UPPER_LEGS) | (regions.upper_leg < 0.35 + 0.6 * outfit.hem)
        leg_flare = 0.02 * loose * np.clip(regions.upper_leg, 0, 1)
    else:
        selected |= regions.is_part(LOWER_LEGS) & (regions.lower_leg < 0.97)
        wide = 0.06 if outfit.bottom == "wide_trousers" else 0.015
        down = np.where(regions.is_part(LOWER_LEGS), 1.0 + regions.lower_leg, regions.upper_leg)
        leg_flare = wide * (0.3 + loose) * np.clip(down / 2.0, 0, 1)
    thickness = 0.008 + np.where(regions.is_part(TORSO), 0.0, leg_flare)
    thickness *= 1.0 + 0.3 * loose * _folds(regions.centres, outfit.fold_phase[::-1])
    return regions.slab(selected, thickness)


def _skirt(regions: _BodyRegions, outfit: Outfit, top_fraction: float, segments: int = 48, rings: int = 18) -> Shell:
    """A generalized cylinder around the hips and legs, from ``top_fraction`` up the torso down to the hem."""
    k, vertices = regions.k, regions.vertices
    top_y = float(regions.hip_mid[1] + top_fraction * (regions.shoulder_mid[1] - regions.hip_mid[1]))
    knee_y = float((k[L_KNEE, 1] + k[R_KNEE, 1]) / 2)
    ankle_y = float((k[L_ANKLE, 1] + k[R_ANKLE, 1]) / 2)
    long_skirt = outfit.bottom == "long_skirt"
    hem_y = (
        knee_y + (0.25 - 0.45 * outfit.hem) * (regions.hip_mid[1] - knee_y)
        if not long_skirt
        else ankle_y + (0.5 - 0.4 * outfit.hem) * (knee_y - ankle_y)
    )
    centre = regions.hip_mid
    body_faces = regions.is_part((*TORSO, *UPPER_LEGS, *LOWER_LEGS))
    keep = np.zeros(len(vertices), dtype=bool)
    keep[regions.faces[body_faces].reshape(-1)] = True
    points = vertices[keep]
    angles = np.arctan2(points[:, 2] - centre[2], points[:, 0] - centre[0])
    radius = np.hypot(points[:, 0] - centre[0], points[:, 2] - centre[2])
    bins = ((angles + np.pi) / (2 * np.pi) * segments).astype(np.int64) % segments
    heights = np.linspace(top_y, hem_y, rings)
    band = abs(top_y - hem_y) / rings + 0.02
    ease = 0.012 + 0.03 * outfit.looseness
    flare = (0.06 + 0.14 * outfit.looseness) * (1.3 if long_skirt else 1.0)
    profile = np.zeros((rings, segments))
    for r, y in enumerate(heights):
        near = np.abs(points[:, 1] - y) < band
        ring = np.zeros(segments)
        np.maximum.at(ring, bins[near], radius[near])
        profile[r] = ring
    profile = np.maximum.accumulate(profile, axis=0)  # never narrower further down
    profile = np.maximum(profile, profile.max(axis=1, keepdims=True) * 0.6)
    kernel = np.array([0.25, 0.5, 0.25])
    for _ in range(3):  # smooth around the ring
        profile = kernel[0] * np.roll(profile, 1, 1) + kernel[1] * profile + kernel[2] * np.roll(profile, -1, 1)
    depth = np.linspace(0.0, 1.0, rings)[:, None]
    theta = (np.arange(segments) + 0.5) / segments * 2 * np.pi - np.pi
    wave = 1.0 + 0.08 * outfit.looseness * depth * np.sin(theta * 7 + outfit.fold_phase[0])
    profile = (profile + ease + flare * depth**1.5) * wave
    ring_points = np.stack(
        [
            centre[0] + profile * np.cos(theta),
            np.broadcast_to(heights[:, None], profile.shape),
            centre[2] + profile * np.sin(theta),
        ],
        axis=-1,
    )
    mesh_vertices, mesh_faces = closed_tube(ring_points)
    return _labelled_by_closest(regions.body, mesh_vertices, mesh_faces)


def _labelled_by_closest(body: "PosedBody", vertices: np.ndarray, faces: np.ndarray) -> Shell:
    """A shell whose faces take the DensePose part and U,V of the closest body surface.

    A face takes the part of its centre; a corner whose closest part differs keeps the centre's U,V,
    so no face interpolates across two charts."""
    from human3d.body.charts import closest_iuv

    centres = vertices[faces].mean(axis=1)
    points = np.concatenate([vertices, centres]).astype(np.float32)
    parts, u, v = (np.asarray(a) for a in closest_iuv(body, points))
    vertex_part, face_part = parts[: len(vertices)], parts[len(vertices) :]
    vertex_uv = np.stack([u[: len(vertices)], v[: len(vertices)]], -1)
    face_uv = np.stack([u[len(vertices) :], v[len(vertices) :]], -1)
    same = vertex_part[faces] == face_part[:, None]
    corner_uv = np.where(same[..., None], vertex_uv[faces], face_uv[:, None, :])
    return Shell(
        vertices.astype(np.float32), faces.astype(np.int32), face_part.astype(np.uint8), corner_uv.astype(np.float32)
    )


def _head_frame(regions: _BodyRegions) -> tuple[np.ndarray, np.ndarray]:
    """Head centre and axes (rows: right, up, forward) from the ears, nose and shoulders."""
    k = regions.k
    centre = (k[L_EAR] + k[R_EAR]) / 2
    up = centre - regions.shoulder_mid
    up /= np.linalg.norm(up)
    forward = k[NOSE] - centre
    forward -= (forward @ up) * up
    forward /= max(np.linalg.norm(forward), 1e-9)
    right = np.cross(up, forward)
    return centre, np.stack([right, up, forward])


def _hair(regions: _BodyRegions, outfit: Outfit) -> list[Shell]:
    centre, axes = _head_frame(regions)
    local = (regions.centres - centre) @ axes.T  # right, up, forward
    nape = {"short": 0.03, "bob": 0.06, "bun": 0.05, "long": 0.07}[outfit.hair]
    scalp = regions.is_part(HEAD_PARTS) & (
        (local[:, 1] > 0.045 + 0.3 * np.maximum(local[:, 2], 0)) | ((local[:, 2] < -0.02) & (local[:, 1] > -nape))
    )
    volume = 0.008 + 0.025 * outfit.hair_volume * (1.5 if outfit.hair == "bob" else 1.0)
    lift = np.clip((local[:, 1] + nape) / 0.15, 0.2, 1.0)  # fuller on top
    shells = [regions.slab(scalp, volume * lift * (1 + 0.2 * _folds(regions.centres, outfit.fold_phase, 0.05)))]
    if outfit.hair == "bun":
        bun_centre = centre + axes[1] * 0.06 - axes[2] * 0.1
        shells.append(
            _labelled_by_closest(
                regions.body, *ellipsoid(bun_centre, axes, np.array([0.05, 0.045, 0.045]), subdivisions=2)
            )
        )
    elif outfit.hair == "long":
        length = 0.12 + 0.12 * outfit.hair_volume
        hang = centre - axes[1] * (length - 0.02) - axes[2] * 0.07
        radii = np.array([0.09 + 0.02 * outfit.hair_volume, length, 0.035 + 0.02 * outfit.hair_volume])
        shells.append(_labelled_by_closest(regions.body, *ellipsoid(hang, axes, radii, subdivisions=2)))
    return shells


def _shoes(regions: _BodyRegions) -> Shell:
    selected = regions.is_part(FEET) | (regions.is_part(LOWER_LEGS) & (regions.lower_leg > 0.9))
    thickness = np.full(len(regions.parts), 0.012)
    return regions.slab(selected, thickness)


def _thighs_vertical(regions: _BodyRegions, max_degrees: float = 35.0) -> bool:
    """True when both thighs hang within ``max_degrees`` of straight down (a skirt can hang from the hips)."""
    k = regions.k
    for hip, knee in ((L_HIP, L_KNEE), (R_HIP, R_KNEE)):
        thigh = k[knee] - k[hip]
        if -thigh[1] < np.cos(np.radians(max_degrees)) * np.linalg.norm(thigh):
            return False
    return True


def dress_body(body: "PosedBody", outfit: Outfit) -> list[Garment]:
    """Every garment of ``outfit`` as a closed shell on the posed ``body``.

    Skirts need hanging thighs: on a sitting or striding body they become shorts or wide trousers."""
    regions = _BodyRegions(body)
    garments = [Garment(outfit.top, LABELS["top"], _top(regions, outfit))]
    if outfit.bottom in ("skirt", "long_skirt") and not _thighs_vertical(regions):
        outfit = dataclasses.replace(outfit, bottom="shorts" if outfit.bottom == "skirt" else "wide_trousers")
    if outfit.bottom in ("skirt", "long_skirt"):
        # Short skirts start at the waist; a long skirt under a tank top reads as a dress.
        dress = outfit.bottom == "long_skirt" and outfit.top == "tank"
        garments.append(
            Garment(
                "dress" if dress else outfit.bottom,
                LABELS["dress" if dress else "bottom"],
                _skirt(regions, outfit, 0.3),
            )
        )
    else:
        garments.append(Garment(outfit.bottom, LABELS["bottom"], _bottom_slab(regions, outfit)))
    if outfit.shoes:
        garments.append(Garment("shoes", LABELS["shoes"], _shoes(regions)))
    if outfit.hair != "none":
        garments.extend(Garment(f"hair_{outfit.hair}", LABELS["hair"], shell) for shell in _hair(regions, outfit))
    return garments
