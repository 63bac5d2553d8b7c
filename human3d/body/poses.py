"""Plausible random poses and shapes for anny, deterministic given a numpy Generator.

A pose is authored as the world rotation of a few key bones away from the rest A-pose (aim a
limb segment along a direction, tilt the pelvis, turn the head); every other bone follows its
parent. The deltas anny wants (``BodyParams.pose``) follow from the chain: the delta of bone c is
``R(parent)^T R(c)``. Angles stay inside ordinary joint ranges and the limb directions keep hands
and arms off the torso; where hands come close (sitting, crossed arms) the sampler poses the body
and redraws the arms while a hand sinks into it.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from human3d.body.model import BodyModel, BodyParams, PosedBody, get_body_model
from human3d.body.parts import PART_NAMES
from human3d.geometry.closest import depth_under

POSE_KINDS: tuple[str, ...] = ("standing", "walking", "sitting", "arms_raised", "arms_crossed", "bending")

# Per side: the hand and forearm parts, and the parts of the same arm (all others must stay clear).
_HAND_AND_FOREARM = {
    side: [i for i, n in enumerate(PART_NAMES, 1) if n.startswith(side) and ("hand" in n or "lower_arm" in n)]
    for side in ("left", "right")
}
_SAME_ARM = {
    side: [i for i, n in enumerate(PART_NAMES, 1) if n.startswith(side) and ("hand" in n or "arm" in n)]
    for side in ("left", "right")
}
# Kinds whose hands come near the body: their samples are posed and redrawn if a hand sinks in.
_CHECKED_KINDS = ("sitting", "arms_crossed")
MAX_HAND_DEPTH = 0.02

# Segment of each aimed bone: from its own head to the head of the bone that ends it.
_SEGMENT_END = {
    "upperarm01": "lowerarm01",
    "lowerarm01": "wrist",
    "upperleg01": "lowerleg01",
    "lowerleg01": "foot",
}
_X, _Y, _Z = np.eye(3)


def _unit(v: np.ndarray) -> np.ndarray:
    return np.asarray(v, dtype=np.float64) / np.linalg.norm(v)


def _rot(axis: np.ndarray, degrees: float) -> np.ndarray:
    return Rotation.from_rotvec(np.radians(degrees) * _unit(axis)).as_matrix()


def _tilt(direction: np.ndarray, toward: np.ndarray, degrees: float) -> np.ndarray:
    """``direction`` turned by ``degrees`` toward ``toward`` (in their common plane)."""
    d = _unit(direction)
    ortho = toward - d * (toward @ d)
    return _unit(d * np.cos(np.radians(degrees)) + _unit(ortho) * np.sin(np.radians(degrees)))


class _PoseBuilder:
    """Collects world rotations of key bones and turns them into anny's per-bone deltas."""

    def __init__(self, model: BodyModel) -> None:
        self.names = model.bone_names
        self.parents = model.anny.bone_parents
        self.rest_joints = model.rest_joints
        self.torso_front = model.rest_torso_front
        self.world: dict[str, np.ndarray] = {}

    def joint(self, bone: str) -> np.ndarray:
        return self.rest_joints[self.names.index(bone)]

    def reach(self, side: str, wrist: np.ndarray, elbow_hint: np.ndarray) -> None:
        """Aim one arm (two-bone IK on the rest skeleton) so its wrist lands at ``wrist``.

        The elbow bends toward ``elbow_hint``; rest-frame positions, torso held at rest.
        """
        shoulder = self.joint(f"upperarm01.{side}")
        upper = np.linalg.norm(self.joint(f"lowerarm01.{side}") - shoulder)
        fore = np.linalg.norm(self.joint(f"wrist.{side}") - self.joint(f"lowerarm01.{side}"))
        span = wrist - shoulder
        reach = np.clip(np.linalg.norm(span), abs(upper - fore) + 1e-3, upper + fore - 1e-3)
        u = _unit(span)
        v = _unit(elbow_hint - u * (elbow_hint @ u))
        cos_a = (upper**2 + reach**2 - fore**2) / (2.0 * upper * reach)
        elbow = shoulder + upper * (cos_a * u + np.sqrt(max(0.0, 1.0 - cos_a**2)) * v)
        self.aim(f"upperarm01.{side}", elbow - shoulder)
        self.aim(f"lowerarm01.{side}", shoulder + reach * u - elbow)

    def rest_direction(self, bone: str) -> np.ndarray:
        base, _, side = bone.partition(".")
        end = f"{_SEGMENT_END[base]}.{side}"
        return _unit(self.rest_joints[self.names.index(end)] - self.rest_joints[self.names.index(bone)])

    def set(self, bone: str, rotation: np.ndarray) -> None:
        self.world[bone] = rotation

    def aim(self, bone: str, direction: np.ndarray, twist: float = 0.0) -> None:
        """Rotate ``bone`` so its segment points along ``direction`` (minimal turn, then ``twist`` about it)."""
        rest = self.rest_direction(bone)
        target = _unit(direction)
        axis = np.cross(rest, target)
        angle = np.arctan2(np.linalg.norm(axis), rest @ target)
        turn = Rotation.from_rotvec(angle * _unit(axis)).as_matrix() if np.linalg.norm(axis) > 1e-9 else np.eye(3)
        self.world[bone] = _rot(target, twist) @ turn

    def pose(self) -> np.ndarray:
        world = [np.eye(3)] * len(self.names)
        deltas = np.zeros((len(self.names), 3), dtype=np.float32)
        for index, name in enumerate(self.names):
            parent = world[self.parents[index]] if index else np.eye(3)
            world[index] = self.world.get(name, parent)
            deltas[index] = Rotation.from_matrix(parent.T @ world[index]).as_rotvec()
        return deltas


def _arm_down(
    rng: np.random.Generator, side: float, spread: tuple[float, float], forward: tuple[float, float]
) -> np.ndarray:
    """An upper-arm direction hanging down, ``spread`` degrees out to the side, ``forward`` to the front."""
    return _tilt(_tilt(-_Y, side * _X, rng.uniform(*spread)), _Z, rng.uniform(*forward))


def _standing(b: _PoseBuilder, rng: np.random.Generator, phenotype: dict[str, float]) -> None:
    b.set("root", _rot(_X, rng.uniform(-3, 3)))
    b.set("spine03", b.world["root"] @ _rot(_Y, rng.uniform(-10, 10)))
    for side, s in (("L", 1.0), ("R", -1.0)):
        upper = _arm_down(rng, s, (8, 30), (-8, 15))
        b.aim(f"upperarm01.{side}", upper)
        b.aim(f"lowerarm01.{side}", _tilt(upper, _Z, rng.uniform(5, 45)))
        thigh = _tilt(_tilt(-_Y, s * _X, rng.uniform(0, 6)), _Z, rng.uniform(-4, 8))
        b.aim(f"upperleg01.{side}", thigh)
        b.aim(f"lowerleg01.{side}", _tilt(thigh, -_Z, rng.uniform(0, 8)))


def _walking(b: _PoseBuilder, rng: np.random.Generator, phenotype: dict[str, float]) -> None:
    lead = rng.choice([-1.0, 1.0])  # +1: the left leg steps forward
    stride = rng.uniform(10, 24)
    b.set("root", _rot(_X, rng.uniform(0, 6)))
    for side, s in (("L", 1.0), ("R", -1.0)):
        forward_leg = lead * s > 0
        swing = stride if forward_leg else -stride * rng.uniform(0.6, 1.0)
        thigh = _tilt(_tilt(-_Y, s * _X, rng.uniform(0, 4)), _Z, swing)
        b.aim(f"upperleg01.{side}", thigh)
        knee = rng.uniform(0, 12) if forward_leg else rng.uniform(5, 25)
        b.aim(f"lowerleg01.{side}", _tilt(thigh, -_Z, knee))
        spread = rng.uniform(8, 14) + 10 * phenotype["weight"]  # clear of the hips
        upper = _tilt(_tilt(-_Y, s * _X, spread), _Z, -0.8 * swing)
        b.aim(f"upperarm01.{side}", upper)
        b.aim(f"lowerarm01.{side}", _tilt(upper, _Z, rng.uniform(10, 40)))


def _sitting(b: _PoseBuilder, rng: np.random.Generator, phenotype: dict[str, float]) -> None:
    b.set("root", _rot(_X, rng.uniform(-10, 8)))
    hip, shin = rng.uniform(75, 95), rng.uniform(-10, 15)  # both feet on the floor: legs alike
    for side, s in (("L", 1.0), ("R", -1.0)):
        thigh = _tilt(_tilt(-_Y, _Z, hip + rng.uniform(-3, 3)), s * _X, rng.uniform(4, 14))
        b.aim(f"upperleg01.{side}", thigh)
        b.aim(f"lowerleg01.{side}", _tilt(-_Y, _Z, shin + rng.uniform(-4, 4)))
        upper = _arm_down(rng, s, (12, 22), (10, 35))
        b.aim(f"upperarm01.{side}", upper)
        b.aim(f"lowerarm01.{side}", _tilt(_tilt(_Z, -_Y, rng.uniform(15, 35)), s * _X, rng.uniform(0, 15)))


def _arms_raised(b: _PoseBuilder, rng: np.random.Generator, phenotype: dict[str, float]) -> None:
    _standing(b, rng, phenotype)
    raised = ("L", "R") if rng.uniform() < 0.7 else (rng.choice(["L", "R"]),)
    for side in raised:
        s = 1.0 if side == "L" else -1.0
        upper = _tilt(_tilt(s * _X, _Y, rng.uniform(35, 80)), _Z, rng.uniform(-5, 20))
        b.aim(f"upperarm01.{side}", upper)
        b.aim(f"lowerarm01.{side}", _tilt(upper, _Y if s * upper[0] > 0.3 else _Z, rng.uniform(0, 30)))


def _arms_crossed(b: _PoseBuilder, rng: np.random.Generator, phenotype: dict[str, float]) -> None:
    _standing(b, rng, phenotype)
    b.world.pop("spine03")  # keep the chest square to the crossed arms
    b.set("root", np.eye(3))
    top = rng.choice(["L", "R"])
    # Clear of the chest and belly, more so for heavier, more muscular bodies.
    clearance = 0.03 + 0.08 * phenotype["weight"] + 0.03 * phenotype["muscle"]
    shoulder_height = b.joint("upperarm01.L")[1]
    for side, s in (("L", 1.0), ("R", -1.0)):
        in_front = side == top
        other_shoulder = b.joint(f"upperarm01.{'R' if side == 'L' else 'L'}")
        wrist = np.array(
            [
                0.1 * other_shoulder[0] + s * rng.uniform(0.0, 0.03),
                shoulder_height - (0.19 if in_front else 0.26) + rng.uniform(-0.015, 0.015),
                b.torso_front + clearance + (0.09 if in_front else 0.0),
            ]
        )
        b.reach(side, wrist, elbow_hint=np.array([s * 1.0, -0.6, 0.2]))


def _bending(b: _PoseBuilder, rng: np.random.Generator, phenotype: dict[str, float]) -> None:
    bend = rng.uniform(25, 75)
    pelvis = _rot(_X, bend)
    b.set("root", pelvis)
    b.set("neck01", pelvis @ _rot(_X, -0.4 * bend))
    for side, s in (("L", 1.0), ("R", -1.0)):
        thigh = _tilt(_tilt(-_Y, s * _X, rng.uniform(0, 6)), _Z, rng.uniform(-6, 4))
        b.aim(f"upperleg01.{side}", thigh)
        b.aim(f"lowerleg01.{side}", _tilt(thigh, -_Z, rng.uniform(0, 10)))
        upper = _tilt(_tilt(-_Y, s * _X, rng.uniform(5, 15)), _Z, rng.uniform(0, 25))
        b.aim(f"upperarm01.{side}", upper)
        b.aim(f"lowerarm01.{side}", _tilt(upper, _Z, rng.uniform(0, 25)))


_BUILDERS = {
    "standing": _standing,
    "walking": _walking,
    "sitting": _sitting,
    "arms_raised": _arms_raised,
    "arms_crossed": _arms_crossed,
    "bending": _bending,
}


def sample_phenotype(rng: np.random.Generator) -> dict[str, float]:
    """A random anny phenotype: any gender, build and proportions; one in five a child, else an adult.

    Height is drawn around 0.4 (anny's 0.5 makes a 1.9 m young man) and clipped to [0.1, 0.75];
    muscle and weight are Beta(2, 2) so that extremes stay rare.
    """
    return {
        "gender": float(rng.uniform(0.0, 1.0)),
        "age": float(rng.uniform(0.2, 0.55) if rng.uniform() < 0.2 else rng.uniform(0.55, 1.0)),
        "muscle": float(rng.beta(2.0, 2.0)),
        "weight": float(rng.beta(2.0, 2.0)),
        "height": float(np.clip(rng.normal(0.4, 0.1), 0.1, 0.75)),
        "proportions": float(rng.uniform(0.0, 1.0)),
    }


def hand_depth(body: PosedBody) -> float:
    """Deepest any hand or forearm vertex lies inside the trunk, legs, head or the other arm (metres)."""
    deepest = 0.0
    for side, movers in _HAND_AND_FOREARM.items():
        points = body.vertices[np.unique(body.faces[np.isin(body.face_parts, movers)])]
        obstacles = body.faces[~np.isin(body.face_parts, _SAME_ARM[side])]
        deepest = max(deepest, float(depth_under(body.vertices, obstacles, points).max()))
    return deepest


def sample_body_params(
    rng: np.random.Generator, kind: str | None = None, model: BodyModel | None = None, tries: int = 6
) -> BodyParams:
    """A random person: phenotype and a pose of ``kind`` (one of :data:`POSE_KINDS`; None = random).

    Deterministic given the generator's state. ``model`` (default: the process-wide CPU model)
    supplies the skeleton the poses are aimed on. Sitting and crossed-arm poses are posed and
    redrawn (up to ``tries`` times) while a hand or forearm sinks more than 2 cm into the body.
    """
    if kind is None:
        kind = str(rng.choice(POSE_KINDS))
    if kind not in _BUILDERS:
        raise ValueError(f"unknown pose kind {kind!r}; known: {POSE_KINDS}")
    model = model or get_body_model()
    phenotype = sample_phenotype(rng)
    for _ in range(tries):
        builder = _PoseBuilder(model)
        _BUILDERS[kind](builder, rng, phenotype)
        params = BodyParams(phenotype=phenotype, pose=builder.pose(), kind=kind)
        if kind not in _CHECKED_KINDS or hand_depth(model.pose(params)) <= MAX_HAND_DEPTH:
            break
    return params
