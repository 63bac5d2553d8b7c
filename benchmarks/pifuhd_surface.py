"""Benchmark: dense vs fast (narrow-band) PIFuHD surface extraction. Run by hand; prints a table.

    python benchmarks/pifuhd_surface.py                      # reference + released-size checkpoints
    python benchmarks/pifuhd_surface.py --models reference --resolutions 128 256

For each checkpoint, one worker process loads it through the user path (``load_pifuhd``), encodes
the test photo once, then for each resolution runs the fast extraction and, up to ``--dense-max``,
the dense one (above it the dense cost is counted analytically: res³ MLP queries). The
released-size checkpoint (1.5 GB) is synthesised once from ``pifuhd_full_state_dict_shapes.json``
with random weights (depth-dominated, so that the field has a surface) and cached in ``--cache``.
Peak memory is the worker's maximum resident set size so far (so it includes earlier rows).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch
from scipy.spatial import cKDTree

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
REFERENCE = SHARED / "reference" / "pifuhd"
PHOTO = SHARED / "photos" / "pifuhd_test.png"
KEYPOINTS = SHARED / "photos" / "pifuhd_test_keypoints.json"


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def synthesise_released(target: Path) -> None:
    """Write a released-size checkpoint with random weights (official format) to ``target``."""
    from human3d.pifuhd.checkpoint import save_checkpoint
    from human3d.pifuhd.model import build_pifuhd
    from human3d.pifuhd.pipeline import prepare_image
    from human3d.pifuhd.predictor import PifuhdPredictor
    from human3d.pifuhd.preprocess import network_inputs

    spec = json.loads((REFERENCE / "pifuhd_full_state_dict_shapes.json").read_text())
    generator = torch.Generator().manual_seed(0)
    state: OrderedDict[str, torch.Tensor] = OrderedDict()
    aliases = {b: a for a, b in spec["aliased_entries_same_tensor"]}
    for entry in spec["entries"]:
        key, shape = entry["key"], entry["shape"]
        if key in aliases:
            state[key] = state[aliases[key]]
        elif key.endswith("bias"):
            state[key] = torch.randn(shape, generator=generator) * 0.05
        elif len(shape) == 1:  # GroupNorm weight
            state[key] = 1.0 + 0.1 * torch.randn(shape, generator=generator)
        else:  # instance/group norms follow most convs, so the scale of 1/sqrt(fan-in) is enough
            state[key] = torch.randn(shape, generator=generator) / np.sqrt(int(np.prod(shape[1:])))
    config = spec["config"]
    checkpoint = {
        "opt": argparse.Namespace(**config["opt (fine)"], name="synthetic_released_size"),
        "opt_netG": argparse.Namespace(**config["opt_netG (coarse)"]),
        "model_state_dict": state,
    }
    coarse_mlp = config["opt_netG (coarse)"]
    for layer in [0, *coarse_mlp["mlp_res_layers"]]:  # depth feature is the last input column
        column = -1 if layer == 0 else state[f"netG.mlp.filters.{layer}.weight"].shape[1] - 1
        state[f"netG.mlp.filters.{layer}.weight"][:, column] *= 300.0
    model = build_pifuhd(checkpoint)
    predictor = PifuhdPredictor(model)
    prepared = prepare_image(PHOTO, keypoints=KEYPOINTS)
    inputs = network_inputs(prepared.rgb, prepared.rect, 1024)
    predictor.encode(inputs.image_512, inputs.image_1024)
    probe = np.random.default_rng(0).uniform(-1, 1, (20000, 3)).astype(np.float32)
    occupancy = np.clip(predictor.occupancy(probe), 1e-6, 1 - 1e-6)
    logits = np.log(occupancy / (1 - occupancy))
    state["mlp.filters.3.bias"] -= float(np.median(logits))  # centre the field on 0.5
    save_checkpoint(checkpoint, target)


def chamfer(a: np.ndarray, b: np.ndarray) -> float:
    """Symmetric mean nearest-neighbour distance between two vertex sets."""
    return float(0.5 * (cKDTree(b).query(a)[0].mean() + cKDTree(a).query(b)[0].mean()))


def worker(name: str, checkpoint: Path, resolutions: list[int], dense_max: int) -> list[dict]:
    from human3d.pifuhd.model import load_pifuhd
    from human3d.pifuhd.pipeline import pifuhd_grid, prepare_image
    from human3d.pifuhd.predictor import PifuhdPredictor
    from human3d.pifuhd.preprocess import network_inputs
    from human3d.surface import dense_field, extract_mesh, sparse_field

    torch.set_num_threads(2)
    start = time.perf_counter()
    predictor = PifuhdPredictor(load_pifuhd(checkpoint))
    load_s = time.perf_counter() - start
    start = time.perf_counter()
    prepared = prepare_image(PHOTO, keypoints=KEYPOINTS)
    inputs = network_inputs(prepared.rgb, prepared.rect, predictor.model.options.fine.load_size_big)
    predictor.encode(inputs.image_512, inputs.image_1024)
    encode_s = time.perf_counter() - start
    rows = []
    for res in resolutions:
        grid = pifuhd_grid(res)
        row = {"model": name, "res": res, "load_s": load_s, "encode_s": encode_s}
        start = time.perf_counter()
        fast = sparse_field(predictor.surface_occupancy, grid)
        row["fast_queries"], row["fast_field_s"] = fast.queries, time.perf_counter() - start
        start = time.perf_counter()
        fast_mesh = extract_mesh(fast.values, grid)
        row["mc_s"] = time.perf_counter() - start
        del fast
        row["dense_queries"] = res**3
        if res <= dense_max:
            start = time.perf_counter()
            dense = dense_field(predictor.occupancy, grid)
            row["dense_field_s"] = time.perf_counter() - start
            dense_mesh = extract_mesh(dense.values, grid)
            row["chamfer"] = chamfer(fast_mesh[0], dense_mesh[0])
            row["same_faces"] = bool(np.array_equal(fast_mesh[1], dense_mesh[1]))
            del dense
        row["vertices"] = len(fast_mesh[0])
        row["peak_rss_gb"] = peak_rss_gb()
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def print_table(rows: list[dict]) -> None:
    header = (
        "| model | res | MLP queries fast | dense (res³) | ratio | load s | encode s | fast field s | dense field s "
        "| marching cubes s | Chamfer dense-fast | same faces | peak RSS GB |"
    )
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for r in rows:
        dense_s = f"{r['dense_field_s']:.1f}" if "dense_field_s" in r else "not run"
        cham = f"{r['chamfer']:.2e}" if "chamfer" in r else "n/a"
        same = str(r.get("same_faces", "n/a"))
        print(
            f"| {r['model']} | {r['res']} | {r['fast_queries']:,} | {r['dense_queries']:,} | "
            f"{r['dense_queries'] / r['fast_queries']:.1f}x | {r['load_s']:.1f} | {r['encode_s']:.1f} | "
            f"{r['fast_field_s']:.1f} | {dense_s} | {r['mc_s']:.1f} | {cham} | {same} | {r['peak_rss_gb']:.2f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["reference", "released"], choices=["reference", "released"])
    parser.add_argument("--resolutions", nargs="+", type=int, default=[128, 256, 512])
    parser.add_argument("--dense-max", type=int, default=None, help="largest res with a real dense run")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/human3d_bench"))
    parser.add_argument("--worker", nargs=2, metavar=("NAME", "CHECKPOINT"), help=argparse.SUPPRESS)
    parser.add_argument("--synthesise", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.synthesise:
        synthesise_released(args.synthesise)
        return
    if args.worker:
        worker(args.worker[0], Path(args.worker[1]), args.resolutions, args.dense_max or 0)
        return
    rows = []
    for name in args.models:
        checkpoint = REFERENCE / "public" / "checkpoint.pt"
        dense_max = args.dense_max if args.dense_max is not None else (256 if name == "reference" else 128)
        if name == "released":
            checkpoint = args.cache / "released_size.pt"
            if not checkpoint.is_file():
                args.cache.mkdir(parents=True, exist_ok=True)
                subprocess.run([sys.executable, __file__, "--synthesise", str(checkpoint)], check=True)
        command = [sys.executable, __file__, "--worker", name, str(checkpoint), "--dense-max", str(dense_max),
                   "--resolutions", *map(str, args.resolutions)]
        with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
            for line in process.stdout:
                print(line, end="", flush=True)
                if line.startswith("{"):
                    rows.append(json.loads(line))
        if process.returncode:
            raise SystemExit(f"worker for {name} failed")
    print(f"\nmachine: {torch.get_num_threads()} torch threads available; workers use 2 threads (2 CPU cores)\n")
    print_table(rows)


if __name__ == "__main__":
    main()
