"""Training bodies that err the way fitted ones do: a synthetic person's true anny body, changed at random.

A body fitted to a photo is off in pose (about 5 cm per joint after alignment), in shape (about 0.2 per
phenotype value, :mod:`benchmarks.body_fit_accuracy`), in its turn about the vertical, a little in the image
plane and, most, in depth. A body-guided network trained on true bodies would trust them too much; one trained
on these learns to take the body's depth and build, and the image's outline and details.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from human3d.fit.priors import FITTED_BONES


@dataclass(frozen=True)
class BodyPerturbation:
    """Standard deviations of the changes (all 0: the true body)."""

    pose: float = 0.12  # radians, per axis of each fitted bone's rotation
    shape: float = 0.12  # per phenotype value (each in [0, 1])
    yaw: float = 0.08  # radians, the whole body about the vertical
    shift: float = 0.015  # crop-frame units (about metres), the body in the image plane
    depth: float = 0.03  # crop-frame units, the person's surface in front of or behind the body

    def description(self, person: dict, bone_names: list[str], rng: np.random.Generator) -> dict:
        """A copy of a person's ``meta.json`` description with pose, shape and yaw changed."""
        changed = copy.deepcopy(person)
        pose = np.asarray(changed["pose"], dtype=np.float64)
        bones = [bone_names.index(bone) for bone in FITTED_BONES]
        pose[bones] += rng.normal(0.0, self.pose, (len(bones), 3))
        changed["pose"] = pose.tolist()
        changed["phenotype"] = {name: float(np.clip(value + rng.normal(0.0, self.shape), 0.0, 1.0))
                                for name, value in changed["phenotype"].items()}
        changed["yaw"] = float(changed["yaw"]) + rng.normal(0.0, self.yaw)
        return changed

    def offsets(self, rng: np.random.Generator) -> tuple[np.ndarray, float]:
        """The body's shift in the image plane (x, y, 0) and the person's depth offset from it (crop units)."""
        return np.array([*rng.normal(0.0, self.shift, 2), 0.0]), float(rng.normal(0.0, self.depth))
