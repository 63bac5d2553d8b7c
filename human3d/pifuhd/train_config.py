"""Named PIFuHD configurations for training: the released sizes, our default-weights size, a test size.

A configuration is a :class:`PifuhdConfig` (what the checkpoint stores) plus the training sizes that
are not part of the network: the coarse image side is ``coarse.load_size`` and the fine level is
trained on ``fine.load_size_big // 2`` crops of the ``load_size_big`` image (512 of 1024 as in the paper).
"""

from __future__ import annotations

from human3d.errors import Human3DError
from human3d.pifuhd.options import CoarseConfig, FineConfig, GeneratorConfig, PifuhdConfig


def _options(
    coarse_stack: int, coarse_depth: int, coarse_dim: int, coarse_mlp: tuple[int, ...], coarse_res: tuple[int, ...],
    fine_depth: int, fine_dim: int, fine_mlp: tuple[int, ...], fine_res: tuple[int, ...],
    generator: GeneratorConfig, load_size: int, load_size_big: int, z_size: float = 200.0,
) -> PifuhdConfig:
    coarse = CoarseConfig(
        use_front_normal=True, use_back_normal=True, num_stack=coarse_stack, hg_depth=coarse_depth, hg_dim=coarse_dim,
        norm="group", hg_down="ave_pool", mlp_dim=(coarse_dim + 1, *coarse_mlp, 1), mlp_res_layers=coarse_res,
        merge_layer=2, mlp_norm="none", load_size=load_size, z_size=z_size,
    )
    fine = FineConfig(
        num_stack=1, hg_depth=fine_depth, hg_dim=fine_dim, norm="group",
        mlp_dim=(fine_dim + coarse.mlp_dim[3], *fine_mlp, 1), mlp_res_layers=fine_res, mlp_norm="none",
        load_size_big=load_size_big,
    )
    return PifuhdConfig(coarse, fine, generator, generator)


CONFIGS: dict[str, PifuhdConfig] = {
    # The official network (SPEC section 2): 387 M parameters, 1.5 GB.
    "released": _options(4, 2, 256, (1024, 512, 256, 128), (2, 3, 4), 4, 16, (512, 256, 128), (1, 2),
                         GeneratorConfig(64, 4, 9), 512, 1024),
    # Our default weights: one shallow hourglass per level, small generators (quality per CPU second).
    # z_size 16 makes the depth feature z * (load_size // 2) / z_size = 8 z: a body's depth spans
    # about +-1 of it, like the image features, so a short run learns depth, not only the silhouette
    # (at the released scale, 0.64 z here, 500 CPU steps left every pixel ray inside for all z).
    "small": _options(1, 2, 64, (256, 128, 64, 32), (1, 2, 3), 1, 16, (128, 64, 32), (1, 2),
                      GeneratorConfig(16, 3, 3), 256, 512, z_size=16.0),
    # Tests: the smallest sizes the fixed 256-wide hourglass allows, 64-pixel images; z_size 25 keeps
    # the depth feature z * (load_size // 2) / z_size at the released scale (1.28 z).
    "tiny": _options(1, 1, 32, (64, 32, 16), (1, 2), 1, 8, (32, 16), (1,),
                     GeneratorConfig(8, 2, 1), 64, 128, z_size=25.0),
}


def named_options(name: str) -> PifuhdConfig:
    """The options of configuration ``name`` (``released``, ``small`` or ``tiny``)."""
    if name not in CONFIGS:
        raise Human3DError(f"unknown configuration {name!r} (choose from {', '.join(CONFIGS)})")
    return CONFIGS[name]
