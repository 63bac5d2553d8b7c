"""Fit anny to the people the people finder returns: shape, pose and placement in the camera frame.

Build once, fit many: :class:`BodyFitter` holds a float32 anny and fits every person of an image at once
(batched). Per person it fits anny's six phenotype values, the rotations of :data:`FITTED_BONES`, and a
rigid placement (rotation and translation) in the camera frame (OpenCV: x right, y down, z forward,
metres), minimising:

- the 2D distance between anny's COCO-17 keypoints, moved to where the finder puts them on a body
  (:mod:`human3d.fit.keypoint_offsets`) and projected through the photo's camera
  (:func:`human3d.fit.camera.default_intrinsics`), and the finder's, weighted by their visibility and
  measured in units of the person's box height (robust: Geman-McClure);
- the landmarks' relative depth (BlazePose's z, relative to the hips, in pixels), by default a weak cue read
  as it comes. On rendered people it is about 3 times too deep (:attr:`FitConfig.landmark_depth_scale`
  rescales it) and poor on a person seen from behind (:attr:`FitConfig.facing_depth_weight` trusts it more only
  facing the camera); or, with :attr:`FitConfig.lifted_depths`, the depths a small network reads from what
  BlazePose says of the person (:mod:`human3d.fit.depth_lifter`), trained on rendered people, as the fit that
  bounds a reconstruction does (:mod:`human3d.pifuhd.photo_body`);
- skin points that project outside the person's mask (:mod:`human3d.fit.silhouette`);
- priors that keep the body human (:mod:`human3d.fit.priors`).

The loss is a sum of squared residuals (:meth:`BodyFitter.residuals`). Its keypoints come from anny's
keypoint rig (:mod:`human3d.body.keypoint_rig`: exactly anny's skinned and regressed keypoints, without
skinning the mesh); anny's full mesh is built once per fit, at the end. A new person is fitted by
gradient descent (Adam, the placement alone first) from four starts: facing the camera and facing away,
each with the depth term weak and strong while the placement alone moves (strong, it can tell a person
turned 30 degrees one way from one turned the other way; the bones are not moving, so it cannot bend
them). The fit whose cost is least, with the depth term a little stronger than while fitting, is kept; a
person seen again after a gap in a video is fitted the same way with the shape they were first fitted with
held. In a video, a person seen in the last frames is predicted from their last two fits
(placement at constant velocity, bone rotations at a damped velocity: :attr:`FitConfig.pose_velocity`),
their shape held, and refined by a few Levenberg-Marquardt steps (:mod:`human3d.fit.least_squares`) with
a temporal term pulling toward the prediction: it penalises acceleration (jitter), not steady motion, so
it smooths without the lag of a moving average.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable, Sequence

import anny
import numpy as np
import roma
import torch

from human3d.body.keypoint_rig import KeypointRig, build_keypoint_rig, posed_keypoints, shaped_bodies
from human3d.body.model import ANNY_TO_WORLD, PHENOTYPE_NAMES, BodyModel, BodyParams, PosedBody, get_body_model
from human3d.densepose.result import DensePoseResult
from human3d.errors import Human3DError
from human3d.fit.camera import Intrinsics, box_scale, default_intrinsics, project
from human3d.fit.dense_correspondences import person_correspondences, surface_weights
from human3d.fit.depth_lifter import default_depth_lifter, lifted_depths
from human3d.fit.keypoint_offsets import load_offsets, offset_moments
from human3d.fit.least_squares import levenberg_marquardt
from human3d.fit.priors import FITTED_BONES, pose_prior_residuals, shape_prior
from human3d.fit.silhouette import MaskMaps, mask_maps, outline_vertices, outside_cost
from human3d.people.finder import Person
from human3d.people.landmarks import COCO17_FROM_LANDMARKS

Shaped = tuple[torch.Tensor, torch.Tensor]  # a keypoint rig's heads and moments of some bodies (shaped_bodies)
BODY_JOINTS = tuple(range(5, 17))  # COCO-17 shoulders to ankles: the 12 joints motion is scored on
VISIBLE = 0.5  # a keypoint counts fully from this visibility up, and not at all below 0.2


@dataclass(frozen=True)
class FitConfig:
    """Iterations, learning rate and loss weights of a fit."""

    iterations: int = 160
    placement_iterations: int = 40  # first, only the placement moves
    shape_refresh: int = 10  # Adam steps between re-linearisations of the keypoints in the shape
    learning_rate: float = 0.04
    depth_weight: float = 0.02
    landmark_depth_scale: float = 1.0  # BlazePose's z in pixels times this is the depth the fit matches
    facing_depth_weight: float | None = None  # set: the depth term's weight while the bones move for a body
    # facing the camera, falling to depth_weight as it turns side-on (BlazePose's depths of a back are poor)
    placement_depth_weights: tuple[float, ...] = (0.02, 1.0)  # a new person's fits: the depth term's weight
    # while the placement alone moves, one fit (each facing) per weight: a strong one turns the body, never bends it
    choice_depth_weight: float = 0.2  # the depth term's weight in the cost that picks a new person's best fit
    pose_weight: float = 0.01
    shape_weight: float = 0.01
    robust_scale: float = 0.08  # Geman-McClure's scale, in box heights
    warm_iterations: int = 3  # Levenberg-Marquardt steps of a video frame started from the last frames' fits
    temporal_weight: float = 0.3  # pull toward a warm start's prediction
    pose_velocity: float = 0.5  # share of the bones' last change a warm start's prediction carries on
    keypoint_offsets: bool = True  # match the finder's keypoints where they sit on anny (keypoint_offsets)
    mask_weight: float = 0.2  # skin points projecting outside the person's mask (silhouette)
    outline_points: int = 48  # how many skin points the mask term checks
    densepose_weight: float = 0.3  # DensePose pixels against the skin points they name, when a result is given
    densepose_points: int = 48  # how many of each person's DensePose pixels are fitted
    densepose_from_step: int = 80  # a new person's descent fits them from this step on, the pose settled first
    lifted_depths: bool = False  # the depth term matches the bundled depth lifter's depths (already at scale:
    # read with landmark_depth_scale 1), not BlazePose's


@dataclass
class BodyFit:
    """One person's fitted body. ``rotation`` (3, 3) and ``translation`` (3,) take the body world frame
    (:mod:`human3d.body.model`, unplaced: anny's root at the origin) to the camera frame;
    ``vertices`` (V, 3) are the skin in the camera frame (None when fitted without meshes);
    ``joints_coco17`` (17, 3) too;
    ``keypoints_coco17_2d`` (17, 2) their projection in pixels; ``error_px``: the median 2D distance over the
    visible keypoints between the finder's and where they sit on the fitted body (:mod:`keypoint_offsets`)."""

    params: BodyParams
    rotation: np.ndarray
    translation: np.ndarray
    vertices: np.ndarray | None
    joints_coco17: np.ndarray
    keypoints_coco17_2d: np.ndarray
    intrinsics: Intrinsics
    error_px: float
    shaped: Shaped | None = None  # the keypoint rig's heads [1, G, 3] and moments [1, G, K, 3] of this body


@dataclass
class Candidate:
    """Where one optimisation of a person starts: a base orientation (3, 3) that the fitted rotation vector
    turns (in the camera's axes), translation, shape logits, fitted-bone rotations; ``warm``: started from
    the person's last fits, their motion carried on (a temporal term pulls toward it); ``held``: the shape
    is not fitted (a warm start's never is)."""

    base: np.ndarray
    translation: np.ndarray
    shape: np.ndarray
    pose: np.ndarray
    warm: bool
    shaped: Shaped | None = None  # the shape's keypoint rig when known (a warm start's, from the last fit)
    held: bool = False
    placement_depth: float = 0.0  # a cold start's depth weight while the placement alone moves

    @classmethod
    def cold(cls, facing: np.ndarray, translation: np.ndarray, bones: int,
             phenotype: dict[str, float] | None = None, placement_depth: float = 0.02) -> Candidate:
        """A fit from scratch: the given facing, rest pose, and the average shape to fit, or ``phenotype``
        held (a video's person seen again after a gap keeps the shape they were first fitted with);
        ``placement_depth``: the depth term's weight while the placement alone moves."""
        shape = np.zeros(len(PHENOTYPE_NAMES)) if phenotype is None else shape_logits(phenotype)
        return cls(facing, translation, shape, np.zeros((bones, 3)), False, held=phenotype is not None,
                   placement_depth=placement_depth)

    @classmethod
    def from_fits(cls, last: BodyFit, earlier: BodyFit | None, bones: list[int],
                  pose_velocity: float = 1.0) -> Candidate:
        """A warm start from a person's last fit, carried on from ``earlier`` (the fit of the frame before)
        when given: the placement at constant velocity, the ``bones``' rotations at ``pose_velocity`` times
        their last change (a damped velocity: a limb's swing turns back, and a change the image cannot see,
        such as a leg drifting in depth, is not carried on for ever)."""
        base, translation, pose = last.rotation, last.translation, last.params.pose[bones]
        if earlier is not None:
            turn = torch.tensor(last.rotation @ earlier.rotation.T @ last.rotation, dtype=torch.float64)
            base = roma.special_procrustes(turn).numpy()  # a rotation again, whatever rounding crept in
            translation = 2 * last.translation - earlier.translation
            pose = pose + pose_velocity * (pose - earlier.params.pose[bones])
        return cls(base, translation, shape_logits(last.params.phenotype), pose, True, last.shaped, True)


def shape_logits(phenotype: dict[str, float]) -> np.ndarray:
    """anny's phenotype values (each in [0, 1]) as the logits the fit optimises (:data:`PHENOTYPE_NAMES`' order)."""
    values = np.clip([phenotype[name] for name in PHENOTYPE_NAMES], 1e-4, 1 - 1e-4)
    return np.log(values / (1 - values))


@dataclass
class FitProblem:
    """One image's fit as tensors, one row per candidate (see :meth:`BodyFitter.residuals`): the keypoint
    targets (pixels [C, 17, 2], weights [C, 17], relative depths [C, 17]), box heights [C], whether each is a
    warm start [C], base orientations [C, 3, 3], starting parameters [C, 6 + 3 len(FITTED_BONES)] (for warm
    starts also the temporal term's anchor), shape logits [C, 6] and whether each is held [C], the depth
    weights of cold starts' placement [C], their bodies' keypoint rig (COCO-17, then the outline points), the
    people's mask maps and each candidate's person [C]."""

    target: torch.Tensor
    weight: torch.Tensor
    depth: torch.Tensor
    scale: torch.Tensor
    warm: torch.Tensor
    base: torch.Tensor
    start: torch.Tensor
    shapes: torch.Tensor
    held: torch.Tensor
    placement_depth: torch.Tensor
    heads: torch.Tensor
    moments: torch.Tensor
    intrinsics: Intrinsics
    masks: MaskMaps
    person: torch.Tensor
    dense: DenseTerm


@dataclass
class DenseTerm:
    """DensePose correspondences of one image's fit, per candidate: pixels [C, N, 2], 1 where a pixel is real
    [C, N], the skin points' rig moments [C, G, N, 3] and masses [C, G, N] at the candidate's shape (N = 0
    without DensePose); ``rigs``: each person's keypoint rig of their points (None without)."""

    target: torch.Tensor
    valid: torch.Tensor
    moments: torch.Tensor
    masses: torch.Tensor
    rigs: list[KeypointRig | None]


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
        template = self.anny.template_vertices.detach().cpu().numpy()
        self.outline = outline_vertices(template, self.body.skin_vertices, config.outline_points)
        points = np.zeros((17 + len(self.outline), len(template)))
        points[:17], points[17 + np.arange(len(self.outline)), self.outline] = self.body.coco17_weights, 1.0
        rig = build_keypoint_rig(self.body, self.bones, points)  # COCO-17 keypoints, then the outline points
        self.rig, self.rig64 = rig.to(torch.float32, self.device), rig.to(torch.float64, self.device)
        self.rig_order = [self.bones.index(bone) for bone in self.rig.bones]
        offsets = torch.tensor(load_offsets() if config.keypoint_offsets else np.zeros((17, 3)), dtype=torch.float32)
        self.offset_moments = offset_moments(self.rig, offsets.to(self.device))

    def shaped(self, phenotype: torch.Tensor, offsets: bool = True) -> Shaped:
        """The keypoint rig's heads and moments of bodies with phenotype values [B, 6]
        (:func:`human3d.body.keypoint_rig.shaped_bodies`), with ``offsets`` their keypoints moved to where
        the people finder puts them (:mod:`human3d.fit.keypoint_offsets`), else anny's own keypoints."""
        heads, moments = shaped_bodies(self.anny, self.rig, phenotype)
        return heads, (moments + self.offset_moments) if offsets else moments

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
            previous: Sequence[BodyFit | None] | None = None,
            earlier: Sequence[BodyFit | None] | None = None, meshes: bool = True,
            densepose: DensePoseResult | None = None,
            shapes: Sequence[dict[str, float] | None] | None = None,
            intrinsics: Intrinsics | None = None) -> list[BodyFit]:
        """Fit every person of one image (``width`` x ``height`` pixels); the fits in the people's order.

        ``previous`` (a video's last frame, one entry per person, None for someone new) warm-starts each
        person from their last fit, ``earlier`` (the frame before it) adds their velocity: their shape is
        held, their motion carried on (:meth:`Candidate.from_fits`), and a few Levenberg-Marquardt steps fit
        this frame with a temporal term pulling toward that prediction (jitter is penalised, steady motion
        is not). New people are fitted by gradient descent from four starts (both facings, each with a weak and
        a strong depth term while placing them). ``meshes``: False skips building each body's skin
        (``vertices`` None; the joints are the same). ``densepose``: the
        image's DensePose result, when at hand: each person's labelled pixels are also fitted to the skin
        points they name (:mod:`human3d.fit.dense_correspondences`). ``shapes``: a phenotype (anny's values
        by name) to hold per person, None where the shape is to be fitted; a video's person seen again after
        a gap is fitted from scratch with the shape they were first fitted with. ``intrinsics``: the photo's
        camera, if not :func:`human3d.fit.camera.default_intrinsics`."""
        if not people:
            return []
        previous = list(previous) if previous is not None else [None] * len(people)
        earlier = list(earlier) if earlier is not None else [None] * len(people)
        shapes = list(shapes) if shapes is not None else [None] * len(people)
        intrinsics = default_intrinsics(width, height) if intrinsics is None else intrinsics
        targets = [keypoint_targets(person) for person in people]
        if self.config.lifted_depths:
            lifter = default_depth_lifter()
            targets = [(pixels, visibility,
                        lifted_depths(lifter, pixels, visibility, depths, box_scale(person.box_xyxy)))
                       for person, (pixels, visibility, depths) in zip(people, targets)]
        candidates: list[tuple[int, Candidate]] = []  # (person, start): new people from four starts
        for index, (person, last, before, shape) in enumerate(zip(people, previous, earlier, shapes)):
            if last is not None:
                candidates.append((index, Candidate.from_fits(last, before, self.bones, self.config.pose_velocity)))
            else:
                start = initial_translation(person, targets[index], intrinsics)
                for facing in (FACING_CAMERA, FACING_CAMERA @ rotation_about(1, np.pi)):
                    for weight in self.config.placement_depth_weights:
                        candidates.append((index, Candidate.cold(facing, start, len(self.bones), shape, weight)))
        problem = self.problem(people, targets, candidates, intrinsics, mask_maps(
            [p.mask for p in people], [p.box_xyxy for p in people], device=self.device), densepose)
        warm = [k for k, (_, c) in enumerate(candidates) if c.warm]
        cold = [k for k, (_, c) in enumerate(candidates) if not c.warm]
        params, shapes = problem.start.clone(), problem.shapes.clone()
        costs = torch.zeros(len(candidates), device=self.device)
        if warm:
            params[warm], costs[warm] = self.refine(problem, warm)
        if cold:
            params[cold], shapes[cold], costs[cold] = self.descend(problem, cold)
        fits = []
        for index in range(len(people)):
            best = min((k for k, (i, _) in enumerate(candidates) if i == index), key=lambda k: float(costs[k]))
            fits.append(self.result(problem, best, params[best], shapes[best], targets[index], meshes))
        return fits

    def problem(self, people: list[Person], targets: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
                candidates: list[tuple[int, Candidate]], intrinsics: Intrinsics, masks: MaskMaps,
                densepose: DensePoseResult | None = None) -> FitProblem:
        """The tensors of one image's fit, one row per candidate."""
        tensor = functools.partial(torch.tensor, dtype=torch.float32, device=self.device)
        rows = [targets[index] for index, _ in candidates]
        start = np.concatenate([np.zeros((len(candidates), 3)), np.array([c.translation for _, c in candidates]),
                                np.array([c.pose for _, c in candidates]).reshape(len(candidates), -1)], axis=1)
        shapes = tensor(np.array([c.shape for _, c in candidates]))
        known = [c.shaped for _, c in candidates]
        missing = [k for k, shaped in enumerate(known) if shaped is None]
        if missing:
            with torch.no_grad():
                heads, moments = self.shaped(torch.sigmoid(shapes[missing]))
            for slot, k in enumerate(missing):
                known[k] = heads[slot:slot + 1], moments[slot:slot + 1]
        heads, moments = (torch.cat([shaped[i] for shaped in known]) for i in (0, 1))
        return FitProblem(
            target=tensor(np.array([t[0] for t in rows])), weight=tensor(np.array([t[1] for t in rows])),
            depth=tensor(np.array([t[2] for t in rows])),
            scale=tensor([box_scale(people[i].box_xyxy) for i, _ in candidates]),
            warm=tensor([float(c.warm) for _, c in candidates]), base=tensor(np.array([c.base for _, c in candidates])),
            start=tensor(start), shapes=shapes, held=torch.tensor([c.held for _, c in candidates], device=self.device),
            placement_depth=tensor([c.placement_depth for _, c in candidates]),
            heads=heads, moments=moments, intrinsics=intrinsics, masks=masks,
            person=torch.tensor([index for index, _ in candidates], device=self.device),
            dense=self.dense_term(people, [i for i, _ in candidates], torch.sigmoid(shapes), densepose))

    def dense_term(self, people: list[Person], owners: list[int], phenotype: torch.Tensor,
                   densepose: DensePoseResult | None) -> DenseTerm:
        """The :class:`DenseTerm` of candidates of people ``owners`` [C] with phenotype values [C, 6]."""
        found = [person_correspondences(densepose, p.box_xyxy, self.config.densepose_points) if densepose else None
                 for p in people]
        vertex_count = self.body.coco17_weights.shape[1]
        rigs = [None if f is None else build_keypoint_rig(self.body, self.bones, surface_weights(
            self.rest_body, self.body.skin_vertices, vertex_count, f)).to(torch.float32, self.device) for f in found]
        size, groups = max([len(f.pixels) for f in found if f is not None], default=0), len(self.rig.bones) + 1
        term = DenseTerm(torch.zeros(len(owners), size, 2, device=self.device),
                         torch.zeros(len(owners), size, device=self.device),
                         torch.zeros(len(owners), groups, size, 3, device=self.device),
                         torch.zeros(len(owners), groups, size, device=self.device), rigs)
        for row, owner in enumerate(owners):
            if found[owner] is not None:
                count = len(found[owner].pixels)
                term.target[row, :count] = torch.as_tensor(found[owner].pixels, dtype=torch.float32)
                term.valid[row, :count] = 1.0
                term.masses[row, :, :count] = rigs[owner].masses
        self.reshape_dense(term, list(range(len(owners))), owners, phenotype)
        return term

    def reshape_dense(self, term: DenseTerm, rows: list[int], owners: list[int], phenotype: torch.Tensor) -> None:
        """Set the dense points' moments of candidates ``rows`` (people ``owners``) to phenotype values [R, 6]."""
        with torch.no_grad():
            for row, owner, values in zip(rows, owners, phenotype):
                if term.rigs[owner] is not None:
                    count = term.rigs[owner].masses.shape[1]
                    term.moments[row, :, :count] = shaped_bodies(self.anny, term.rigs[owner], values[None])[1][0]

    @functools.cached_property
    def rest_body(self) -> PosedBody:
        """anny's average body at rest: the surface DensePose's charts are charts of."""
        return self.body.pose(self.body.rest_params())

    def residuals(self, problem: FitProblem, params: torch.Tensor, rows: torch.Tensor,
                  shaped: Shaped | None = None, mask: bool = True, dense: bool = True,
                  depth_weight: float | torch.Tensor | None = None) -> torch.Tensor:
        """Residuals [N, R] of parameter rows [N, 6 + 3 len(FITTED_BONES)] (orientation change, translation,
        fitted-bone rotations) of candidates ``rows`` [N]; their squares sum to the loss (shape terms aside):
        robust 2D keypoint error (Geman-McClure, in box heights), relative depth, skin points outside the
        person's mask (:mod:`human3d.fit.silhouette`), DensePose pixels off their skin points (when given),
        pose prior and, for warm starts, the temporal term. ``shaped``: the rows' bodies, else the candidates'
        starting shapes; ``mask``, ``dense``: False leaves the mask term, the DensePose term out (zeros);
        ``depth_weight``: the depth term's weight (one, or one per row [N]), if not the config's."""
        config, dtype = self.config, params.dtype
        if shaped is None:
            shaped = problem.heads[rows].to(dtype), problem.moments[rows].to(dtype)
        heads, moments = shaped
        pose = params[:, 6:].reshape(len(params), -1, 3)
        rotation = roma.rotvec_to_rotmat(params[:, :3]) @ problem.base[rows].to(dtype)
        if depth_weight is None:
            depth_weight = self.bone_depth_weight(rotation.detach())
        depth_weight = torch.as_tensor(depth_weight, dtype=dtype, device=params.device).reshape(-1, 1)
        turns = roma.rotvec_to_rotmat(pose[:, self.rig_order])
        points = posed_keypoints(self.rig if dtype == torch.float32 else self.rig64, heads, moments, turns)
        camera = points @ rotation.transpose(1, 2) + params[:, None, 3:6]
        pixels = project(camera, problem.intrinsics)
        scale, weight = problem.scale[rows].to(dtype), problem.weight[rows].to(dtype)
        share = weight / weight.sum(dim=1, keepdim=True).clamp(min=1.0)
        error = (pixels[:, :17] - problem.target[rows].to(dtype)) / scale[:, None, None]
        robust = geman_mcclure(error, config.robust_scale)
        outside, seen = outside_cost(problem.masks, problem.person[rows], pixels[:, 17:])
        outline = geman_mcclure(outside[..., None], config.robust_scale)[..., 0] * seen
        matched = (self.dense_residuals(problem.dense, rows, heads, turns, rotation, params[:, 3:6], scale,
                                        problem.intrinsics) if dense
                   else heads.new_zeros(len(heads), 2 * problem.dense.target.shape[1]))
        hips = camera[:, [11, 12], 2].mean(dim=1, keepdim=True)
        predicted_depth = (camera[:, :17, 2] - hips) * problem.intrinsics.focal / hips.clamp(min=0.1)
        depth = (predicted_depth - config.landmark_depth_scale * problem.depth[rows].to(dtype)) / scale[:, None]
        sideways_in_sight = rotation[:, 2, 0].detach() ** 2  # the body's x axis' share of the camera's depth
        anchor = problem.start[rows].to(dtype)
        temporal = torch.cat([params[:, :3], (params[:, 3:6] - anchor[:, 3:6]) / 0.1, params[:, 6:] - anchor[:, 6:]], 1)
        return torch.cat([(robust * share[..., None].sqrt()).flatten(1), depth * (depth_weight * share).sqrt(),
                          outline * (config.mask_weight * mask / max(len(self.outline), 1)) ** 0.5, matched,
                          config.pose_weight ** 0.5 * pose_prior_residuals(pose, sideways_in_sight),
                          temporal * (config.temporal_weight * problem.warm[rows].to(dtype))[:, None].sqrt()], dim=1)

    def bone_depth_weight(self, rotation: torch.Tensor) -> float | torch.Tensor:
        """The depth term's weight while the bones move, for bodies turned by ``rotation`` [N, 3, 3] (body world
        to camera): :attr:`FitConfig.depth_weight`, or with :attr:`FitConfig.facing_depth_weight` set, that
        weight for a body facing the camera, falling to ``depth_weight`` as the body turns side-on and beyond."""
        config = self.config
        if config.facing_depth_weight is None:
            return config.depth_weight
        facing = (-rotation[:, 2, 2]).clamp(0.0, 1.0)  # the body's forward axis (+z) toward the camera (-z)
        return config.depth_weight + (config.facing_depth_weight - config.depth_weight) * facing

    def dense_residuals(self, dense: DenseTerm, rows: torch.Tensor, heads: torch.Tensor, turns: torch.Tensor,
                        rotation: torch.Tensor, translation: torch.Tensor, scale: torch.Tensor,
                        intrinsics: Intrinsics) -> torch.Tensor:
        """The DensePose residuals [N, 2 N_points] of candidates ``rows``, posed (bone ``turns``), turned and
        moved: robust 2D error in box heights (``scale`` [N]) between each pixel and its skin point; [N, 0]
        without DensePose."""
        if not dense.target.shape[1]:
            return heads.new_zeros(len(heads), 0)
        dtype = heads.dtype
        skin = posed_keypoints(self.rig, heads, dense.moments[rows].to(dtype), turns, dense.masses[rows].to(dtype))
        miss = (project(skin @ rotation.transpose(1, 2) + translation[:, None], intrinsics)
                - dense.target[rows].to(dtype)) / scale[:, None, None]
        portion = dense.valid[rows].to(dtype) * self.config.densepose_weight / dense.target.shape[1]
        return (geman_mcclure(miss, self.config.robust_scale) * portion[..., None].sqrt()).flatten(1)

    def refine(self, problem: FitProblem, rows: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Warm starts: parameters and final losses of candidates ``rows`` by Levenberg-Marquardt from their
        predicted motion (float64)."""
        index = torch.tensor(rows, device=self.device)
        params = levenberg_marquardt(lambda p, r: self.residuals(problem, p, index[r]),
                                     problem.start[index].double(), self.config.warm_iterations)
        costs = self.residuals(problem, params, index).pow(2).sum(-1)
        return params.float(), costs.float()

    def descend(self, problem: FitProblem, rows: list[int]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Fits from scratch: parameters, shape logits and final losses of candidates ``rows`` by Adam, the
        placement alone first (without the mask term, the depth term at each start's weight), DensePose's points
        only once the keypoints have settled the pose (from the start they can pull a fit into a wrong pose);
        held shapes stay as they are. The final losses, which pick the best start, weigh the depth term by
        :attr:`FitConfig.choice_depth_weight`."""
        index = torch.tensor(rows, device=self.device)
        params, shape, held = problem.start[index].clone(), problem.shapes[index].clone(), problem.held[index]
        params.requires_grad_()
        optimiser = torch.optim.Adam([params, shape], lr=self.config.learning_rate)

        linear: Callable[[torch.Tensor], Shaped] | None = None

        def losses(mask: bool = True, dense: bool = True, depth_weight: float | torch.Tensor | None = None
                   ) -> torch.Tensor:
            phenotype = torch.sigmoid(shape)
            shaped = linear(phenotype) if linear is not None else None
            return (self.residuals(problem, params, index, shaped, mask, dense, depth_weight).pow(2).sum(-1)
                    + self.config.shape_weight * shape_prior(phenotype))

        for step in range(self.config.iterations):
            placement_only = step < self.config.placement_iterations
            shape.requires_grad_(not placement_only)
            if not placement_only and (step - self.config.placement_iterations) % self.config.shape_refresh == 0:
                linear = self.shape_linearisation(torch.sigmoid(shape.detach()))
                following = step + self.config.shape_refresh  # the next refresh, or the final losses
                if following > self.config.densepose_from_step or following >= self.config.iterations:
                    # the dense points' shapes are read before the next refresh sets them again
                    self.reshape_dense(problem.dense, rows, problem.person[index].tolist(),
                                       torch.sigmoid(shape.detach()))
            optimiser.zero_grad()  # the rest pose's arms lie outside any mask: no mask term while placing
            losses(mask=not placement_only, dense=step >= self.config.densepose_from_step,
                   depth_weight=problem.placement_depth[index] if placement_only else None).sum().backward()
            if placement_only:
                params.grad[:, 6:] = 0.0  # the fitted-bone rotations wait
            elif held.any():
                shape.grad[held] = 0.0  # Adam leaves a value whose gradient was always 0 where it is
            optimiser.step()
        with torch.no_grad():
            linear = self.shaped  # the final losses with the exact shapes, by which the best start is chosen
            return params.detach(), shape.detach(), losses(depth_weight=self.config.choice_depth_weight)

    def shape_linearisation(self, phenotype: torch.Tensor) -> Callable[[torch.Tensor], Shaped]:
        """The keypoint rig's heads and moments as linear functions of phenotype values near ``phenotype`` [B, 6]
        (forward differences, exact at ``phenotype``): far cheaper to differentiate than :meth:`shaped`."""
        batch, size = phenotype.shape
        step = 1e-3 * torch.where(phenotype < 0.5, 1.0, -1.0)  # [B, 6] toward the middle of [0, 1]
        with torch.no_grad():
            offsets = torch.cat([phenotype.new_zeros(1, size), torch.eye(size, device=phenotype.device)])
            probes = phenotype[:, None] + offsets[None] * step[:, None]
            heads, moments = (x.reshape(batch, size + 1, *x.shape[1:]) for x in self.shaped(probes.reshape(-1, size)))
        head_slopes = (heads[:, 1:] - heads[:, :1]) / step[..., None, None]
        moment_slopes = (moments[:, 1:] - moments[:, :1]) / step[..., None, None, None]

        def shaped(values: torch.Tensor) -> Shaped:
            change = values - phenotype
            return (heads[:, 0] + torch.einsum("bp,bpgd->bgd", change, head_slopes),
                    moments[:, 0] + torch.einsum("bp,bpgkd->bgkd", change, moment_slopes))

        return shaped

    def result(self, problem: FitProblem, row: int, params: torch.Tensor, shape: torch.Tensor,
               targets: tuple[np.ndarray, np.ndarray, np.ndarray], mesh: bool = True) -> BodyFit:
        """A :class:`BodyFit` from one candidate's fitted parameters and shape logits; with ``mesh`` its skin
        through anny, else its joints from the keypoint rig alone (the same to 10 µm) and no vertices."""
        target, weight, _ = targets
        with torch.no_grad():
            phenotype = torch.sigmoid(shape)[None]
            pose = params[6:].reshape(1, -1, 3)
            rotation = roma.rotvec_to_rotmat(params[:3]) @ problem.base[row]
            translation = params[3:6]
            # the body's rig (a warm start's shape is the problem's own): where the finder's keypoints sit on it
            heads, moments = ((problem.heads[row:row + 1], problem.moments[row:row + 1]) if problem.warm[row]
                              else self.shaped(phenotype))
            turns = roma.rotvec_to_rotmat(pose[:, self.rig_order])
            fitted = project(posed_keypoints(self.rig, heads, moments, turns)[0, :17] @ rotation.T + translation,
                             problem.intrinsics)
            skin = None
            if mesh:
                vertices, keypoints = self.forward(phenotype, pose)
                skin = (vertices[0, torch.as_tensor(self.body.skin_vertices)] @ rotation.T + translation).cpu().numpy()
            else:  # anny's own keypoints: the rig without the finder's offsets
                keypoints = posed_keypoints(self.rig, heads, moments - self.offset_moments, turns)[:, :17]
            joints = keypoints[0] @ rotation.T + translation
            pixels = project(joints, problem.intrinsics)
        full = np.zeros((len(self.body.bone_names), 3), dtype=np.float32)
        full[self.bones] = pose[0].cpu().numpy()
        params_out = BodyParams({name: float(v) for name, v in zip(PHENOTYPE_NAMES, phenotype[0].tolist())}, full,
                                "fitted")
        errors = np.linalg.norm(fitted.cpu().numpy() - target, axis=1)[weight > 0.5]
        return BodyFit(params_out, rotation.cpu().numpy(), translation.cpu().numpy(), skin,
                       joints.cpu().numpy(), pixels.cpu().numpy(), problem.intrinsics,
                       float(np.median(errors)) if len(errors) else float("nan"), (heads, moments))


def geman_mcclure(error: torch.Tensor, scale: float) -> torch.Tensor:
    """Residuals [..., D] whose squared norms are the Geman-McClure costs of 2D (or 1D) errors [..., D]:
    about ``error / scale`` when small, at most 1 when large."""
    return error / (error.pow(2).sum(-1, keepdim=True) + scale ** 2).sqrt()


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
    depth = intrinsics.focal * 1.6 / box_scale(person.box_xyxy)
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
