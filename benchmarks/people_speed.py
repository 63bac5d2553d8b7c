"""People finder speed: milliseconds per image at 640x480 and 1920x1080, with and without the small-people pass.

Run by hand:  python benchmarks/people_speed.py [--runs 5] [--image PATH]

Input: a street photo from ../shared/photos/street when it is there (else our own example person pasted
over a grey gradient), resized to each size. "whole image" is one pass of MediaPipe's pose landmarker over
the image; "+ small people" adds the zoomed-tile pass (tiles of 1/1, 1/2 and 1/3 of the shorter side, half a
tile of overlap) and the pass zoomed onto the HOG detector's seeds. Figures are medians of --runs calls after
one warm-up call, with the process CPU time per image over all threads beside them; the machine's core count
and load average are printed with the table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import cv2
import numpy as np

from human3d.io.images import read_image
from human3d.people.finder import PeopleFinder

REPO = Path(__file__).resolve().parents[1]
STREET = REPO.parent / "shared" / "photos" / "street" / "17790319373_bd19b24cfc_k.jpg"
SIZES = ((640, 480), (1920, 1080))


def test_image(path: Path | None) -> np.ndarray:
    """The benchmark's photo (RGB): ``path``, the shared street photo, or the example over a gradient."""
    if path is not None or STREET.is_file():
        return read_image(path or STREET)[..., :3]
    person = read_image(REPO / "examples" / "person.png")
    ramp = np.linspace(60, 200, 1024, dtype=np.float32)
    canvas = np.repeat(np.repeat(ramp[None, :, None], 768, axis=0), 3, axis=2)
    alpha = person[..., 3:].astype(np.float32) / 255
    canvas[200:712, 300:812] = canvas[200:712, 300:812] * (1 - alpha) + person[..., :3] * alpha
    return canvas.astype(np.uint8)


def measure(finder: PeopleFinder, image: np.ndarray, runs: int) -> tuple[float, float, int]:
    """Median wall ms, CPU ms per call, and the people found."""
    people = finder.find(image)  # warm-up
    walls, cpu_start = [], time.process_time()
    for _ in range(runs):
        start = time.perf_counter()
        people = finder.find(image)
        walls.append(time.perf_counter() - start)
    return 1000 * statistics.median(walls), 1000 * (time.process_time() - cpu_start) / runs, len(people)


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--image", type=Path)
    args = parser.parse_args()
    photo = test_image(args.image)
    finders = {"whole image": PeopleFinder(tile_levels=(), seeds=False), "+ small people": PeopleFinder()}
    print(f"machine: {os.cpu_count()} CPU cores visible, load average {os.getloadavg()[0]:.1f}")
    print("| pass | size (W×H) | people | wall ms | CPU ms |")
    print("|---|---|---|---|---|")
    for width, height in SIZES:
        image = cv2.resize(photo, (width, height), interpolation=cv2.INTER_AREA)
        for name, finder in finders.items():
            wall, cpu, count = measure(finder, image, args.runs)
            print(f"| {name} | {width}×{height} | {count} | {wall:.0f} | {cpu:.0f} |", flush=True)


if __name__ == "__main__":
    main()
