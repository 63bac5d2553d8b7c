"""``human3d body IMAGE|DIR``: every person's body fitted (anny), in the camera frame, in metres."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from human3d.commands import Subparsers
from human3d.errors import Human3DError


def register(subparsers: Subparsers) -> None:
    """Add the ``body`` subcommand."""
    parser = subparsers.add_parser(
        "body", help="fit the open body model (anny) to every person in a photo or a folder",
        description="Find every person (human3d people) and fit anny's shape, pose and placement to their "
                    "keypoints: a mesh of the bodies in the camera frame (metres), a JSON file and a picture.")
    parser.add_argument("input", type=Path, help="image or folder of images")
    parser.add_argument("-o", "--output", type=Path, metavar="OUT.glb|.obj|.ply",
                        help="the bodies as one mesh (image input) or a folder of <stem>_body.glb (folder input)")
    parser.add_argument("--json", type=Path, metavar="J.json", help="3D joints, 2D keypoints and anny's values")
    parser.add_argument("--show", type=Path, metavar="OUT.png",
                        help="the fitted bodies drawn over the photo (a folder for a folder input)")
    parser.add_argument("--blur-faces", action="store_true", help="pixelate every face in the pictures")
    parser.add_argument("--no-small-people", action="store_true", help="skip the people finder's small-people pass")
    parser.add_argument("--no-densepose", action="store_true",
                        help="fit keypoints and masks alone, without the bundled DensePose's body-surface "
                             "points (about 0.7 s less a person; the fits are less accurate)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Check the arguments, fit, write; non-zero exit when an image failed."""
    from human3d.densepose.predictor import densepose_predictor
    from human3d.fit.body_fit import default_fitter
    from human3d.fit.run import BodyOutputs, run_body
    from human3d.io.meshes import check_mesh_path
    from human3d.people.finder import build_people_finder

    if not args.input.exists():
        raise Human3DError.for_path(args.input, "input not found")
    if args.output is None and args.json is None and args.show is None:
        args.output = args.input.with_name(f"{args.input.stem}_body.glb") if args.input.is_file() else None
        if args.output is None:
            raise Human3DError.for_path(args.input, "say what to write: -o, --json and/or --show")
    if args.input.is_file() and args.output is not None:
        check_mesh_path(args.output)
    if args.json is not None and args.json.suffix.lower() != ".json":
        raise Human3DError.for_path(args.json, "the JSON file must end in .json")
    finder = build_people_finder(small_people=not args.no_small_people)
    densepose = None if args.no_densepose else densepose_predictor(finder=finder)
    report = run_body(args.input, finder, default_fitter(), BodyOutputs(args.output, args.json, args.show,
                                                                        args.blur_faces), densepose)
    for name, count in report.counts.items():
        print(f"{name}: {count} {'body' if count == 1 else 'bodies'} fitted")
    for line in report.failures:
        print(f"human3d: failed: {line}", file=sys.stderr)
    if report.failures:
        print(f"{len(report.counts)} processed, {len(report.failures)} failed")
    return 1 if report.failures else 0
