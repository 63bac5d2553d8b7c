"""``human3d motion VIDEO``: every person's 3D motion (anny), as an animated glTF, BVH, JSON and a preview."""

from __future__ import annotations

import argparse
from pathlib import Path

from human3d.commands import Subparsers
from human3d.errors import Human3DError


def register(subparsers: Subparsers) -> None:
    """Add the ``motion`` subcommand."""
    parser = subparsers.add_parser(
        "motion", help="3D motion of every person in a video: animated glTF, BVH, JSON, preview",
        description="Find and track every person in a video and fit the open body model (anny) to them frame "
                    "by frame, warm-started with a temporal term; the camera is assumed static.")
    parser.add_argument("video", type=Path, help="input video")
    parser.add_argument("-o", "--output", type=Path, metavar="OUT.glb",
                        help="one skinned glTF 2.0 file, one animation per person (default <name>_motion.glb)")
    parser.add_argument("--bvh", type=Path, metavar="OUT.bvh",
                        help="BVH motion (one person: OUT.bvh; several: OUT_person<id>.bvh each)")
    parser.add_argument("--json", type=Path, metavar="J.json", help="per frame and person: 3D joints, anny's values")
    parser.add_argument("--preview", type=Path, metavar="OUT.mp4", help="the fitted bodies drawn over the video")
    parser.add_argument("--blur-faces", action="store_true", help="pixelate every face in the preview")
    parser.add_argument("--small-people", action="store_true",
                        help="also run the people finder's small-people pass on the searched frames "
                             "(every 12th; about 1.5 s more each)")
    parser.add_argument("--smoothing", type=float, default=None, metavar="SECONDS",
                        help="smooth the people's keypoints over this window, centred on each frame (default "
                             "0.75; 0: off; shorter keeps fast motion, e.g. dance, but jitters more)")
    parser.add_argument("--densepose", action="store_true",
                        help="also fit the bundled DensePose's body-surface points of every person in every "
                             "frame (more accurate; about half the frames per second)")
    parser.add_argument("--no-leg-sides", dest="leg_sides", action="store_false",
                        help="take the people finder's leg sides as they come (by default the legs are named "
                             "from the spots the feet stand on, which take turns as one walks)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Check the arguments, fit, write."""
    from human3d.densepose.predictor import densepose_predictor
    from human3d.fit.body_fit import default_fitter
    from human3d.fit.motion_run import MotionOutputs, run_motion
    from human3d.people.finder import build_people_finder
    from human3d.people.smoothing import SMOOTH_SECONDS

    if not args.video.is_file():
        raise Human3DError.for_path(args.video, "video not found")
    checks = ((args.output, ".glb"), (args.bvh, ".bvh"), (args.json, ".json"), (args.preview, ".mp4"))
    for path, suffix in checks:
        if path is not None and path.suffix.lower() != suffix:
            raise Human3DError.for_path(path, f"this output is written as {suffix}")
    if args.smoothing is not None and not 0 <= args.smoothing <= 5:
        raise Human3DError(f"--smoothing must be between 0 and 5 seconds (got {args.smoothing})")
    if all(path is None for path, _ in checks):
        args.output = args.video.with_name(f"{args.video.stem}_motion.glb")
    outputs = MotionOutputs(args.output, args.bvh, args.json, args.preview, args.blur_faces)
    smoothing = SMOOTH_SECONDS if args.smoothing is None else args.smoothing
    finder = build_people_finder(small_people=args.small_people)
    densepose = densepose_predictor(finder=finder) if args.densepose else None
    motions = run_motion(args.video, finder, default_fitter(), outputs, smoothing, densepose, args.leg_sides)
    for motion in motions:
        print(f"person {motion.id}: {motion.frames} frames")
    return 0
