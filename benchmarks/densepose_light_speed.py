"""Light DensePose speed: frames/s at 240x320 and 800x1100 (H x W), torch and onnxruntime, network and decoding.

Run by hand:  python benchmarks/densepose_light_speed.py [--threads 2] [--runs 20] [--checkpoint PKL]

Two tables. The first: the network finding the people itself (``--no-people-finder``). The second:
the default, the network on the people finder's people (:class:`PersonCropPredictor`), with the finder's
whole search on every image (with and without its small-people pass, as for photos) and following people
from frame to frame (as for a video: a whole search every 12 frames, the landmark model alone between).

Weights: the bundled network-alone model (human3d_densepose_light.pkl) for the first table unless
--checkpoint is given; the bundled people model (human3d_densepose_light_people.pkl, which reads each
person's pose guide) for the second unless --people-checkpoint is given. Input: our own example person
(examples/person.png, cut out with its mask) pasted twice over a grey gradient, so the decoding has people
to work on; the "people" column says how many were found. Wall figures are medians of --runs calls after 2
warm-up calls; "total" is the whole ``predict`` (shrinking to the working size, padding, network, decoding
to per-box labels and U,V), "CPU ms" its process CPU time per frame over all threads. The machine's load
average is printed with the table: wall time suffers when other jobs share the cores (then CPU time is the
steadier figure).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from human3d.densepose.light.person_crops import PersonCropPredictor
from human3d.densepose.light.predictor import LightDensePosePredictor, decode_image, pad_batch, shrink_to
from human3d.densepose.predictor import build_densepose, light_network
from human3d.people.finder import build_people_finder
from human3d.people.following import PeopleFollower
from human3d.weights.registry import get_weights

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "person.png"
SIZES = ((240, 320), (800, 1100))
PUBLISHED = ("DensePose R-CNN on one GPU (Güler, Neverova, Kokkinos, CVPR 2018, arXiv:1802.00434): 20-26 frames/s "
             "at 240x320, 4-5 frames/s at 800x1100; official detectron2 R_50_FPN_s1x on this machine kind's 2 CPU "
             "threads (../shared/reference/densepose/SPEC.md): 0.30 frames/s (320x240, default resize), "
             "0.23 frames/s (800x1100), 2.3 frames/s (240x320 at native size, no detection)")


def test_image(height: int, width: int) -> np.ndarray:
    """Two copies of the example person over a gradient, uint8 BGR (height, width)."""
    ramp = np.linspace(90, 170, width, dtype=np.float32)[None, :, None]
    canvas = np.broadcast_to(ramp, (height, width, 3)).copy()
    person = Image.open(EXAMPLE).convert("RGBA")
    side = int(height * 0.9)
    person = np.asarray(person.resize((side, side), Image.BILINEAR), dtype=np.float32)
    alpha = person[..., 3:] / 255.0
    for left in (width // 2 - side * 3 // 4, width // 2 - side // 4):
        x0, x1 = max(0, left), min(width, left + side)
        region = canvas[height - side:, x0:x1]
        patch = person[:, x0 - left:x1 - left]
        a = alpha[:, x0 - left:x1 - left]
        canvas[height - side:, x0:x1] = patch[..., :3] * a + region * (1 - a)
    return np.ascontiguousarray(canvas.astype(np.uint8)[:, :, ::-1])


def median_ms(fn, runs: int) -> tuple[float, float]:
    """Median wall milliseconds of ``fn()`` over ``runs`` calls after two warm-up calls, and the mean
    process CPU milliseconds per call (all threads; steadier than wall time on a busy machine)."""
    for _ in range(2):
        fn()
    times = []
    cpu_start = time.process_time()
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, (time.process_time() - cpu_start) / runs * 1000


def measure(predictor: LightDensePosePredictor, image: np.ndarray, runs: int) -> dict:
    """Network, decoding and whole-``predict`` times (wall, and CPU for the whole) for one image."""
    shrunk = shrink_to(image, predictor.short_side)
    batch = pad_batch([shrunk])
    batch = batch.contiguous(memory_format=torch.channels_last if predictor.channels_last else torch.contiguous_format)
    with torch.inference_mode():
        output = predictor.network(batch).float()
        network_ms, _ = median_ms(lambda: predictor.network(batch), runs)
        decode_ms, _ = median_ms(lambda: decode_image(output, shrunk.shape[:2], image.shape[:2], predictor.min_score),
                                 runs)
    total_ms, cpu_ms = median_ms(lambda: predictor(image), runs)
    people = len(predictor(image))
    return {"network": network_ms, "decode": decode_ms, "total": total_ms, "cpu": cpu_ms, "people": people,
            "network_hw": tuple(batch.shape[-2:])}


def measure_people(network, finder, image: np.ndarray, runs: int) -> dict:
    """Finder, DensePose-on-crops and whole-``predict`` times (wall, and CPU for the whole) for one image."""
    rgb = np.ascontiguousarray(image[..., ::-1])
    predictor = PersonCropPredictor(network, finder)
    people = finder.find(rgb)
    finder_ms, _ = median_ms(lambda: finder.find(rgb), runs)
    crops_ms, _ = median_ms(lambda: predictor.predict_people([image], [people]), runs)
    total_ms, cpu_ms = median_ms(lambda: predictor(image), runs)
    return {"finder": finder_ms, "crops": crops_ms, "total": total_ms, "cpu": cpu_ms, "people": len(people)}


def people_table(networks: dict, runs: int) -> None:
    """The second table: the default, DensePose on the people finder's people, on each back end."""
    finders = {"whole search, small-people pass": lambda: build_people_finder(small_people=True),
               "whole search, no small-people pass": lambda: build_people_finder(small_people=False),
               "video: following (search every 12 frames)": lambda: PeopleFollower(build_people_finder())}
    print("\nOn the people finder's people (the default of `human3d densepose`; onnxruntime is the CPU default):")
    print("| backend | people finder | input H×W | people | finder ms | DensePose ms | total ms | frames/s | CPU ms |")
    print("|---|---|---|---|---|---|---|---|---|")
    for backend, network in networks.items():
        for name, make in finders.items():
            for height, width in SIZES:
                r = measure_people(network, make(), test_image(height, width), runs)
                print(f"| {backend} | {name} | {height}×{width} | {r['people']} | {r['finder']:.1f} | "
                      f"{r['crops']:.1f} | {r['total']:.1f} | {1000 / r['total']:.1f} | {r['cpu']:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--checkpoint", type=Path, default=get_weights("human3d_densepose_light").path)
    parser.add_argument("--people-checkpoint", type=Path, default=get_weights("human3d_densepose_light_people").path)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = build_densepose(args.checkpoint)
    backends = {"torch": lambda: LightDensePosePredictor(model),
                "onnxruntime": lambda: LightDensePosePredictor(light_network(model, backend="onnxruntime"))}
    print(f"light DensePose, {args.threads} thread(s), {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}, checkpoint {args.checkpoint.name}")
    print("| backend | input H×W | network H×W | people | network ms | decoding ms | total ms | frames/s | CPU ms |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, make in backends.items():
        predictor = make()
        for height, width in SIZES:
            r = measure(predictor, test_image(height, width), args.runs)
            print(
                f"| {name} | {height}×{width} | {r['network_hw'][0]}×{r['network_hw'][1]} | {r['people']} | "
                f"{r['network']:.1f} | {r['decode']:.1f} | {r['total']:.1f} | {1000 / r['total']:.1f} | "
                f"{r['cpu']:.1f} |"
            )
    print(f"people model: {args.people_checkpoint.name}")
    people_model = build_densepose(args.people_checkpoint)
    people_table({"torch": people_model, "onnxruntime": light_network(people_model, backend="onnxruntime")}, args.runs)
    print(f"Published: {PUBLISHED}")


if __name__ == "__main__":
    main()
