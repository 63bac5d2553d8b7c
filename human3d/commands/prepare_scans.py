"""``human3d prepare-scans SRC OUT``: real scans as a reconstruction benchmark (plinth cut, life-size scaling)."""

from __future__ import annotations

import argparse
from pathlib import Path

from human3d.commands import Subparsers
from human3d.errors import Human3DError


def parse_named_values(items: list[str], option: str) -> tuple[float | None, dict[str, float]]:
    """``["1.7", "a.ply=1.3"]`` -> (1.7, {"a.ply": 1.3}); a bad item is a one-line error."""
    default, named = None, {}
    for item in items:
        name, _, value = item.rpartition("=")
        try:
            number = float(value)
        except ValueError:
            raise Human3DError(f"{option} {item}: expected NUMBER or NAME=NUMBER") from None
        if name:
            named[name] = number
        else:
            default = number
    return default, named


def register(subparsers: Subparsers) -> None:
    """Add the ``prepare-scans`` subcommand."""
    parser = subparsers.add_parser(
        "prepare-scans",
        help="cut real scans off their plinths and scale them to life size (for `human3d synth --scans`)",
        description="Real scans as a reconstruction benchmark: cut off the plinth, close the cut, scale to life size. "
                    "Writes one binary PLY per scan of SRC into OUT.",
    )
    parser.add_argument("source", type=Path, help="folder of scans (as `human3d synth --scans` reads them)")
    parser.add_argument("out", type=Path, help="output folder (created)")
    parser.add_argument("--plinth", action="append", default=[], metavar="NAME=Y",
                        help="cut NAME at its plinth top y = Y (file units)")
    parser.add_argument("--height", action="append", default=[], metavar="[NAME=]H",
                        help="figure height in metres after the cut (default: keep the units)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Prepare every scan of SRC into OUT (one PLY per scan, same file name stem); one line per scan."""
    from human3d.eval.scans import prepare_scans

    _, plinths = parse_named_values(args.plinth, "--plinth")
    default_height, heights = parse_named_values(args.height, "--height")
    for target, mesh in prepare_scans(args.source, args.out, plinths, heights, default_height):
        extent = mesh.bounds[1] - mesh.bounds[0]
        print(f"{target}: {len(mesh.faces)} faces, {extent[0]:.3f} x {extent[1]:.3f} x {extent[2]:.3f}, "
              f"watertight {mesh.is_watertight}")
    return 0
