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

HIPS: tuple[str, ...] = ("upperleg01.L", "upperleg01.R")
SPREAD_IN_SIGHT = 11.0
"""How much more a hip resists spreading the leg sideways (turning about z) when the person is seen from
the side, their sideways direction along the camera's line of sight. There the image cannot tell a leg
swung forward from one spread toward the camera, and hips abduct far less than they flex. Seen from the
front, a spread leg is in plain view and costs what a swing costs; in between, the extra cost grows with
the square of the sideways axis' share of the line of sight, so a three-quarter view costs little.
Without this, a walker's leg seen from the side drifted toward the camera in a video's warm-started fits
(tuning clips: PA-MPJPE 68 to 60 mm)."""


HINGE_COST = 20.0  # a knee or elbow bending the wrong way or twisting off its axis costs this much more


def pose_prior_residuals(pose: torch.Tensor, sideways_in_sight: torch.Tensor | None = None,
                         bones: tuple[str, ...] = FITTED_BONES) -> torch.Tensor:
    """Per body [B, R]: residuals whose squares sum to the pose prior, stiffness-weighted rotations plus
    hinge terms (knees and elbows only bend one way, about x). ``sideways_in_sight`` [B]: how much of each
    body's sideways axis (x) lies along the camera's line of sight (its squared depth component, 0 to 1);
    a hip's sideways spread then costs ``1 + (SPREAD_IN_SIGHT - 1) * sideways_in_sight ** 2`` times more.
    None: 0 (seen from the front)."""
    stiffness = pose.new_tensor([STIFFNESS.get(bone, 1.0) for bone in bones])[None, :, None].repeat(len(pose), 1, 3)
    if sideways_in_sight is not None:
        hips = [bones.index(bone) for bone in HIPS]
        stiffness[:, hips, 2] *= 1.0 + (SPREAD_IN_SIGHT - 1.0) * sideways_in_sight[:, None] ** 2
    hinges = [bones.index(bone) for bone in HINGES]
    signs = pose.new_tensor([HINGES[bone] for bone in HINGES])
    hinge = HINGE_COST ** 0.5
    return torch.cat([(pose * stiffness.sqrt()).flatten(1), hinge * torch.relu(-pose[:, hinges, 0] * signs),
                      hinge * pose[:, hinges, 1:].flatten(1)], dim=1)


def shape_prior(phenotype: torch.Tensor) -> torch.Tensor:
    """Per body [B]: squared distance of anny's phenotype values (each in [0, 1]) from the average (0.5)."""
    return (phenotype - 0.5).pow(2).sum(dim=-1)
