"""``human3d synth``: write synthetic clothed people with exact labels (see the README, "Synthetic training data")."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from human3d.commands import Subparsers
from human3d.errors import Human3DError


def parse_shard(text: str) -> tuple[int, int]:
    """``"I/N"`` -> (I, N) with 0 <= I < N; a one-line ``Human3DError`` otherwise."""
    match = re.fullmatch(r"(\d+)/(\d+)", text.strip())
    if not match or not 0 <= int(match[1]) < int(match[2]):
        raise Human3DError(f"--shard {text}: want I/N with 0 <= I < N (e.g. 0/4 .. 3/4)")
    return int(match[1]), int(match[2])


def register(subparsers: Subparsers) -> None:
    """Add the ``synth`` subcommand."""
    parser = subparsers.add_parser(
        "synth", help="generate synthetic training data (images, normals, IUV, occupancy, COCO JSON)")
    parser.add_argument("--out", type=Path, required=True, help="output folder (created; a re-run resumes)")
    parser.add_argument("--count", type=int, required=True, help="number of samples of the whole run")
    parser.add_argument("--seed", type=int, default=0, help="random seed (same seed, same bytes)")
    parser.add_argument("--size", type=int, default=512,
                        help="image size in pixels (512 or 1024 for PIFuHD; any size works)")
    parser.add_argument("--people", type=int, default=1, help="people per image (default 1)")
    parser.add_argument("--shard", default="0/1", metavar="I/N", help="write only indices i with i %% N == I (0-based)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--camera", choices=("orthographic", "perspective"), default="orthographic")
    parser.add_argument("--points", type=int, default=0,
                        help="labelled occupancy points per sample (PIFu sampling; default 0 = none)")
    parser.add_argument("--sigma", type=float, default=0.05,
                        help="Gaussian offset of surface points in metres (default 0.05)")
    parser.add_argument("--backgrounds", type=Path, help="folder of background images (default: procedural)")
    parser.add_argument("--photo-backgrounds", action="store_true",
                        help="real photos behind the people: CC0 and public-domain photos shipped in scikit-image "
                             "(no download; licences in the docs)")
    parser.add_argument("--photo-prints", action="store_true",
                        help="half the clothes printed with those photos (synthetic people only)")
    parser.add_argument("--camera-effects", action="store_true",
                        help="degrade each picture as a camera does: motion blur, sensor noise, JPEG (drawn per "
                             "sample; the labels stay those of the sharp render)")
    parser.add_argument("--scans", type=Path,
                        help="folder of textured scans (OBJ + texture, metres, y up) to render instead of synthetic "
                             "people; sample i shows scan i mod #scans")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Generate the shard's unfinished samples and rebuild the COCO JSON."""
    from human3d.synth.appearance import background_images
    from human3d.synth.scans import scan_files
    from human3d.synth.scene import SceneConfig
    from human3d.synth.writer import MAX_PEOPLE, generate

    shard = parse_shard(args.shard)
    for name in ("count", "size", "people", "workers"):
        if getattr(args, name) < 1:
            raise Human3DError(f"--{name} must be >= 1, got {getattr(args, name)}")
    if args.people > MAX_PEOPLE - 1:
        raise Human3DError(f"--people must be <= {MAX_PEOPLE - 1}, got {args.people}")
    if args.points < 0 or args.sigma <= 0:
        raise Human3DError(f"--points must be >= 0 and --sigma > 0, got {args.points} and {args.sigma}")
    if args.backgrounds and args.photo_backgrounds:
        raise Human3DError("--backgrounds and --photo-backgrounds: give one of them")
    if args.scans and args.photo_prints:
        raise Human3DError("--scans and --photo-prints: scans keep their own textures; give one of them")
    backgrounds = tuple(background_images(args.backgrounds)) if args.backgrounds else ()
    scans = scan_files(args.scans) if args.scans else ()
    config = SceneConfig(
        size=args.size, people=args.people, camera=args.camera, backgrounds=backgrounds, scans=scans,
        points=args.points, sigma=args.sigma, camera_effects=args.camera_effects,
        photo_backgrounds=args.photo_backgrounds, photo_prints=args.photo_prints,
    )
    written = generate(args.out, args.count, args.seed, config, shard=shard, workers=args.workers)
    print(f"wrote {len(written)} sample(s) to {args.out} (shard {shard[0]}/{shard[1]}); "
          f"COCO JSON: {args.out / 'densepose_coco.json'}")
    return 0
