"""Pictures of written samples: contact sheets and RGBA cut-outs.

``human3d synth-preview sheet OUT sheet.png [--count 16] [--seed 0] [--tile 128]``: random samples,
each as RGB, front normals, back normals, IUV, mask side by side.
``human3d synth-preview rgba OUT/samples/000000 person.png``: the RGB image with the mask as alpha
(the person cut out of the background).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from human3d.errors import Human3DError
from human3d.formats import synth_sample as layout
from human3d.io.atomic import atomic_path

COLUMNS = (layout.RGB, layout.normal_map("front"), layout.normal_map("back"), layout.IUV, layout.MASK)


def _tile(sample_dir: Path, name: str, tile: int) -> np.ndarray:
    image = cv2.imread(str(sample_dir / name), cv2.IMREAD_COLOR)
    if image is None:
        raise Human3DError.for_path(sample_dir / name, "missing or unreadable")
    if name == layout.IUV:  # spread I over 0..255 so parts are visible
        image = image.copy()
        image[..., 2] = (image[..., 2].astype(np.int32) * 10).clip(0, 255).astype(np.uint8)
    return cv2.resize(image, (tile, tile), interpolation=cv2.INTER_AREA)


def contact_sheet(sample_dirs: list[Path], tile: int = 128, per_row: int = 2) -> np.ndarray:
    """BGR image: one block of the five maps per sample, ``per_row`` blocks per row."""
    blocks = [np.concatenate([_tile(d, name, tile) for name in COLUMNS], axis=1) for d in sample_dirs]
    while len(blocks) % per_row:
        blocks.append(np.zeros_like(blocks[0]))
    rows = [np.concatenate(blocks[i : i + per_row], axis=1) for i in range(0, len(blocks), per_row)]
    return np.concatenate(rows, axis=0)


def rgba_cutout(sample_dir: Path) -> np.ndarray:
    """BGRA image of a sample: its RGB with the mask as alpha."""
    try:
        rgb = layout.imread(sample_dir / layout.RGB, cv2.IMREAD_COLOR)
        mask = layout.imread(sample_dir / layout.MASK, cv2.IMREAD_GRAYSCALE)
    except Human3DError:
        needed = f"not a sample folder ({layout.RGB} and {layout.MASK} needed)"
        raise Human3DError.for_path(sample_dir, needed) from None
    return np.concatenate([rgb * (mask[..., None] > 0), mask[..., None]], axis=2)


def write_rgba_cutout(sample_dir: Path, png: Path) -> Path:
    """Write :func:`rgba_cutout` of ``sample_dir`` to ``png`` (atomically); returns ``png``."""
    picture = rgba_cutout(sample_dir)
    with atomic_path(png) as tmp:
        cv2.imwrite(str(tmp), picture)
    return png


def write_contact_sheet(source: Path, png: Path, count: int = 16, seed: int = 0, tile: int = 128) -> Path:
    """Write a :func:`contact_sheet` of ``count`` random samples of a ``human3d synth`` folder to ``png``."""
    dirs = sorted(p for p in (source / layout.SAMPLES).glob("[0-9]*") if p.is_dir())
    if not dirs:
        raise Human3DError.for_path(source, "no samples here (a folder written by `human3d synth` is needed)")
    rng = np.random.default_rng(seed)
    chosen = sorted(rng.choice(len(dirs), size=min(count, len(dirs)), replace=False))
    picture = contact_sheet([dirs[i] for i in chosen], tile)
    with atomic_path(png) as tmp:
        cv2.imwrite(str(tmp), picture)
    return png
