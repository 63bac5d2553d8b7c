"""The two-level PIFuHD network, built from a checkpoint's stored options and loaded strictly.

Frames: world points (x right, y up, z toward the camera; the crop spans x, y in [-1, 1]) project
orthographically to (u, v, d) = (x, -y, z); features are sampled at (u, v) with aligned corners.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from human3d.errors import Human3DError
from human3d.pifuhd.body_guide import BODY_CHANNELS, BodyGuide
from human3d.pifuhd.checkpoint import load_checkpoint
from human3d.pifuhd.hourglass import HGFilter
from human3d.pifuhd.mlp import SurfaceMLP
from human3d.pifuhd.normal_net import GlobalGenerator
from human3d.pifuhd.options import CoarseConfig, FineConfig, PifuhdConfig, pifuhd_options, stored_options
from human3d.weights.resolve import announce_if_non_commercial

CHECKPOINT_KEYS = ("opt", "opt_netG", "model_state_dict")


@dataclass
class PifuhdFeatures:
    """Everything the queries need from one image: both feature maps and the normal maps."""

    coarse: torch.Tensor
    fine: torch.Tensor
    normal_front: torch.Tensor | None
    normal_back: torch.Tensor | None
    body: BodyGuide | None = None  # the fitted body a body-guided network reads at every query point


def project(points: torch.Tensor) -> torch.Tensor:
    """World points [B, 3, N] -> projected (u, v, d) = (x, -y, z) (the official calib diag(1, -1, 1))."""
    return points * points.new_tensor([1.0, -1.0, 1.0]).view(1, 3, 1)


def inside_xy(uv: torch.Tensor) -> torch.Tensor:
    """1 where both projected coordinates of ``uv`` [B, 2, N] lie in [-1, 1], else 0: [B, 1, N]."""
    return ((uv >= -1) & (uv <= 1)).all(dim=1, keepdim=True).to(uv.dtype)


def body_input(body: torch.Tensor, depth_scale: float) -> torch.Tensor:
    """A body guide's features [B, 4, N] as an MLP reads them: the signed distance on the depth feature's scale."""
    return body * body.new_tensor([depth_scale, 1.0, 1.0, 1.0]).view(1, 4, 1)


def sample_features(feature_map: torch.Tensor, uv: torch.Tensor) -> torch.Tensor:
    """Bilinear samples [B, C, N] of ``feature_map`` [B, C, H, W] at ``uv`` [B, 2, N].

    Aligned corners; zero outside the map.
    """
    grid = uv.transpose(1, 2).unsqueeze(2)
    return F.grid_sample(feature_map, grid, mode="bilinear", padding_mode="zeros", align_corners=True)[:, :, :, 0]


class CoarseLevel(nn.Module):
    """``netG``: normal generators, hourglass filter on the 512 image, MLP with depth feature."""

    def __init__(self, options: PifuhdConfig) -> None:
        super().__init__()
        self.options: CoarseConfig = options.coarse
        opt = self.options
        # Registration order = the official state-dict order: filter, MLP, then the generators.
        self.image_filter = HGFilter(opt.num_stack, opt.hg_depth, opt.in_channels, opt.hg_dim, opt.norm, opt.hg_down)
        self.mlp = SurfaceMLP(opt.mlp_dim, opt.mlp_res_layers, opt.mlp_norm, opt.phi_index)
        if options.front_generator is not None:
            self.netF = GlobalGenerator(options.front_generator, opt.generator_in_channels)
        if options.back_generator is not None:
            self.netB = GlobalGenerator(options.back_generator, opt.generator_in_channels)

    def normal_maps(self, image: torch.Tensor, body_maps: torch.Tensor | None = None
                    ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """Front and back normal maps (tanh output) of the normalised image [B, 3, H, W]; a body-guided
        network's generators also read the body's front and back normal maps ``body_maps`` [B, 6, H, W]."""
        front_input = back_input = image
        if self.options.body_normal_maps:
            if body_maps is None:
                raise Human3DError("these weights are body-guided: their normal generators need the body's normal maps")
            front_input, back_input = torch.cat([image, body_maps[:, :3]], 1), torch.cat([image, body_maps[:, 3:]], 1)
        front = self.netF(front_input) if self.options.use_front_normal else None
        back = self.netB(back_input) if self.options.use_back_normal else None
        return front, back

    def encode(self, image: torch.Tensor, body_maps: torch.Tensor | None = None
               ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """Feature map of the last stack, plus the normal maps it was conditioned on."""
        front, back = self.normal_maps(image, body_maps)
        normals = [n for n in (front, back) if n is not None]
        if normals:
            stacked = torch.cat(normals, 1)
            if stacked.shape[2:] != image.shape[2:]:
                stacked = F.interpolate(stacked, size=image.shape[2:], mode="bilinear", align_corners=True)
            image = torch.cat([image, stacked], 1)
        return self.image_filter(image), front, back

    def query(self, feature_map: torch.Tensor, points: torch.Tensor, body: torch.Tensor | None = None
              ) -> tuple[torch.Tensor, torch.Tensor]:
        """Coarse occupancy [B, 1, N] (zero outside the box) and phi [B, C, N] at world points [B, 3, N];
        a body-guided network also reads the body's features there, ``body`` [B, 4, N] (``BodyGuide.features``)."""
        uvd = project(points)
        in_box = ((uvd >= -1) & (uvd <= 1)).all(dim=1, keepdim=True).to(points.dtype)
        depth = uvd[:, 2:3] * self.options.depth_scale
        inputs = [sample_features(feature_map, uvd[:, :2]), depth]
        if self.options.body_channels:
            if body is None:
                raise Human3DError("these weights are body-guided: their queries need the body's features")
            inputs.append(body_input(body, self.options.depth_scale))
        pred, phi = self.mlp(torch.cat(inputs, 1))
        return pred * in_box, phi


class PifuhdNet(nn.Module):
    """HGPIFuMRNet: the coarse level ``netG`` plus the fine hourglass filter and MLP on the 1024 image."""

    def __init__(self, options: PifuhdConfig) -> None:
        super().__init__()
        _check_widths(options)
        self.options = options
        self.run_name: str | None = None  # the run name its checkpoint stores (``opt.name``), once loaded
        fine: FineConfig = options.fine
        self.image_filter = HGFilter(
            fine.num_stack, fine.hg_depth, options.coarse.in_channels, fine.hg_dim, fine.norm, "no_down"
        )
        self.mlp = SurfaceMLP(fine.mlp_dim, fine.mlp_res_layers, fine.mlp_norm)
        self.netG = CoarseLevel(options)

    def encode(self, image_512: torch.Tensor, image_1024: torch.Tensor, body: BodyGuide | None = None
               ) -> PifuhdFeatures:
        """Run both filters (and the normal generators) once per image; a body-guided network needs the
        fitted ``body`` (one image) and keeps it with the features for the queries."""
        body_maps = None
        if self.options.coarse.body_guided:
            if body is None:
                raise Human3DError("these weights are body-guided: give the fitted body of the person")
            if self.options.coarse.body_normal_maps:
                body_maps = torch.from_numpy(body.normal_maps(image_512.shape[-1]))[None].to(image_512)
        return self.encode_maps(image_512, image_1024, body_maps, body)

    def encode_maps(self, image_512: torch.Tensor, image_1024: torch.Tensor, body_maps: torch.Tensor | None = None,
                    body: BodyGuide | None = None) -> PifuhdFeatures:
        """:meth:`encode` with the body's normal maps [B, 6, H, W] given (rendered already, e.g. in training)."""
        coarse, front, back = self.netG.encode(image_512, body_maps)
        normals = [n for n in (front, back) if n is not None]
        fine_input = image_1024
        if normals:
            size = (self.options.fine.load_size_big,) * 2
            upsampled = F.interpolate(torch.cat(normals, 1), size=size, mode="bilinear", align_corners=True)
            fine_input = torch.cat([image_1024, upsampled], 1)
        return PifuhdFeatures(coarse, self.image_filter(fine_input), front, back, body)

    def body_features(self, features: PifuhdFeatures, points: torch.Tensor) -> torch.Tensor | None:
        """The body's features [B, 4, N] at ``points`` for a body-guided network, else None."""
        if not self.options.coarse.body_channels:
            return None
        if features.body is None:
            raise Human3DError("these weights are body-guided: encode the image with the fitted body")
        return features.body.features(points)

    def query(self, features: PifuhdFeatures, points: torch.Tensor, body: torch.Tensor | None = None
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(fine occupancy, coarse occupancy, phi) at world points [B, 3, N].

        The fine occupancy is zeroed only outside the x/y range, the coarse one outside the xyz box. A
        body-guided network reads ``body`` [B, 4, N] if given, else the features' body guide at the points.
        """
        body = self.body_features(features, points) if body is None else body
        pred_coarse, phi = self.netG.query(features.coarse, points, body)
        uv = project(points)[:, :2]
        return self.fine_mlp(features.fine, uv, phi, body) * inside_xy(uv), pred_coarse, phi

    def fine_mlp(self, fine_map: torch.Tensor, uv: torch.Tensor, phi: torch.Tensor,
                 body: torch.Tensor | None = None) -> torch.Tensor:
        """Unmasked fine occupancy [B, 1, N] from the fine feature map at ``uv`` [B, 2, N], the coarse ``phi``
        and, for a body-guided network, the body's features ``body`` [B, 4, N]."""
        inputs = [sample_features(fine_map, uv), phi]
        if body is not None:
            inputs.append(body_input(body, self.options.coarse.depth_scale))
        return self.mlp(torch.cat(inputs, 1))[0]

    def surface_normals(self, features: PifuhdFeatures, points: torch.Tensor, delta: float = 0.001) -> torch.Tensor:
        """Unit normals [B, 3, N]: minus the normalised forward-difference gradient of the fine occupancy."""
        offsets = torch.zeros(4, 3, dtype=points.dtype, device=points.device)
        offsets[1:] = torch.eye(3, dtype=points.dtype, device=points.device) * delta
        shifted = (points.unsqueeze(-1) + offsets.T.unsqueeze(1).unsqueeze(0)).flatten(2)  # [B, 3, N*4]
        body = self.body_features(features, shifted)
        _, phi = self.netG.query(features.coarse, shifted, body)
        pred = self.fine_mlp(features.fine, project(shifted)[:, :2], phi, body).view(points.shape[0], 1, -1, 4)
        gradient = torch.cat([pred[..., 1] - pred[..., 0], pred[..., 2] - pred[..., 0], pred[..., 3] - pred[..., 0]], 1)
        return F.normalize(-gradient, dim=1, eps=1e-8)


def _check_widths(options: PifuhdConfig) -> None:
    coarse, fine = options.coarse, options.fine
    if coarse.body_channels not in (0, BODY_CHANNELS):
        raise Human3DError(f"inconsistent options: body_channels={coarse.body_channels} (0 or {BODY_CHANNELS})")
    if coarse.mlp_dim[0] != coarse.hg_dim + 1 + coarse.body_channels:
        raise Human3DError(
            f"inconsistent options: coarse mlp_dim[0]={coarse.mlp_dim[0]} but hg_dim+1+body_channels="
            f"{coarse.hg_dim + 1 + coarse.body_channels}")
    if not 0 <= coarse.phi_index < len(coarse.mlp_dim) - 1:
        raise Human3DError(f"inconsistent options: coarse merge_layer {coarse.merge_layer} is not a layer of its MLP")
    if fine.mlp_dim[0] != fine.hg_dim + coarse.phi_dim + coarse.body_channels:
        raise Human3DError(
            f"inconsistent options: fine mlp_dim[0]={fine.mlp_dim[0]} but fine hg_dim + phi width + body_channels = "
            f"{fine.hg_dim + coarse.phi_dim + coarse.body_channels}"
        )


def _first_mismatch(expected: Mapping[str, torch.Tensor], found: Mapping[str, Any]) -> str | None:
    for key, tensor in expected.items():
        if key not in found:
            return f"missing key '{key}'"
        value = found[key]
        if not isinstance(value, torch.Tensor):
            return f"'{key}' is not a tensor"
        if tuple(value.shape) != tuple(tensor.shape):
            return f"'{key}' has shape {tuple(value.shape)}, the stored options imply {tuple(tensor.shape)}"
    for key in found:
        if key not in expected:
            return f"unexpected key '{key}'"
    return None


def build_pifuhd(checkpoint: Mapping[str, Any]) -> PifuhdNet:
    """Build the network described by a loaded checkpoint dict and load its weights strictly.

    The modules are created on the meta device and take the checkpoint's tensors over (no second
    copy of a 1.5 GB model). Raises :class:`Human3DError` naming the first bad key on a mismatch.
    """
    if not isinstance(checkpoint, Mapping) or not all(key in checkpoint for key in CHECKPOINT_KEYS):
        found = sorted(map(str, checkpoint))[:6] if isinstance(checkpoint, Mapping) else type(checkpoint).__name__
        raise Human3DError(f"not a PIFuHD checkpoint (expected keys {list(CHECKPOINT_KEYS)}, found {found})")
    state = checkpoint["model_state_dict"]
    if not isinstance(state, Mapping):
        raise Human3DError("not a PIFuHD checkpoint ('model_state_dict' is not a mapping)")
    options = pifuhd_options(checkpoint)
    try:
        with torch.device("meta"):
            model = PifuhdNet(options)
    except ValueError as error:  # e.g. GroupNorm widths not divisible by 32
        raise Human3DError(f"the stored options describe an invalid network: {error}") from None
    problem = _first_mismatch(model.state_dict(), state)
    if problem is not None:
        raise Human3DError(f"checkpoint does not match the network built from its options: {problem}")
    model.load_state_dict(dict(state), strict=True, assign=True)
    opt = checkpoint["opt"]
    model.run_name = (opt.get("name") if isinstance(opt, Mapping) else getattr(opt, "name", None))
    return model.float().eval().requires_grad_(False)


def checkpoint_dict(model: PifuhdNet, name: str = "human3d") -> dict[str, Any]:
    """The checkpoint object of ``model`` in the official layout (write it with ``save_checkpoint``)."""
    opt, opt_netG = stored_options(model.options, name)
    return {"opt": opt, "opt_netG": opt_netG, "model_state_dict": model.state_dict()}


def load_pifuhd(path: str | Path) -> PifuhdNet:
    """Read a checkpoint file (legacy or zip torch.save format) and build its network."""
    checkpoint = load_checkpoint(path)
    try:
        model = build_pifuhd(checkpoint)
    except Human3DError as error:
        raise Human3DError.for_path(path, str(error)) from None
    announce_if_non_commercial(path, "pifuhd", model.run_name)
    return model
