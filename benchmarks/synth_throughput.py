"""Throughput of the synthetic data engine: samples per second at 512x512 with every map written.

Run by hand: ``python benchmarks/synth_throughput.py [--count 16] [--size 512] [--points 0]``.
Prints a table: the ``human3d synth`` rate for 1 and 2 worker processes, end to end (process
start-up included) and steady state (the marginal rate between a run of count/4 and one of count
samples), then the time of each stage of one sample in this process.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np


def _run_seconds(count: int, size: int, points: int, workers: int) -> float:
    """Wall time of ``generate`` for ``count`` new samples (worker start-up included)."""
    from human3d.synth.scene import SceneConfig
    from human3d.synth.writer import generate

    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        generate(Path(folder), count, 0, SceneConfig(size=size, points=points), workers=workers, progress=False)
        return time.perf_counter() - start


def _rates(count: int, size: int, points: int, workers: int) -> tuple[float, float]:
    """(end-to-end samples/s for ``count`` samples, steady-state samples/s without start-up)."""
    small = _run_seconds(count // 4, size, points, workers)
    large = _run_seconds(count, size, points, workers)
    return count / large, (count - count // 4) / max(large - small, 1e-9)


def _stages(size: int, points: int, repeats: int = 4) -> dict[str, float]:
    from human3d.body.model import get_body_model
    from human3d.body.poses import sample_body_params
    from human3d.synth import appearance, scene
    from human3d.synth.clothing import dress_body, sample_outfit
    from human3d.synth.renderer import shared_renderer
    from human3d.synth.writer import write_sample

    model = get_body_model("cpu")
    config = scene.SceneConfig(size=size, points=points)
    totals: dict[str, float] = {}

    def timed(name, fn, *args):
        start = time.perf_counter()
        result = fn(*args)
        totals[name] = totals.get(name, 0.0) + (time.perf_counter() - start) / repeats
        return result

    with tempfile.TemporaryDirectory() as folder:
        for k in range(repeats):
            rng = np.random.default_rng([1, k])
            params = timed("pose body (anny)", sample_body_params, rng, None, model)
            body = timed("pose body (anny)", model.pose, params)
            timed("clothes + hair", dress_body, body, sample_outfit(rng))
            sample = timed("whole sample in memory", scene.make_sample, k, 1, config, model)
            timed(
                "render every map (GL)",
                shared_renderer().render,
                [s for p in sample.people for s in p.surfaces],
                sample.camera,
            )
            timed("background", appearance.procedural_background, rng, size, size)
            timed("write files + COCO", write_sample, Path(folder), sample)
    return totals


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=16)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--points", type=int, default=0, help="labelled occupancy points per sample")
    args = parser.parse_args()
    from human3d.synth.renderer import shared_renderer

    print(
        f"machine: {os.cpu_count()} CPU cores visible, load average {os.getloadavg()[0]:.1f}; "
        f"GL: {shared_renderer().gl_renderer}"
    )
    _run_seconds(1, args.size, args.points, 1)  # warm-up: body model, GL context, caches in this process
    print(f"\n{args.size}x{args.size}, every map, {args.points} occupancy points per sample, {args.count} samples")
    print("\n| workers | samples/s end to end (start-up included) | samples/s steady state |\n|---|---|---|")
    for workers in (1, 2):
        total, steady = _rates(args.count, args.size, args.points, workers)
        print(f"| {workers} | {total:.2f} | {steady:.2f} |", flush=True)
    print("\n| stage (1 process, mean of 4) | seconds |\n|---|---|")
    for name, seconds in _stages(args.size, args.points).items():
        print(f"| {name} | {seconds:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
