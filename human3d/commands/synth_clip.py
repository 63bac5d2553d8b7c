"""``human3d synth-clip``: a synthetic video of people walking past a fixed camera."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from human3d.commands import Subparsers
from human3d.errors import Human3DError


def parse_size(text: str) -> tuple[int, int]:
    """``"WxH"`` -> (W, H), each at least 16; a one-line ``Human3DError`` otherwise."""
    match = re.fullmatch(r"(\d+)x(\d+)", text.strip())
    if not match or min(int(match[1]), int(match[2])) < 16:
        raise Human3DError(f"--size {text}: want WIDTHxHEIGHT, each at least 16 (e.g. 640x360)")
    return int(match[1]), int(match[2])


def register(subparsers: Subparsers) -> None:
    """Add the ``synth-clip`` subcommand."""
    parser = subparsers.add_parser("synth-clip", help="render a synthetic video of people walking (MP4)")
    parser.add_argument("--out", type=Path, required=True, help="output video (.mp4)")
    parser.add_argument("--frames", type=int, default=48, help="number of frames (default 48)")
    parser.add_argument("--people", type=int, default=2, help="people in the clip (default 2)")
    parser.add_argument("--size", default="640x360", help="WIDTHxHEIGHT in pixels (default 640x360)")
    parser.add_argument("--fps", type=float, default=24.0, help="frames per second (default 24)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (same seed, same clip)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Render the clip."""
    from human3d.synth.clip import render_walking_clip

    width, height = parse_size(args.size)
    if args.frames < 1 or args.people < 1 or args.fps <= 0:
        raise Human3DError(
            f"--frames and --people must be >= 1 and --fps > 0, got {args.frames}, {args.people}, {args.fps}")
    if args.out.suffix.lower() != ".mp4":
        raise Human3DError.for_path(args.out, "the clip is written as MP4: use a .mp4 name")
    render_walking_clip(args.out, args.frames, args.people, args.seed, width, height, args.fps)
    print(f"wrote {args.frames} frame(s) to {args.out}")
    return 0
