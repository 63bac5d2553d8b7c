"""Pictures of written samples: contact sheets and RGBA cut-outs.

``python -m human3d.synth.preview sheet OUT sheet.png [--count 16] [--seed 0] [--tile 128]``: random
samples, each as RGB, front normals, back normals, IUV, mask side by side.
``python -m human3d.synth.preview rgba OUT/samples/000000 person.png``: the RGB image with the mask
as alpha (the person cut out of the background).
"""

from __future__ import annotations

import argparse
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
    rgb = cv2.imread(str(sample_dir / layout.RGB), cv2.IMREAD_COLOR)
    mask = cv2.imread(str(sample_dir / layout.MASK), cv2.IMREAD_GRAYSCALE)
    if rgb is None or mask is None:
        raise Human3DError.for_path(sample_dir, f"not a sample folder ({layout.RGB} and {layout.MASK} needed)")
    return np.concatenate([rgb * (mask[..., None] > 0), mask[..., None]], axis=2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("sheet", "rgba"))
    parser.add_argument("source", type=Path, help="sheet: a folder written by `human3d synth`; rgba: one sample folder")
    parser.add_argument("png", type=Path)
    parser.add_argument("--count", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tile", type=int, default=128)
    args = parser.parse_args(argv)
    if args.what == "rgba":
        with atomic_path(args.png) as tmp:
            cv2.imwrite(str(tmp), rgba_cutout(args.source))
        return 0
    dirs = sorted(p for p in (args.source / layout.SAMPLES).glob("[0-9]*") if p.is_dir())
    rng = np.random.default_rng(args.seed)
    chosen = sorted(rng.choice(len(dirs), size=min(args.count, len(dirs)), replace=False))
    with atomic_path(args.png) as tmp:
        cv2.imwrite(str(tmp), contact_sheet([dirs[i] for i in chosen], args.tile))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
