"""``human3d eval motion``: ``human3d motion`` run on synthetic clips and scored against their truth."""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from human3d.errors import Human3DError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``human3d eval motion``."""
    parser.add_argument("--clips", type=Path, required=True,
                        help="folder of videos, each with its <stem>.truth.json (human3d synth-clip writes both)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--small-people", action="store_true",
                        help="run the people finder's small-people pass, as human3d motion --small-people")
    parser.add_argument("--densepose", action="store_true",
                        help="also fit DensePose's body-surface points, as human3d motion --densepose")
    parser.add_argument("--no-leg-sides", dest="leg_sides", action="store_false",
                        help="take the people finder's leg sides as they come, as human3d motion --no-leg-sides")


def clip_pairs(folder: Path) -> list[tuple[Path, Path]]:
    """The (video, truth) pairs of ``folder``: every ``*.mp4`` with a ``<stem>.truth.json`` beside it."""
    from human3d.synth.clip import truth_path

    if not folder.is_dir():
        raise Human3DError.for_path(folder, "clips folder not found")
    pairs = [(video, truth_path(video)) for video in sorted(folder.glob("*.mp4")) if truth_path(video).is_file()]
    if not pairs:
        raise Human3DError.for_path(folder, "no clip with its truth (<stem>.mp4 and <stem>.truth.json)")
    return pairs


def run(args: argparse.Namespace) -> int:
    """Fit every clip, score it, print the table (and write ``--json``)."""
    if args.json is not None and args.json.suffix.lower() != ".json":
        raise Human3DError.for_path(args.json, "the report file must end in .json")
    pairs = clip_pairs(args.clips)
    from human3d.densepose.predictor import densepose_predictor
    from human3d.eval.motion_metrics import pooled_scores, score_motion, true_person_frames
    from human3d.fit.body_fit import default_fitter
    from human3d.fit.motion_run import MotionOutputs, run_motion
    from human3d.io.atomic import write_text_atomic
    from human3d.people.finder import build_people_finder

    finder, fitter = build_people_finder(small_people=args.small_people), default_fitter()
    densepose = densepose_predictor(finder=finder) if args.densepose else None
    print("| clip | people found | MPJPE | PA-MPJPE | PVE | accel. error | foot skate | s per frame |")
    print("|---|---|---|---|---|---|---|---|")
    clips, scored = [], []
    for video, truth_file in pairs:
        truth = json.loads(truth_file.read_text())
        with tempfile.TemporaryDirectory() as scratch:
            predicted_file = Path(scratch) / "motion.json"
            start = time.perf_counter()
            run_motion(video, finder, fitter, MotionOutputs(json=predicted_file), densepose=densepose,
                       leg_sides=args.leg_sides)
            seconds = (time.perf_counter() - start) / max(1, len(truth["frames"]))
            predicted = json.loads(predicted_file.read_text())
        scores, rows = score_motion(predicted, truth, fitter.body)
        scored.append((scores, rows, true_person_frames(truth)))
        clips.append({"clip": video.name, **scores.as_dict(), "seconds_per_frame": round(seconds, 3)})
        print(f"| {video.name} | {scores.found:.0%} | {scores.mpjpe:.0f} | {scores.pa_mpjpe:.0f} | {scores.pve:.0f} | "
              f"{scores.accel_error:.1f} | {scores.foot_skate:.1f} | {seconds:.2f} |", flush=True)
    overall = pooled_scores(scored)
    print(f"| **all ({len(clips)} clips)** | {overall.found:.0%} | {overall.mpjpe:.0f} | {overall.pa_mpjpe:.0f} | "
          f"{overall.pve:.0f} | {overall.accel_error:.1f} | {overall.foot_skate:.1f} | |")
    print("millimetres on the 12 body joints (acceleration error: mm per frame squared; foot skate: mm per frame "
          "that a fitted ankle moves while the true one is on the ground)")
    if args.json is not None:
        write_text_atomic(args.json, json.dumps({"clips": clips, "overall": overall.as_dict()}, indent=1) + "\n")
        print(f"wrote {args.json}")
    return 0
