"""Fit anny to the people the people finder returns: shape, pose and placement in the camera frame.

Build once, fit many: :class:`BodyFitter` holds a float32 anny and fits every person of an image at once
(batched). Per person it fits anny's six phenotype values, the rotations of :data:`FITTED_BONES`, and a
rigid placement (rotation and translation) in the camera frame (OpenCV: x right, y down, z forward,
metres), by gradient descent (Adam) on:

- the 2D distance between anny's COCO-17 keypoints, projected through the photo's camera
  (:func:`human3d.fit.camera.default_intrinsics`), and the finder's, weighted by their visibility and
  measured in units of the person's box height (robust: Geman-McClure);
- the landmarks' relative depth, a weak cue (BlazePose's z, relative to the hips, in pixels);
- priors that keep the body human (:mod:`human3d.fit.priors`).

Each person is fitted twice, facing the camera and facing away, and the better fit is kept. In a
video, a person seen in the last frame starts from their last fit instead, with a temporal term.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Sequence

import anny
import numpy as np
import roma
import torch

from human3d.body.model import ANNY_TO_WORLD, PHENOTYPE_NAMES, BodyModel, BodyParams, get_body_model
from human3d.errors import Human3DError
from human3d.fit.camera import Intrinsics, default_intrinsics, project
from human3d.fit.priors import FITTED_BONES, pose_prior, shape_prior
from human3d.people.finder import Person
from human3d.people.landmarks import COCO17_FROM_LANDMARKS

BODY_JOINTS = tuple(range(5, 17))  # COCO-17 shoulders to ankles: the 12 joints motion is scored on
VISIBLE = 0.5  # a keypoint counts fully from this visibility up, and not at all below 0.2


@dataclass(frozen=True)
class FitConfig:
    """Iterations, learning rate and loss weights of a fit."""

    iterations: int = 160
    placement_iterations: int = 40  # first, only the placement moves
    learning_rate: float = 0.04
    depth_weight: float = 0.02
    pose_weight: float = 0.004
    shape_weight: float = 0.01
    robust_scale: float = 0.08  # Geman-McClure's scale, in box heights
    warm_iterations: int = 40  # a video frame started from the last frame's fit
    temporal_weight: float = 0.02


@dataclass
class BodyFit:
    """One person's fitted body. ``rotation`` (3, 3) and ``translation`` (3,) take the body world frame
    (:mod:`human3d.body.model`, unplaced: anny's root at the origin) to the camera frame;
    ``vertices`` (V, 3) are the skin in the camera frame; ``joints_coco17`` (17, 3) too;
    ``keypoints_coco17_2d`` (17, 2) their projection in pixels; ``error_px``: the median 2D error over the
    visible keypoints."""

    params: BodyParams
    rotation: np.ndarray
    translation: np.ndarray
    vertices: np.ndarray
    joints_coco17: np.ndarray
    keypoints_coco17_2d: np.ndarray
    intrinsics: Intrinsics
    error_px: float


@dataclass
class Candidate:
    """Where one optimisation of a person starts: orientation (rotation vector), translation, shape logits,
    fitted-bone rotations; ``warm``: started from the person's last fit (a temporal term applies)."""

    orientation: np.ndarray
    translation: np.ndarray
    shape: np.ndarray
    pose: np.ndarray
    warm: bool

    @classmethod
    def cold(cls, facing: np.ndarray, translation: np.ndarray, bones: int) -> Candidate:
        """A first fit: the given facing, average shape, rest pose."""
        return cls(roma.rotmat_to_rotvec(torch.tensor(facing)).numpy(), translation,
                   np.zeros(len(PHENOTYPE_NAMES)), np.zeros((bones, 3)), False)

    @classmethod
    def from_fit(cls, fit: BodyFit, bones: list[int]) -> Candidate:
        """A warm start from a person's last fit."""
        phenotype = np.clip([fit.params.phenotype[name] for name in PHENOTYPE_NAMES], 1e-4, 1 - 1e-4)
        return cls(roma.rotmat_to_rotvec(torch.tensor(fit.rotation, dtype=torch.float64)).numpy(), fit.translation,
                   np.log(phenotype / (1 - phenotype)), fit.params.pose[bones], True)


def rotation_about(axis: int, angle: float) -> np.ndarray:
    """A 3x3 rotation by ``angle`` radians about coordinate axis 0, 1 or 2."""
    c, s = np.cos(angle), np.sin(angle)
    i, j = [k for k in range(3) if k != axis]
    matrix = np.eye(3)
    matrix[i, i], matrix[i, j], matrix[j, i], matrix[j, j] = c, -s, s, c
    return matrix


FACING_CAMERA = rotation_about(0, np.pi)  # body world (y up, facing +z) -> camera (y down, facing -z)


class BodyFitter:
    """Fits anny to found people; see the module docstring."""

    def __init__(self, config: FitConfig = FitConfig(), device: str = "cpu") -> None:
        self.config, self.device = config, torch.device(device)
        self.body: BodyModel = get_body_model()
        self.anny = anny.Anny(skinning_method="lbs").to(device=self.device, dtype=torch.float32)
        self.bones = [self.body.bone_names.index(bone) for bone in FITTED_BONES]
        self.coco = torch.tensor(self.body.coco17_weights, dtype=torch.float32, device=self.device)
        self.to_world = torch.tensor(ANNY_TO_WORLD, dtype=torch.float32, device=self.device)

    def forward(self, phenotype: torch.Tensor, pose: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """anny's vertices [B, V_full, 3] and COCO-17 keypoints [B, 17, 3] in the body world frame (unplaced)
        for phenotype values [B, 6] and fitted-bone rotations [B, len(FITTED_BONES), 3]."""
        batch = len(phenotype)
        full = pose.new_zeros(batch, len(self.body.bone_names), 3)
        full[:, self.bones] = pose
        delta = torch.eye(4, device=self.device).repeat(batch, len(self.body.bone_names), 1, 1)
        delta[:, :, :3, :3] = roma.rotvec_to_rotmat(full @ self.to_world)
        output = self.anny(pose_parameters=delta,
                           phenotype_kwargs={name: phenotype[:, i] for i, name in enumerate(PHENOTYPE_NAMES)})
        vertices = output["vertices"] @ self.to_world.T
        return vertices, torch.einsum("kv,bvd->bkd", self.coco, vertices)

    def fit(self, people: list[Person], width: int, height: int,
            previous: Sequence[BodyFit | None] | None = None) -> list[BodyFit]:
        """Fit every person of one image (``width`` x ``height`` pixels); the fits in the people's order.

        ``previous`` (a video's last frame, one entry per person, None for someone new) warm-starts each
        person from their last fit, with only ``warm_iterations`` steps, their shape held, and a temporal
        term pulling pose and placement toward the last frame's (a person seen before is not re-tried
        facing away)."""
        if not people:
            return []
        previous = list(previous) if previous is not None else [None] * len(people)
        intrinsics = default_intrinsics(width, height)
        per_person = [keypoint_targets(person) for person in people]
        candidates: list[tuple[int, Candidate]] = []  # (person, start): new people twice, both facings
        for index, (person, last) in enumerate(zip(people, previous)):
            if last is not None:
                candidates.append((index, Candidate.from_fit(last, self.bones)))
            else:
                start = initial_translation(person, per_person[index], intrinsics)
                for facing in (FACING_CAMERA, FACING_CAMERA @ rotation_about(1, np.pi)):
                    candidates.append((index, Candidate.cold(facing, start, len(self.bones))))
        targets = [per_person[index] for index, _ in candidates]
        tensor = functools.partial(torch.tensor, dtype=torch.float32, device=self.device)
        target, weight, depth = (tensor(np.array([t[k] for t in targets])) for k in range(3))
        scale = tensor([max(float(people[i].box_xyxy[3] - people[i].box_xyxy[1]), 8.0) for i, _ in candidates])
        warm = tensor([float(c.warm) for _, c in candidates])
        anchors = [tensor(np.array([getattr(c, name) for _, c in candidates]))
                   for name in ("orientation", "translation", "shape", "pose")]
        orientation, translation, shape, pose = (anchor.clone().requires_grad_() for anchor in anchors)
        optimiser = torch.optim.Adam([orientation, translation, shape, pose], lr=self.config.learning_rate)

        def losses() -> torch.Tensor:
            phenotype = torch.sigmoid(shape)
            _, keypoints = self.forward(phenotype, pose)
            camera = keypoints @ roma.rotvec_to_rotmat(orientation).transpose(1, 2) + translation[:, None]
            error = (project(camera, intrinsics) - target).norm(dim=-1) / scale[:, None]
            robust = error.pow(2) / (error.pow(2) + self.config.robust_scale ** 2)
            reprojection = (weight * robust).sum(dim=1) / weight.sum(dim=1).clamp(min=1.0)
            hips = camera[:, [11, 12], 2].mean(dim=1, keepdim=True)
            predicted_depth = (camera[..., 2] - hips) * intrinsics.focal / hips.clamp(min=0.1)
            relative = ((predicted_depth - depth) / scale[:, None]).pow(2)
            depth_term = (weight * relative).sum(dim=1) / weight.sum(dim=1).clamp(min=1.0)
            temporal = ((pose - anchors[3]).pow(2).sum(dim=(1, 2)) + (orientation - anchors[0]).pow(2).sum(dim=1)
                        + (translation - anchors[1]).pow(2).sum(dim=1) / 0.1 ** 2
                        + 100.0 * (shape - anchors[2]).pow(2).sum(dim=1))
            return (reprojection + self.config.depth_weight * depth_term
                    + self.config.pose_weight * pose_prior(pose) + self.config.shape_weight * shape_prior(phenotype)
                    + self.config.temporal_weight * warm * temporal)

        all_warm = all(c.warm for _, c in candidates)
        iterations = self.config.warm_iterations if all_warm else self.config.iterations
        for step in range(iterations):
            placement_only = not all_warm and step < self.config.placement_iterations
            shape.requires_grad_(not placement_only)
            pose.requires_grad_(not placement_only)
            optimiser.zero_grad()
            losses().sum().backward()
            optimiser.step()
        with torch.no_grad():
            final = losses()
        fits = []
        for index in range(len(people)):
            best = min((k for k, (i, _) in enumerate(candidates) if i == index), key=lambda k: float(final[k]))
            fits.append(self.result(shape[best], pose[best], orientation[best], translation[best], intrinsics,
                                    targets[best][0], targets[best][1]))
        return fits

    def result(self, shape: torch.Tensor, pose: torch.Tensor, orientation: torch.Tensor, translation: torch.Tensor,
               intrinsics: Intrinsics, target: np.ndarray, weight: np.ndarray) -> BodyFit:
        """A :class:`BodyFit` from one body's fitted parameters."""
        with torch.no_grad():
            phenotype = torch.sigmoid(shape)[None]
            vertices, keypoints = self.forward(phenotype, pose[None])
            rotation = roma.rotvec_to_rotmat(orientation)
            skin = vertices[0, torch.as_tensor(self.body.skin_vertices)] @ rotation.T + translation
            joints = keypoints[0] @ rotation.T + translation
            pixels = project(joints, intrinsics)
        full = np.zeros((len(self.body.bone_names), 3), dtype=np.float32)
        full[self.bones] = pose.detach().cpu().numpy()
        params = BodyParams({name: float(v) for name, v in zip(PHENOTYPE_NAMES, phenotype[0].tolist())}, full, "fitted")
        errors = np.linalg.norm(pixels.cpu().numpy() - target, axis=1)[weight > 0.5]
        return BodyFit(params, rotation.cpu().numpy(), translation.detach().cpu().numpy(), skin.cpu().numpy(),
                       joints.cpu().numpy(), pixels.cpu().numpy(), intrinsics,
                       float(np.median(errors)) if len(errors) else float("nan"))


def fittable(people: list[Person]) -> list[Person]:
    """The people with at least 3 of their 12 body keypoints seen (the others cannot be fitted)."""
    return [person for person in people if (person.keypoints_coco17[list(BODY_JOINTS), 2] >= VISIBLE).sum() >= 3]


def keypoint_targets(person: Person) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A person's COCO-17 pixels (17, 2), weights from visibility (17,) and relative depths (17,); a one-line
    error when fewer than 3 of the 12 body keypoints are seen."""
    landmarks = np.asarray(person.landmarks, dtype=np.float32)[list(COCO17_FROM_LANDMARKS)]
    visibility = np.clip((landmarks[:, 3] - 0.2) / (VISIBLE - 0.2), 0.0, 1.0)
    if visibility[list(BODY_JOINTS)].sum() < 3:
        raise Human3DError("too few body keypoints seen to fit a body (at least 3 of shoulders to ankles)")
    return landmarks[:, :2], visibility, landmarks[:, 2]


def initial_translation(person: Person, targets: tuple[np.ndarray, np.ndarray, np.ndarray],
                        intrinsics: Intrinsics) -> np.ndarray:
    """Where anny's root (between the hips) starts: under the hips' pixel (the seen keypoints' centre when
    the hips are not seen), at the depth where a 1.6 m tall body spans the person's box; ``targets`` are the
    person's :func:`keypoint_targets`."""
    points, visibility, _ = targets
    hips = [11, 12] if visibility[[11, 12]].min() > 0 else list(np.nonzero(visibility > 0)[0])
    centre = points[hips].mean(axis=0)
    depth = intrinsics.focal * 1.6 / max(float(person.box_xyxy[3] - person.box_xyxy[1]), 8.0)
    return np.array([(centre[0] - intrinsics.cx) * depth / intrinsics.focal,
                     (centre[1] - intrinsics.cy) * depth / intrinsics.focal, depth], dtype=np.float32)


@functools.lru_cache(maxsize=1)
def default_fitter() -> BodyFitter:
    """A process-wide fitter, built on first use."""
    return BodyFitter()


def fit_bodies(people: list[Person], width: int, height: int) -> list[BodyFit]:
    """Fit every person of a ``width`` x ``height`` image: :meth:`BodyFitter.fit` of a shared fitter."""
    return default_fitter().fit(people, width, height)


def procrustes_aligned(predicted: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """``predicted`` points (N, 3) moved by the similarity (rotation, scale, shift) that best fits ``truth``."""
    mu_p, mu_t = predicted.mean(axis=0), truth.mean(axis=0)
    p, t = predicted - mu_p, truth - mu_t
    u, sigma, vt = np.linalg.svd(p.T @ t)
    d = np.sign(np.linalg.det(u @ vt))
    correction = np.diag([1.0, 1.0, d])
    rotation = u @ correction @ vt
    scale = (sigma * np.diag(correction)).sum() / (p ** 2).sum()
    return scale * p @ rotation + mu_t
