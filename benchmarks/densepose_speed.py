"""DensePose R-CNN speed: images/s at 320x240 and 1100x800 for R_50 and R_101, per stage, beside the official CPU time.

Run by hand:  python benchmarks/densepose_speed.py [--device cpu|cuda] [--runs 3] [--threads 2]
              [--precision fp32|bf16-head|bf16]
              [--configs R_50_FPN_s1x,R_101_FPN_s1x] [--sizes 320x240,1100x800] [--official official.json]

Weights: the public random-weight checkpoints rebuilt with ../shared/reference/densepose/make_weights.py
when that folder is present (R_101 reuses the R_50 tuned overrides), else PyTorch's default random init.
Random weights find a random number of "people", which drives the DensePose and IUV cost, so every case
keeps exactly DETECTIONS boxes (score threshold 0, top DETECTIONS after NMS); the official runs had 8-15.
Inputs go through the default test-time resize (short side 800, long side <= 1333), as in the official
timing in ../shared/reference/densepose/SPEC.md section 7 (wall seconds, 2 threads, process CPU time
about 1.9x wall). Wall time suffers on a shared machine; process CPU time with --threads 1 is the
steadier figure of work done.

Two tables: per case (model, size) the stages and total; then per stage, ours beside the official figure
and their ratio (official / ours: above 1 means we are faster). The official figures are SPEC section 7's
(measured on another, faster machine), or with --official those that benchmarks/densepose_official.py
measured on this one. The DensePose stage is also compared per detection, since the official runs keep
as many detections as their random weights give (11 to 14) and ours keep 10.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from human3d.densepose.predictor import build_densepose
from human3d.densepose.rcnn.config import get_config
from human3d.densepose.rcnn.model import DensePoseRCNN
from human3d.densepose.rcnn.postprocess import to_result
from human3d.densepose.rcnn.precision import PRECISIONS
from human3d.densepose.rcnn.predictor import RCNNDensePosePredictor

SHARED = Path(__file__).resolve().parents[2] / "shared"
REFERENCE = SHARED / "reference" / "densepose"
STAGES = ("bb+FPN", "RPN", "box", "DensePose", "IUV")
# SPEC section 7, R_50_FPN_s1x, 2 threads: detections, then seconds per stage (STAGES) and total
OFFICIAL = {
    ("densepose_rcnn_R_50_FPN_s1x", (320, 240)): (13, (1.11, 0.24, 0.33, 1.45, 0.11), 3.30),
    ("densepose_rcnn_R_50_FPN_s1x", (1100, 800)): (13, (1.16, 0.28, 0.33, 1.42, 0.93), 4.35),
}
CONFIGS = ("densepose_rcnn_R_50_FPN_s1x", "densepose_rcnn_R_101_FPN_s1x")
SIZES = ((320, 240), (1100, 800))
DETECTIONS = 10


def load_model(name: str, folder: Path) -> DensePoseRCNN:
    """Random-weight model keeping DETECTIONS boxes: the reference recipe where available, else default init."""
    config = dataclasses.replace(get_config(name), detections_per_image=DETECTIONS)
    overrides = REFERENCE / "public" / "densepose_rcnn_R_50_FPN_s1x_weight_overrides.npz"
    if not overrides.is_file():
        return DensePoseRCNN(config).eval().requires_grad_(False)
    path = folder / f"{name}.pkl"
    subprocess.run([sys.executable, str(REFERENCE / "make_weights.py"), name, "0", str(overrides), str(path)],
                   check=True, capture_output=True)
    return build_densepose(path, config)


def test_image(width: int, height: int) -> np.ndarray:
    """A real photo of a person (ryota.png) resized to the benchmark size, BGR; noise if absent."""
    photo = SHARED / "photos" / "ryota.png"
    if photo.is_file():
        from PIL import Image

        return np.asarray(Image.open(photo).convert("RGB").resize((width, height)))[:, :, ::-1].copy()
    return np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


@torch.inference_mode()
def time_stages(predictor: RCNNDensePosePredictor, image: np.ndarray) -> tuple[dict[str, float], int, tuple[int, int]]:
    """Seconds per stage for one image (same code path as RCNNDensePosePredictor.predict, split up)."""
    model, device = predictor.model, predictor.device
    model.roi_heads.head_autocast = predictor.head_autocast  # as predict() sets it
    times: dict[str, float] = {}
    start, cpu_start = time.perf_counter(), time.process_time()
    resized = predictor.prepare(image)
    batch, sizes = model.normalize([torch.from_numpy(resized.transpose(2, 0, 1).copy()).to(device)])
    if predictor.channels_last:
        batch = batch.contiguous(memory_format=torch.channels_last)
    with predictor.autocast:
        t = time.perf_counter()
        times["input"] = t - start
        features = model.backbone(batch)
        sync(device)
        times["bb+FPN"], t = time.perf_counter() - t, time.perf_counter()
        proposals = [b for b, _ in model.proposal_generator(features, sizes)]
        sync(device)
        times["RPN"], t = time.perf_counter() - t, time.perf_counter()
        detections = model.roi_heads.detect(features, proposals, sizes)[0]
        sync(device)
        times["box"], t = time.perf_counter() - t, time.perf_counter()
        charts = model.roi_heads.densepose(features, [detections.boxes]) if len(detections.boxes) else None
        sync(device)
        times["DensePose"], t = time.perf_counter() - t, time.perf_counter()
    if charts is not None:
        to_result(detections.boxes, detections.scores, charts, sizes[0], image.shape[:2])
    times["IUV"] = time.perf_counter() - t
    times["total"] = time.perf_counter() - start
    times["cpu"] = time.process_time() - cpu_start
    return times, len(detections.boxes), sizes[0]


def measured_official(path: Path) -> dict:
    """The official figures that ``benchmarks/densepose_official.py`` measured on this machine, keyed as
    :data:`OFFICIAL`."""
    document = json.loads(path.read_text())
    return {(config, tuple(int(v) for v in size.split("x"))): (row["dets"], tuple(row["stages"]), row["total"])
            for config, sizes in document.items() for size, row in sizes.items()}


def official_rows(official_figures: dict, config: str, size: tuple[int, int], times: dict[str, float],
                  dets: int) -> list[str]:
    """Markdown rows: each stage, the DensePose stage per detection and the total, ours beside the official."""
    official = official_figures.get((config, size))
    if official is None:
        return []
    official_dets, official_stages, official_total = official
    pairs = list(zip(STAGES, (times[s] for s in STAGES), official_stages))
    if dets:
        pairs.append(("DensePose per detection", times["DensePose"] / dets, official_stages[3] / official_dets))
    pairs.append(("total", times["total"], official_total))
    name = f"{config.removeprefix('densepose_rcnn_')} | {size[0]}×{size[1]}"
    return [f"| {name} | {stage} | {ours:.3f} | {theirs:.3f} | {theirs / max(ours, 1e-9):.2f}× |"
            for stage, ours, theirs in pairs]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per case (minimum is reported)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--precision", choices=PRECISIONS, help="default: the best this device supports")
    parser.add_argument("--configs", default=",".join(c.removeprefix("densepose_rcnn_") for c in CONFIGS))
    parser.add_argument("--sizes", default=",".join(f"{w}x{h}" for w, h in SIZES), help="input W x H, comma-separated")
    parser.add_argument("--official", type=Path, metavar="JSON",
                        help="official figures measured on this machine by benchmarks/densepose_official.py "
                             "(default: SPEC section 7's, from another machine)")
    args = parser.parse_args()
    official_figures = measured_official(args.official) if args.official else OFFICIAL
    official_source = f"measured here ({args.official.name})" if args.official else "SPEC section 7"
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    configs = [f"densepose_rcnn_{c.removeprefix('densepose_rcnn_')}" for c in args.configs.split(",")]
    sizes = [tuple(int(v) for v in size.split("x")) for size in args.sizes.split(",")]
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {args.threads} threads"
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"device: {name}; torch {torch.__version__}; minimum of {args.runs} runs after 1 warm-up; "
          f"load average {load}\n")
    print("| model | input W×H → network H×W | precision | dets | " + " | ".join(STAGES)
          + " | total s | images/s | process CPU s |")
    print("|---|---|---|---|" + "---|" * (len(STAGES) + 3))
    comparison = []
    with tempfile.TemporaryDirectory() as folder:
        for config in configs:
            predictor = RCNNDensePosePredictor(load_model(config, Path(folder)), device, min_score=0.0,
                                               precision=args.precision)
            for width, height in sizes:
                image = test_image(width, height)
                time_stages(predictor, image)
                runs = [time_stages(predictor, image) for _ in range(args.runs)]
                times, dets, size = min(runs, key=lambda r: r[0]["total"])
                print(
                    f"| {config.removeprefix('densepose_rcnn_')} | {width}×{height} → {size[0]}×{size[1]} | "
                    f"{predictor.precision} | {dets} | " + " | ".join(f"{times[s]:.2f}" for s in STAGES)
                    + f" | {times['total']:.2f} | {1.0 / times['total']:.2f} | {times['cpu']:.2f} |",
                    flush=True,
                )
                comparison += official_rows(official_figures, config, (width, height), times, dets)
    if comparison:
        print(f"\nBeside the official detectron2 code ({official_source}, 2 threads); load average "
              f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}\n")
        print("| model | input W×H | stage | ours s | official s | official / ours |")
        print("|---|---|---|---|---|---|")
        print("\n".join(comparison))


if __name__ == "__main__":
    main()
