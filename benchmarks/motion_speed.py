"""``human3d motion`` speed: frames per second at 640x360 with 1 and 3 people, people finder included.

Run by hand:  python benchmarks/motion_speed.py [--frames 24] [--people 1 3]

Each clip is rendered by ``human3d synth-clip`` (seed 0) and timed end to end through ``run_motion`` (JSON
output only): finding (searched every 12th frame, followed in between), tracking and fitting every frame;
also with ``--densepose`` (DensePose run on the people of every frame, its points fitted too), and with
``--no-leg-sides`` (the finder's leg sides taken as they come, not named from the planted feet).
The first frame of each person is a cold fit (both facings, 160 Adam steps), the others warm starts (3
Levenberg-Marquardt steps). Prints one table, with the load average and threads.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import torch

from human3d.densepose.predictor import densepose_predictor
from human3d.errors import Human3DError
from human3d.fit.body_fit import default_fitter
from human3d.fit.motion_run import MotionOutputs, run_motion
from human3d.people.finder import build_people_finder
from human3d.synth.clip import render_walking_clip


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--people", type=int, nargs="+", default=[1, 3])
    args = parser.parse_args()
    fitter = default_fitter()
    print(f"machine: {os.cpu_count()} CPU cores visible, {torch.get_num_threads()} torch threads, "
          f"load average {os.getloadavg()[0]:.1f}")
    print("| people | small-people pass | DensePose | leg sides named | frames | people fitted per frame "
          "| s per frame | frames per second |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        for people in args.people:
            video = render_walking_clip(Path(scratch) / f"clip{people}.mp4", args.frames, people, 0, 640, 360,
                                        progress=False)
            for small, dense, sides in ((False, False, True), (False, False, False), (True, False, True),
                                        (False, True, True)):
                report = Path(scratch) / "motion.json"
                finder = build_people_finder(small_people=small)  # loading the models is not timed
                densepose = densepose_predictor(finder=finder) if dense else None
                start = time.perf_counter()
                try:
                    run_motion(video, finder, fitter, MotionOutputs(json=report), densepose=densepose,
                               leg_sides=sides)
                    fitted = sum(len(f["people"]) for f in json.loads(report.read_text())["frames"]) / args.frames
                except Human3DError:  # nobody found in any frame
                    fitted = 0.0
                seconds = (time.perf_counter() - start) / args.frames
                print(f"| {people} | {'yes' if small else 'no'} | {'yes' if dense else 'no'} | "
                      f"{'yes' if sides else 'no'} | {args.frames} | "
                      f"{fitted:.1f} | {seconds:.2f} | "
                      f"{1 / seconds:.2f} |", flush=True)


if __name__ == "__main__":
    main()
