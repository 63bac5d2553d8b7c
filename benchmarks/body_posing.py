"""Speed of the body model: build, sample + pose, and the chart look-ups. Prints a Markdown table.

Run by hand: ``python benchmarks/body_posing.py [--repeats 20] [--device cpu]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from human3d.body import BodyModel, closest_iuv, iuv_to_surface, sample_body_params, surface_to_iuv


def _best_of(repeats: int, run) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    start = time.perf_counter()
    model = BodyModel(args.device)
    build = time.perf_counter() - start
    rng = np.random.default_rng(0)
    params = sample_body_params(rng, "walking", model)
    body = model.pose(params)
    points = body.vertices[rng.integers(0, len(body.vertices), 10_000)] + rng.normal(scale=0.02, size=(10_000, 3))
    faces = rng.integers(0, len(body.faces), 10_000)
    bary = rng.dirichlet(np.ones(3), 10_000)
    I, U, V = surface_to_iuv(body, faces, bary)

    rows = [
        ("build BodyModel (anny cache warm, parts + charts)", build),
        ("sample_body_params, standing", _best_of(args.repeats, lambda: sample_body_params(rng, "standing", model))),
        (
            "sample_body_params, arms_crossed (posed and checked)",
            _best_of(args.repeats, lambda: sample_body_params(rng, "arms_crossed", model)),
        ),
        ("BodyModel.pose", _best_of(args.repeats, lambda: model.pose(params))),
        ("closest_iuv, 10k points", _best_of(args.repeats, lambda: closest_iuv(body, points))),
        ("surface_to_iuv, 10k points", _best_of(args.repeats, lambda: surface_to_iuv(body, faces, bary))),
        ("iuv_to_surface, 10k points", _best_of(args.repeats, lambda: iuv_to_surface(body, I, U, V))),
    ]
    print(f"device {args.device}, torch threads {torch.get_num_threads()}, best of {args.repeats}")
    print("| step | seconds |\n|---|---|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.4f} |")


if __name__ == "__main__":
    main()
