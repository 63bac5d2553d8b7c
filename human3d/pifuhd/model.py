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


def project(points: torch.Tensor) -> torch.Tensor:
    """World points [B, 3, N] -> projected (u, v, d) = (x, -y, z) (the official calib diag(1, -1, 1))."""
    return points * points.new_tensor([1.0, -1.0, 1.0]).view(1, 3, 1)


def inside_xy(uv: torch.Tensor) -> torch.Tensor:
    """1 where both projected coordinates of ``uv`` [B, 2, N] lie in [-1, 1], else 0: [B, 1, N]."""
    return ((uv >= -1) & (uv <= 1)).all(dim=1, keepdim=True).to(uv.dtype)


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
            self.netF = GlobalGenerator(options.front_generator)
        if options.back_generator is not None:
            self.netB = GlobalGenerator(options.back_generator)

    def normal_maps(self, image: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """Front and back normal maps (tanh output) of the normalised image [B, 3, H, W]."""
        front = self.netF(image) if self.options.use_front_normal else None
        back = self.netB(image) if self.options.use_back_normal else None
        return front, back

    def encode(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """Feature map of the last stack, plus the normal maps it was conditioned on."""
        front, back = self.normal_maps(image)
        normals = [n for n in (front, back) if n is not None]
        if normals:
            stacked = torch.cat(normals, 1)
            if stacked.shape[2:] != image.shape[2:]:
                stacked = F.interpolate(stacked, size=image.shape[2:], mode="bilinear", align_corners=True)
            image = torch.cat([image, stacked], 1)
        return self.image_filter(image), front, back

    def query(self, feature_map: torch.Tensor, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Coarse occupancy [B, 1, N] (zero outside the box) and phi [B, C, N] at world points [B, 3, N]."""
        uvd = project(points)
        in_box = ((uvd >= -1) & (uvd <= 1)).all(dim=1, keepdim=True).to(points.dtype)
        depth = uvd[:, 2:3] * (self.options.load_size // 2) / self.options.z_size
        pred, phi = self.mlp(torch.cat([sample_features(feature_map, uvd[:, :2]), depth], 1))
        return pred * in_box, phi


class PifuhdNet(nn.Module):
    """HGPIFuMRNet: the coarse level ``netG`` plus the fine hourglass filter and MLP on the 1024 image."""

    def __init__(self, options: PifuhdConfig) -> None:
        super().__init__()
        _check_widths(options)
        self.options = options
        fine: FineConfig = options.fine
        self.image_filter = HGFilter(
            fine.num_stack, fine.hg_depth, options.coarse.in_channels, fine.hg_dim, fine.norm, "no_down"
        )
        self.mlp = SurfaceMLP(fine.mlp_dim, fine.mlp_res_layers, fine.mlp_norm)
        self.netG = CoarseLevel(options)

    def encode(self, image_512: torch.Tensor, image_1024: torch.Tensor) -> PifuhdFeatures:
        """Run both filters (and the normal generators) once per image."""
        coarse, front, back = self.netG.encode(image_512)
        normals = [n for n in (front, back) if n is not None]
        fine_input = image_1024
        if normals:
            size = (self.options.fine.load_size_big,) * 2
            upsampled = F.interpolate(torch.cat(normals, 1), size=size, mode="bilinear", align_corners=True)
            fine_input = torch.cat([image_1024, upsampled], 1)
        return PifuhdFeatures(coarse, self.image_filter(fine_input), front, back)

    def query(self, features: PifuhdFeatures, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(fine occupancy, coarse occupancy, phi) at world points [B, 3, N].

        The fine occupancy is zeroed only outside the x/y range, the coarse one outside the xyz box.
        """
        pred_coarse, phi = self.netG.query(features.coarse, points)
        uv = project(points)[:, :2]
        return self.fine_mlp(features, uv, phi) * inside_xy(uv), pred_coarse, phi

    def fine_mlp(self, features: PifuhdFeatures, uv: torch.Tensor, phi: torch.Tensor) -> torch.Tensor:
        """Unmasked fine occupancy [B, 1, N] from the fine features at ``uv`` [B, 2, N] and the coarse ``phi``."""
        return self.mlp(torch.cat([sample_features(features.fine, uv), phi], 1))[0]

    def surface_normals(self, features: PifuhdFeatures, points: torch.Tensor, delta: float = 0.001) -> torch.Tensor:
        """Unit normals [B, 3, N]: minus the normalised forward-difference gradient of the fine occupancy."""
        offsets = torch.zeros(4, 3, dtype=points.dtype, device=points.device)
        offsets[1:] = torch.eye(3, dtype=points.dtype, device=points.device) * delta
        shifted = (points.unsqueeze(-1) + offsets.T.unsqueeze(1).unsqueeze(0)).flatten(2)  # [B, 3, N*4]
        _, phi = self.netG.query(features.coarse, shifted)
        pred = self.fine_mlp(features, project(shifted)[:, :2], phi).view(points.shape[0], 1, -1, 4)
        gradient = torch.cat([pred[..., 1] - pred[..., 0], pred[..., 2] - pred[..., 0], pred[..., 3] - pred[..., 0]], 1)
        return F.normalize(-gradient, dim=1, eps=1e-8)


def _check_widths(options: PifuhdConfig) -> None:
    coarse, fine = options.coarse, options.fine
    if coarse.mlp_dim[0] != coarse.hg_dim + 1:
        raise Human3DError(
            f"inconsistent options: coarse mlp_dim[0]={coarse.mlp_dim[0]} but hg_dim+1={coarse.hg_dim + 1}")
    if not 0 <= coarse.phi_index < len(coarse.mlp_dim) - 1:
        raise Human3DError(f"inconsistent options: coarse merge_layer {coarse.merge_layer} is not a layer of its MLP")
    if fine.mlp_dim[0] != fine.hg_dim + coarse.phi_dim:
        raise Human3DError(
            f"inconsistent options: fine mlp_dim[0]={fine.mlp_dim[0]} but fine hg_dim + phi width = "
            f"{fine.hg_dim + coarse.phi_dim}"
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
    announce_if_non_commercial(path, "pifuhd", getattr(checkpoint.get("opt"), "name", None))
    return model
