"""The options stored in a PIFuHD checkpoint, as typed configuration.

A checkpoint carries two ``argparse.Namespace`` objects: ``opt_netG`` (the coarse level) and ``opt``
(the fine level), plus a state dict from which the normal generators' sizes are inferred (the
official code hard-codes them; our checkpoints may use other sizes).
"""

from __future__ import annotations

import argparse
import re
from dataclasses import asdict, dataclass
from typing import Any, Mapping

import torch

from human3d.errors import Human3DError

NORMS = ("group", "batch")
MLP_NORMS = ("none", "group", "batch")
HG_DOWNS = ("ave_pool", "no_down")


@dataclass(frozen=True)
class CoarseConfig:
    """The coarse level (``opt_netG``): hourglass on the 512 image plus normal maps, its MLP."""

    use_front_normal: bool
    use_back_normal: bool
    num_stack: int
    hg_depth: int
    hg_dim: int
    norm: str
    hg_down: str
    mlp_dim: tuple[int, ...]
    mlp_res_layers: tuple[int, ...]
    merge_layer: int
    mlp_norm: str
    load_size: int
    z_size: float
    body_channels: int = 0  # features of a fitted body per query point (human3d's body guide; 0: not guided)
    body_normal_maps: bool = False  # the normal generators also read the body's rendered normal maps

    @property
    def in_channels(self) -> int:
        """RGB plus 3 channels per normal map."""
        return 3 + 3 * int(self.use_front_normal) + 3 * int(self.use_back_normal)

    @property
    def generator_in_channels(self) -> int:
        """What a normal generator reads: RGB, plus the body's normal map on the same side when guided."""
        return 3 + 3 * int(self.body_normal_maps)

    @property
    def depth_scale(self) -> float:
        """The MLP's depth feature per crop-frame unit of z (the signed distance to a body is scaled alike)."""
        return (self.load_size // 2) / self.z_size

    @property
    def body_guided(self) -> bool:
        """Whether the network reads a fitted body (official checkpoints do not)."""
        return self.body_channels > 0 or self.body_normal_maps

    @property
    def phi_index(self) -> int:
        """The MLP layer whose activation feeds the fine level (``merge_layer``; <= 0 means the middle)."""
        return self.merge_layer if self.merge_layer > 0 else len(self.mlp_dim) // 2

    @property
    def phi_dim(self) -> int:
        """Channels of the intermediate feature phi."""
        return self.mlp_dim[self.phi_index + 1]


@dataclass(frozen=True)
class FineConfig:
    """The fine level (``opt``): hourglass (no stem pooling) on the 1024 image plus normals, its MLP."""

    num_stack: int
    hg_depth: int
    hg_dim: int
    norm: str
    mlp_dim: tuple[int, ...]
    mlp_res_layers: tuple[int, ...]
    mlp_norm: str
    load_size_big: int


@dataclass(frozen=True)
class GeneratorConfig:
    """A pix2pixHD global generator (front or back normal map): width, downsamplings, residual blocks."""

    ngf: int
    n_downsampling: int
    n_blocks: int


@dataclass(frozen=True)
class PifuhdConfig:
    """Everything needed to build the network of a checkpoint."""

    coarse: CoarseConfig
    fine: FineConfig
    front_generator: GeneratorConfig | None
    back_generator: GeneratorConfig | None

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (for printing and JSON)."""
        return asdict(self)


def _field(namespace: Any, name: str, level: str) -> Any:
    values = vars(namespace) if not isinstance(namespace, Mapping) else namespace
    if name not in values:
        raise Human3DError(f"checkpoint options of the {level} level lack '{name}'")
    return values[name]


def _optional(namespace: Any, name: str, default: Any) -> Any:
    values = vars(namespace) if not isinstance(namespace, Mapping) else namespace
    return values.get(name, default)


def _choice(value: Any, allowed: tuple[str, ...], name: str, level: str) -> str:
    if value not in allowed:
        raise Human3DError(f"checkpoint option {level}.{name}={value!r} is not supported (expected one of {allowed})")
    return str(value)


def coarse_options(opt_netG: Any) -> CoarseConfig:
    """Typed options of the coarse level from the stored ``opt_netG``."""
    get = lambda name: _field(opt_netG, name, "coarse")  # noqa: E731
    return CoarseConfig(
        use_front_normal=bool(get("use_front_normal")),
        use_back_normal=bool(get("use_back_normal")),
        num_stack=int(get("num_stack")),
        hg_depth=int(get("hg_depth")),
        hg_dim=int(get("hg_dim")),
        norm=_choice(get("norm"), NORMS, "norm", "opt_netG"),
        hg_down=_choice(get("hg_down"), HG_DOWNS, "hg_down", "opt_netG"),
        mlp_dim=tuple(int(d) for d in get("mlp_dim")),
        mlp_res_layers=tuple(int(d) for d in get("mlp_res_layers")),
        merge_layer=int(get("merge_layer")),
        mlp_norm=_choice(get("mlp_norm"), MLP_NORMS, "mlp_norm", "opt_netG"),
        load_size=int(get("loadSize")),
        z_size=float(get("z_size")),
        body_channels=int(_optional(opt_netG, "body_channels", 0)),
        body_normal_maps=bool(_optional(opt_netG, "body_normal_maps", False)),
    )


def fine_options(opt: Any) -> FineConfig:
    """Typed options of the fine level from the stored ``opt``."""
    get = lambda name: _field(opt, name, "fine")  # noqa: E731
    return FineConfig(
        num_stack=int(get("num_stack")),
        hg_depth=int(get("hg_depth")),
        hg_dim=int(get("hg_dim")),
        norm=_choice(get("norm"), NORMS, "norm", "opt"),
        mlp_dim=tuple(int(d) for d in get("mlp_dim")),
        mlp_res_layers=tuple(int(d) for d in get("mlp_res_layers")),
        mlp_norm=_choice(get("mlp_norm"), MLP_NORMS, "mlp_norm", "opt"),
        load_size_big=int(get("loadSizeBig")),
    )


def generator_options(state_dict: Mapping[str, torch.Tensor], prefix: str) -> GeneratorConfig:
    """Infer a pix2pixHD global generator's size from its state-dict entries under ``prefix``.

    ``model.1`` is the 7x7 stem conv (``ngf`` outputs); the stride-2 convs follow every 3 indices
    while the width doubles; residual blocks are the ``model.<i>.conv_block`` entries.
    """
    stem = state_dict.get(f"{prefix}model.1.weight")
    if stem is None or stem.dim() != 4:
        raise Human3DError(f"checkpoint state dict lacks '{prefix}model.1.weight' (the normal generator's first conv)")
    ngf = int(stem.shape[0])
    n_down = 0
    while True:
        weight = state_dict.get(f"{prefix}model.{4 + 3 * n_down}.weight")
        if weight is None or weight.dim() != 4 or weight.shape[0] != ngf * 2 ** (n_down + 1):
            break
        n_down += 1
    block = re.compile(re.escape(prefix) + r"model\.(\d+)\.conv_block\.")
    n_blocks = len({match.group(1) for key in state_dict if (match := block.match(key))})
    return GeneratorConfig(ngf=ngf, n_downsampling=n_down, n_blocks=n_blocks)


def pifuhd_options(checkpoint: Mapping[str, Any]) -> PifuhdConfig:
    """Typed options of a loaded checkpoint dict (``opt``, ``opt_netG``, ``model_state_dict``)."""
    coarse = coarse_options(checkpoint["opt_netG"])
    state = checkpoint["model_state_dict"]
    return PifuhdConfig(
        coarse=coarse,
        fine=fine_options(checkpoint["opt"]),
        front_generator=generator_options(state, "netG.netF.") if coarse.use_front_normal else None,
        back_generator=generator_options(state, "netG.netB.") if coarse.use_back_normal else None,
    )


def stored_options(options: PifuhdConfig, name: str = "human3d") -> tuple[argparse.Namespace, argparse.Namespace]:
    """The (``opt``, ``opt_netG``) Namespaces a checkpoint of ``options`` stores (inverse of :func:`pifuhd_options`)."""
    coarse, fine = options.coarse, options.fine
    opt_netG = argparse.Namespace(
        use_front_normal=coarse.use_front_normal, use_back_normal=coarse.use_back_normal,
        num_stack=coarse.num_stack, hg_depth=coarse.hg_depth, hg_dim=coarse.hg_dim, norm=coarse.norm,
        hg_down=coarse.hg_down, mlp_dim=list(coarse.mlp_dim), mlp_res_layers=list(coarse.mlp_res_layers),
        merge_layer=coarse.merge_layer, mlp_norm=coarse.mlp_norm, loadSize=coarse.load_size, z_size=coarse.z_size,
    )
    if coarse.body_guided:  # only human3d's body-guided checkpoints carry these (official ones load as before)
        opt_netG.body_channels, opt_netG.body_normal_maps = coarse.body_channels, coarse.body_normal_maps
    opt = argparse.Namespace(
        name=name, num_stack=fine.num_stack, hg_depth=fine.hg_depth, hg_dim=fine.hg_dim, norm=fine.norm,
        mlp_dim=list(fine.mlp_dim), mlp_res_layers=list(fine.mlp_res_layers), mlp_norm=fine.mlp_norm,
        loadSizeBig=fine.load_size_big, loadSize=coarse.load_size, merge_layer=coarse.merge_layer,
        use_front_normal=False, use_back_normal=False, train_full_pifu=False, use_compose=False, crop_type="fullbody",
    )
    return opt, opt_netG
