"""Benchmark: a released-size PIFuHD reconstruction end to end, beside the official code. Run by hand.

    python benchmarks/pifuhd_speed.py                          # grids 256 and 512, 2 threads
    taskset -c 1 python benchmarks/pifuhd_speed.py --threads 1 # pinned to one core

Each grid runs in a fresh worker process on the user path: ``load_pifuhd`` of the released-size
checkpoint (1.5 GB, official format, random weights; synthesised once by ``pifuhd_surface.py`` and
cached in ``--cache``), ``PifuhdPredictor``, then ``reconstruct`` (preprocess, encode, narrow-band
field, marching cubes, colours). Peak memory is the worker's maximum resident set size. The official
figure is the CPU timing of the official code on the released architecture recorded in the reference
folder (network build, preprocess, both filters and its octree reconstruction; 2 threads); it was
measured at grid 256 only.

The 3x3 convolutions run as NNPACK's Winograd kernel on CPUs without AVX-512 where torch's NNPACK starts
(``human3d.nn.conv``); ``--no-winograd`` measures oneDNN's direct convolutions instead. Torch's transparent
huge pages for large tensors (``THP_MEM_ALLOC_ENABLE=1`` in the environment, read once when torch starts)
save the page faults
of the encode's fresh 128-256 MB tensors: the ``human3d`` command sets it (``human3d.cli.use_huge_pages``),
and so does this script for its workers, unless ``THP_MEM_ALLOC_ENABLE`` is already set (``=0``: without).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from pifuhd_surface import KEYPOINTS, PHOTO, REFERENCE, synthesise_released

from human3d.cli import use_huge_pages

OFFICIAL_STAGES = {
    256: ("build (init)", "preprocess", "filter_global rep0 (netF+netB+coarse HG x4)",
          "filter_local rep0 (fine HG, 1024 input)", "reconstruction octree res=256"),
}


def official_seconds(resolution: int) -> float | None:
    """The official code's end-to-end seconds at ``resolution`` from the reference folder, if measured."""
    timing = REFERENCE / "runtime_full_config_cpu.json"
    if resolution not in OFFICIAL_STAGES or not timing.is_file():
        return None
    recorded = json.loads(timing.read_text())
    return sum(recorded[stage] for stage in OFFICIAL_STAGES[resolution])


def worker(checkpoint: Path, resolution: int, threads: int, winograd: bool | None = None,
           precision: str = "fp32") -> dict:
    """Load, encode and reconstruct once at ``resolution``; the seconds of each stage and the peak RSS."""
    import torch

    from human3d.nn.conv import set_winograd
    from human3d.pifuhd.model import load_pifuhd
    from human3d.pifuhd.pipeline import prepare_image, reconstruct
    from human3d.pifuhd.predictor import PifuhdPredictor

    torch.set_num_threads(threads)
    set_winograd(winograd)
    start = time.perf_counter()
    predictor = PifuhdPredictor(load_pifuhd(checkpoint), precision=precision)
    load_s = time.perf_counter() - start
    prepared = prepare_image(PHOTO, keypoints=KEYPOINTS)
    mesh = reconstruct(predictor, prepared, resolution)
    seconds = {"load": load_s, **mesh.seconds}
    return {
        "res": resolution, "seconds": seconds, "total": sum(seconds.values()), "queries": mesh.queries,
        "vertices": len(mesh.vertices), "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2,
    }


def print_table(rows: list[dict], threads: int) -> None:
    """One Markdown table: our seconds per stage, total, peak RSS, and the official total as a ratio."""
    print(f"| grid | load s | encode s | field s | marching cubes s | other s | total s | MLP queries | peak RSS GB "
          f"| official s | official / ours |   ({threads} thread{'s' * (threads > 1)})")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        s = row["seconds"]
        other = s["preprocess"] + s["colors"]
        official = official_seconds(row["res"])
        ratio = f"{official / row['total']:.1f}x" if official else "n/a"
        print(f"| {row['res']} | {s['load']:.1f} | {s['encode']:.1f} | {s['field']:.1f} | {s['marching_cubes']:.1f} "
              f"| {other:.1f} | **{row['total']:.1f}** | {row['queries']:,} | {row['peak_rss_gb']:.2f} "
              f"| {f'{official:.0f}' if official else 'not measured'} | {ratio} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolutions", nargs="+", type=int, default=[256, 512])
    parser.add_argument("--threads", type=int, default=2, help="torch threads (= the cores it may use)")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/human3d_bench"))
    parser.add_argument("--no-winograd", action="store_true", help="oneDNN's direct 3x3 convolutions, not NNPACK's "
                             "(whose Winograd path is the default without AVX-512)")
    parser.add_argument("--precision", choices=("fp32", "bf16"), default="fp32",
                        help="of the encode, as human3d reconstruct --precision")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    checkpoint = args.cache / "released_size.pt"
    if args.worker:
        winograd = False if args.no_winograd else None  # None: by the CPU
        print(json.dumps(worker(checkpoint, args.worker, args.threads, winograd, args.precision)), flush=True)
        return
    if not checkpoint.is_file():
        args.cache.mkdir(parents=True, exist_ok=True)
        synthesise_released(checkpoint)
    use_huge_pages()  # as the human3d command does
    rows = []
    for resolution in args.resolutions:
        command = [sys.executable, __file__, "--worker", str(resolution), "--threads", str(args.threads),
                   "--cache", str(args.cache), "--precision", args.precision] + ["--no-winograd"] * args.no_winograd
        output = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True).stdout
        rows.append(json.loads(output.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), flush=True)
    print()
    print(f"precision of the encode: {args.precision}")
    print_table(rows, args.threads)


if __name__ == "__main__":
    main()
