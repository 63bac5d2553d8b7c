"""``human3d people INPUT``: every person in an image, a folder or a video, with keypoints and a mask."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from human3d.commands import Subparsers
from human3d.errors import Human3DError
from human3d.people.pictures import LAYERS


def parse_layers(text: str) -> frozenset[str]:
    """``"boxes,masks"`` -> the set of picture layers; an unknown name is an argparse error."""
    layers = frozenset(part.strip() for part in text.split(",") if part.strip())
    if not layers or layers - set(LAYERS):
        raise argparse.ArgumentTypeError(f"choose from {','.join(LAYERS)} (got {text!r})")
    return layers


def register(subparsers: Subparsers) -> None:
    """Add the ``people`` subcommand."""
    parser = subparsers.add_parser(
        "people", help="find every person in images or video: boxes, keypoints, masks (no download)",
        description="Find every person in an image, a folder of images or a video with MediaPipe's BlazePose "
                    "models (trained on real photos, shipped in the mediapipe wheel): box, score, 33 landmarks, "
                    "COCO-17 keypoints, a mask and a face box each. Nothing leaves the machine.")
    parser.add_argument("input", type=Path, help="image, folder of images, or video")
    parser.add_argument("-o", "--output", type=Path,
                        help="picture (image), folder (folder) or video (video); default <name>_people.png/.mp4/"
                             "folder when neither --json nor --masks is given")
    parser.add_argument("--json", type=Path, metavar="OUT.json", help="boxes, keypoints, landmarks and RLE masks")
    parser.add_argument("--masks", type=Path, metavar="DIR", help="one PNG mask per person: <stem>_person<id>.png")
    parser.add_argument("--show", type=parse_layers, default=frozenset(LAYERS),
                        help=f"picture layers, comma-separated from {','.join(LAYERS)} (default all)")
    parser.add_argument("--blur-faces", action="store_true",
                        help="pixelate every face in the pictures, with a body found or not")
    parser.add_argument("--min-score", type=float, default=0.5,
                        help="threshold of the detection confidence and of each person's score (default 0.5)")
    parser.add_argument("--max-people", type=int, default=20, help="at most this many people per image (default 20)")
    parser.add_argument("--no-small-people", action="store_true",
                        help="skip the pass zoomed onto tiles and HOG seeds that finds small people (much faster)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Check the arguments, find the people, write what was asked; non-zero exit when an input failed."""
    from human3d.people.finder import build_people_finder
    from human3d.people.run import Outputs, default_picture
    from human3d.people.run import run as run_people

    if not args.input.exists():
        raise Human3DError.for_path(args.input, "input not found")
    if args.json is not None and args.json.suffix.lower() != ".json":
        raise Human3DError.for_path(args.json, "the JSON file must end in .json")
    asked = args.output is not None or args.json is not None or args.masks is not None
    picture = args.output if asked else default_picture(args.input)
    finder = build_people_finder(args.min_score, args.max_people, not args.no_small_people)
    outputs = Outputs(picture, args.masks, args.json, args.show, args.blur_faces)
    report = run_people(args.input, finder, outputs)
    for name, count in list(report.counts.items())[:20]:
        print(f"{name}: {count} {'person' if count == 1 else 'people'}")
    written = ", ".join(str(p) for p in (picture, args.json, args.masks) if p is not None)
    print(f"{len(report.counts)} processed, {len(report.failures)} failed" + (f"; wrote {written}" if written else ""))
    for failure in report.failures:
        print(f"human3d: failed: {failure}", file=sys.stderr)
    return 1 if report.failures else 0
