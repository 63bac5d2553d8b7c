"""``human3d synth-preview sheet|rgba``: pictures of samples written by ``human3d synth``."""

from __future__ import annotations

import argparse
from pathlib import Path

from human3d.commands import Subparsers


def register(subparsers: Subparsers) -> None:
    """Add the ``synth-preview`` subcommand."""
    parser = subparsers.add_parser(
        "synth-preview",
        help="pictures of synth samples: a contact sheet, or one sample as an RGBA cut-out",
        description="sheet: random samples of a `human3d synth` folder, each as RGB, front normals, back normals, "
                    "IUV and mask side by side; rgba: one sample's RGB with its mask as alpha.",
    )
    parser.add_argument("what", choices=("sheet", "rgba"))
    parser.add_argument("source", type=Path, help="sheet: a folder written by `human3d synth`; rgba: one sample folder")
    parser.add_argument("png", type=Path)
    parser.add_argument("--count", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tile", type=int, default=128)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write the sheet or the cut-out."""
    from human3d.synth.preview import write_contact_sheet, write_rgba_cutout

    if args.what == "rgba":
        write_rgba_cutout(args.source, args.png)
    else:
        write_contact_sheet(args.source, args.png, args.count, args.seed, args.tile)
    return 0
