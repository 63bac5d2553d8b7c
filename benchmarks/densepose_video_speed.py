"""``human3d densepose VIDEO`` speed: frames per second of a whole video run, people finder and picture included.

Run by hand:  python benchmarks/densepose_video_speed.py [--frames 48] [--people 2] [--runs 2]

Clips are rendered by ``human3d synth-clip`` (seed 5) at 320x240 and 640x360. Each is run through
``run_video`` as ``human3d densepose`` runs it (the bundled light model on the people the people finder
follows, no small-people pass, an annotated H.264 video written), three ways:

- ``found ahead`` (the default): the people of the next frames are found in a background thread while
  this frame's DensePose runs on one thread, the network on onnxruntime (the CPU default);
- ``found ahead, torch``: the same with the network on torch (``human3d densepose --backend torch``);
- ``one after the other, torch``: the torch predictor behind a plain wrapper, so finding and DensePose
  alternate (the way before 2026-12-05, evening), with the torch threads given.

Prints one table with the load average; runs alternate between the ways.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from human3d.densepose.app.run import run_video
from human3d.densepose.app.visualize import DEFAULT_LAYERS
from human3d.densepose.predictor import build_densepose, predictor_for
from human3d.densepose.result import DensePoseResult
from human3d.people.finder import build_people_finder
from human3d.people.following import PeopleFollower
from human3d.synth.clip import render_walking_clip
from human3d.weights.resolve import resolve_weights

SIZES = ((320, 240), (640, 360))


class OneAfterTheOther:
    """A predictor that hides what it is, so ``run_video`` runs it frame by frame, finding included."""

    def __init__(self, inner) -> None:
        self.inner, self.device = inner, inner.device

    def predict(self, images_bgr: list[np.ndarray]) -> list[DensePoseResult]:
        return self.inner.predict(images_bgr)

    def __call__(self, image_bgr: np.ndarray) -> DensePoseResult:
        return self.inner(image_bgr)


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--people", type=int, default=2)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    model = build_densepose(resolve_weights("densepose-light-people"))
    finder = build_people_finder(small_people=False)  # loading the models is not timed
    print(f"machine: {os.cpu_count()} CPU cores visible, {torch.get_num_threads()} torch threads, "
          f"load average {os.getloadavg()[0]:.1f}")
    on_torch = predictor_for(model, backend="torch", finder=finder)
    predictors = {"serial": on_torch, "torch": on_torch, "ahead": predictor_for(model, finder=finder)}
    titles = {"serial": "one after the other, torch", "torch": "found ahead, torch", "ahead": "found ahead (default)"}
    print("| clip | people | frames | " + " | ".join(f"{titles[way]}, frames/s" for way in predictors) + " |")
    print("|---|---|---|" + "---|" * len(predictors))
    with tempfile.TemporaryDirectory() as scratch:
        for width, height in SIZES:
            video = render_walking_clip(Path(scratch) / f"clip{width}.mp4", args.frames, args.people, 5, width,
                                        height, progress=False)
            rates: dict[str, list[float]] = {way: [] for way in predictors}
            for _ in range(args.runs):
                for way in rates:
                    predictor = predictors[way].with_finder(PeopleFollower(finder))
                    if way == "serial":
                        predictor = OneAfterTheOther(predictor)
                    start = time.perf_counter()
                    report = run_video(video, predictor, Path(scratch) / "out.mp4", set(DEFAULT_LAYERS))
                    rates[way].append(report.processed / (time.perf_counter() - start))
            shown = {way: " / ".join(f"{rate:.1f}" for rate in values) for way, values in rates.items()}
            print(f"| {width}×{height} | {args.people} | {args.frames} | " + " | ".join(shown.values()) + " |",
                  flush=True)


if __name__ == "__main__":
    main()
