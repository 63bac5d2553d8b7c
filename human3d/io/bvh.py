"""One person's motion as a BVH file (Biovision hierarchy), and a small reader for such files.

HIERARCHY: anny's 104 bones (names = anny's bone labels), offsets in **metres** along the world axes (y up,
the rest body facing +z) from anny's rest A-pose of the person's phenotype (the root's offset is 0); every
leaf ends in an ``End Site`` half as long as the leaf's own offset. Channels: the root ``Xposition Yposition
Zposition Zrotation Xrotation Yrotation`` (its head's position in the world, metres), every other joint
``Zrotation Xrotation Yrotation``, in degrees: a joint's rotation relative to its parent is
``Rz(z) @ Rx(x) @ Ry(y)`` (column vectors), and a joint's head is its parent's head plus the parent's
global rotation times its offset. MOTION: one line per frame, ``Frame Time`` = 1 / fps. See
:mod:`human3d.body.rig` and docs/formats.md.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from human3d.body.model import BodyModel
from human3d.body.motion import BodyMotion
from human3d.body.rig import RiggedMotion, rig_motion
from human3d.errors import Human3DError
from human3d.io.atomic import write_text_atomic

ROTATION_CHANNELS = ("Zrotation", "Xrotation", "Yrotation")
"""The rotation channels of every joint, in this order: the rotation is Rz @ Rx @ Ry."""
POSITION_CHANNELS = ("Xposition", "Yposition", "Zposition")
"""The root's position channels (metres), before its rotation channels."""


@dataclass
class BvhData:
    """A BVH file's skeleton and motion, joints in file order (J joints, F frames, C channels in all)."""

    names: list[str]
    parents: np.ndarray  # (J,) int, -1 for the root
    offsets: np.ndarray  # (J, 3) float64
    channels: list[tuple[str, ...]]  # each joint's channel names, in file order
    end_sites: dict[int, np.ndarray]  # joint index -> (3,) offset of its End Site
    frame_time: float
    motion: np.ndarray  # (F, C) float64, the joints' channels one after the other


def _children(parents: np.ndarray) -> list[list[int]]:
    """Each bone's children, in bone order."""
    children: list[list[int]] = [[] for _ in parents]
    for bone, parent in enumerate(parents[1:], start=1):
        children[parent].append(bone)
    return children


def _depth_first(children: list[list[int]], bone: int = 0) -> list[int]:
    """``bone`` and its descendants in the order a BVH hierarchy lists them."""
    return [bone] + [b for child in children[bone] for b in _depth_first(children, child)]


def _joint_lines(rig: RiggedMotion, children: list[list[int]], bone: int = 0, depth: int = 0) -> list[str]:
    """The HIERARCHY lines of ``bone`` and its descendants."""
    pad = "  " * depth
    channels = (POSITION_CHANNELS if bone == 0 else ()) + ROTATION_CHANNELS
    offset = rig.offsets[bone] if bone else np.zeros(3)  # the root's position channels say where it is
    lines = [
        f"{pad}{'ROOT' if bone == 0 else 'JOINT'} {rig.names[bone]}",
        pad + "{",
        f"{pad}  OFFSET {_numbers(offset)}",
        f"{pad}  CHANNELS {len(channels)} {' '.join(channels)}",
    ]
    for child in children[bone]:
        lines += _joint_lines(rig, children, child, depth + 1)
    if not children[bone]:
        end_site = f"{pad}    OFFSET {_numbers(0.5 * rig.offsets[bone])}"
        lines += [f"{pad}  End Site", f"{pad}  {{", end_site, f"{pad}  }}"]
    return lines + [pad + "}"]


def _numbers(values: np.ndarray) -> str:
    return " ".join(f"{x:.6f}" for x in values)


def write_bvh(path: str | Path, motion: BodyMotion, body_model: BodyModel) -> None:
    """Write one person's ``motion`` as a BVH file, atomically (see the module docstring for the conventions).

    Bad input (no frames, shapes that do not fit anny's 104 bones) raises :class:`Human3DError`.
    """
    try:
        rig = rig_motion(motion, body_model)
    except ValueError as error:
        raise Human3DError.for_path(path, str(error)) from None
    children = _children(rig.parents)
    order = _depth_first(children)
    frames = len(rig.root_positions)
    rotations = Rotation.from_matrix(rig.local_rotations[:, order].reshape(-1, 3, 3))
    with warnings.catch_warnings():  # "gimbal lock" at 90 degrees about x: the angles still give the rotation
        warnings.simplefilter("ignore", UserWarning)
        angles = rotations.as_euler("ZXY", degrees=True)
    angles = np.unwrap(angles.reshape(frames, -1), period=360.0, axis=0)  # no 360-degree jumps between frames
    values = np.concatenate([rig.root_positions, angles], axis=1)
    lines = ["HIERARCHY", *_joint_lines(rig, children)]
    lines += ["MOTION", f"Frames: {frames}", f"Frame Time: {1.0 / rig.fps:.8f}", *map(_numbers, values)]
    write_text_atomic(path, "\n".join(lines) + "\n")


class _Tokens:
    """The whitespace-separated words of a file, read one at a time."""

    def __init__(self, path: Path, text: str) -> None:
        self.path, self.words, self.at = path, text.split(), 0

    def next(self, expected: str | None = None) -> str:
        if self.at >= len(self.words):
            raise Human3DError.for_path(self.path, "not a BVH file (it ends too early)")
        word = self.words[self.at]
        self.at += 1
        if expected is not None and word != expected:
            raise Human3DError.for_path(self.path, f"not a BVH file (expected {expected!r}, found {word!r})")
        return word

    def numbers(self, count: int) -> list[float]:
        try:
            return [float(self.next()) for _ in range(count)]
        except ValueError:
            raise Human3DError.for_path(self.path, "not a BVH file (a number was expected)") from None


def read_bvh(path: str | Path) -> BvhData:
    """Read a BVH file's joints, offsets, channels and motion (:class:`Human3DError` if it is not one)."""
    path = Path(path)
    if not path.is_file():
        raise Human3DError.for_path(path, "BVH file not found")
    tokens = _Tokens(path, path.read_text(encoding="utf-8", errors="replace"))
    tokens.next("HIERARCHY")
    data = BvhData([], np.zeros(0, int), np.zeros((0, 3)), [], {}, 0.0, np.zeros((0, 0)))
    parents: list[int] = []
    offsets: list[list[float]] = []
    stack: list[int] = []  # the joints whose braces are open
    word = tokens.next("ROOT")
    while True:
        if word in ("ROOT", "JOINT"):
            data.names.append(tokens.next())
            parents.append(stack[-1] if stack else -1)
            tokens.next("{")
            tokens.next("OFFSET")
            offsets.append(tokens.numbers(3))
            tokens.next("CHANNELS")
            data.channels.append(tuple(tokens.next() for _ in range(int(tokens.numbers(1)[0]))))
            stack.append(len(data.names) - 1)
        elif word == "End":
            tokens.next("Site")
            tokens.next("{")
            tokens.next("OFFSET")
            data.end_sites[stack[-1]] = np.array(tokens.numbers(3))
            tokens.next("}")
        elif word == "}" and stack:
            stack.pop()
            if not stack:
                break
        else:
            raise Human3DError.for_path(path, f"not a BVH file (unexpected {word!r} in the hierarchy)")
        word = tokens.next()
    tokens.next("MOTION")
    tokens.next("Frames:")
    frames = int(tokens.numbers(1)[0])
    tokens.next("Frame")
    tokens.next("Time:")
    data.frame_time = tokens.numbers(1)[0]
    width = sum(len(c) for c in data.channels)
    data.motion = np.array(tokens.numbers(frames * width)).reshape(frames, width)
    data.parents = np.array(parents)
    data.offsets = np.array(offsets)
    return data
