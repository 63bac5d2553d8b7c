"""What keeps a fitted body human: pose and shape priors, as pure functions of the fitted parameters.

Poses are rotation vectors in :class:`human3d.body.model.BodyParams`' convention (about the world-aligned
axes x = the person's left, y = up, z = their front, at the bone's head, on top of the parent's). With
those axes a knee bends about +x (the shin goes back) and an elbow about -x (the forearm comes forward).
"""

from __future__ import annotations

import torch

FITTED_BONES: tuple[str, ...] = (
    "spine04", "spine02", "neck01", "head",
    "clavicle.L", "upperarm01.L", "lowerarm01.L", "clavicle.R", "upperarm01.R", "lowerarm01.R",
    "upperleg01.L", "lowerleg01.L", "foot.L", "upperleg01.R", "lowerleg01.R", "foot.R",
)  # fmt: skip
"""The bones whose rotation is fitted; the rest (fingers, toes, face, twist bones) stay at rest."""

HINGES: dict[str, float] = {"lowerleg01.L": 1.0, "lowerleg01.R": 1.0, "lowerarm01.L": -1.0, "lowerarm01.R": -1.0}
"""Knees and elbows: the sign of their bending about x."""

STIFFNESS: dict[str, float] = {"spine04": 4.0, "spine02": 4.0, "neck01": 2.0, "head": 1.0,
                               "clavicle.L": 8.0, "clavicle.R": 8.0, "foot.L": 2.0, "foot.R": 2.0}
"""How much more a bone resists turning than a limb (limbs: 1)."""

AXIS_STIFFNESS: dict[str, tuple[float, float, float]] = {"upperleg01.L": (1.0, 1.0, 11.0),
                                                         "upperleg01.R": (1.0, 1.0, 11.0)}
"""Bones that resist turning about some axes (x, y, z) more than about others, on top of ``STIFFNESS``: a hip
swings forward and back (about x) far more than it spreads sideways (about z). Without this, a leg seen
from the side could drift toward or away from the camera in a video's warm-started fits, where the
image cannot see it (tuning clips: PA-MPJPE 68 to 59 mm)."""


HINGE_COST = 20.0  # a knee or elbow bending the wrong way or twisting off its axis costs this much more


def pose_prior_residuals(pose: torch.Tensor, bones: tuple[str, ...] = FITTED_BONES) -> torch.Tensor:
    """Per body [B, R]: residuals whose squares sum to the pose prior, stiffness-weighted rotations plus
    hinge terms (knees and elbows only bend one way, about x)."""
    stiffness = pose.new_tensor([[STIFFNESS.get(bone, 1.0) * axis for axis in AXIS_STIFFNESS.get(bone, (1.0,) * 3)]
                                 for bone in bones]).sqrt()
    hinges = [bones.index(bone) for bone in HINGES]
    signs = pose.new_tensor([HINGES[bone] for bone in HINGES])
    hinge = HINGE_COST ** 0.5
    return torch.cat([(pose * stiffness).flatten(1), hinge * torch.relu(-pose[:, hinges, 0] * signs),
                      hinge * pose[:, hinges, 1:].flatten(1)], dim=1)


def shape_prior(phenotype: torch.Tensor) -> torch.Tensor:
    """Per body [B]: squared distance of anny's phenotype values (each in [0, 1]) from the average (0.5)."""
    return (phenotype - 0.5).pow(2).sum(dim=-1)
