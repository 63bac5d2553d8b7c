"""People finder recall by person size, and false finds, on hand-labelled photos. Prints a table.

Run by hand:  python benchmarks/people_recall.py [--labels benchmarks/labels/street_people.json]
                                                 [--photos ../shared/photos/street]

The labels (``benchmarks/labels/street_people.json``) are boxes drawn by hand around every person at least
about 25 pixels tall in the nine street photos, cut and partly hidden people included (their visible
extent). A labelled person is found when a found box overlaps theirs with IoU at least ``--iou`` (one
found box per labelled person, best overlap first); a found box that matches nobody is a false find.
Recall is given per size bin (the labelled box's height over the image's height) for each setting of
the finder: the whole-image pass alone; with the zoomed tiles of 1/2 and 1/3 of the shorter side (the default
before 2026-12-04); with tiles of 1/1, 1/2 and 1/3 and the HOG seeds; with squares of the shorter side and the
HOG seeds (the default before 2026-12-05); and with the selfie segmentation's seeds too (the default).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from human3d.io.images import read_image
from human3d.people.finder import SMALL_PEOPLE_TILES, PeopleFinder
from human3d.people.tiles import box_iou_cover

REPO = Path(__file__).resolve().parents[1]
BINS = ((0.0, 1 / 8, "< 1/8"), (1 / 8, 1 / 4, "1/8 - 1/4"), (1 / 4, 1 / 2, "1/4 - 1/2"), (1 / 2, 9.0, ">= 1/2"))
SETTINGS = {"whole image": dict(tile_levels=(), seeds=False),
            "+ tiles 1/2, 1/3 (before 2026-12-04)": dict(tile_levels=(2, 3), seeds=False),
            "+ tiles 1/1, 1/2, 1/3 + HOG seeds": dict(tile_levels=(1, 2, 3), seeds=True, segmentation_seeds=False),
            "+ squares 1/1 + HOG seeds (before 2026-12-05)": dict(tile_levels=SMALL_PEOPLE_TILES, seeds=True,
                                                                  segmentation_seeds=False),
            "+ squares 1/1 + HOG and segmentation seeds (default)": dict(tile_levels=SMALL_PEOPLE_TILES, seeds=True)}


def match(labels: list[list[float]], found: list[np.ndarray], min_iou: float) -> tuple[list[bool], int]:
    """Which labelled boxes are found (greedy one-to-one by IoU), and how many found boxes match nobody."""
    pairs = sorted(((box_iou_cover(label, box)[0], i, j) for i, label in enumerate(labels)
                    for j, box in enumerate(found)), reverse=True)
    hit, used = [False] * len(labels), set()
    for iou, i, j in pairs:
        if iou >= min_iou and not hit[i] and j not in used:
            hit[i] = True
            used.add(j)
    return hit, len(found) - len(used)


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, default=REPO / "benchmarks" / "labels" / "street_people.json")
    parser.add_argument("--photos", type=Path, default=REPO.parent / "shared" / "photos" / "street")
    parser.add_argument("--iou", type=float, default=0.3)
    args = parser.parse_args()
    labelled = json.loads(args.labels.read_text())["images"]
    images = {name: read_image(args.photos / name)[..., :3] for name in labelled}
    print(f"machine: {os.cpu_count()} CPU cores visible, load average {os.getloadavg()[0]:.1f}; "
          f"{sum(map(len, labelled.values()))} labelled people in {len(images)} photos, match at IoU >= {args.iou}")
    header = " | ".join(f"{name} (n)" for _, _, name in BINS)
    print(f"| finder | {header} | all | false finds | s per image |")
    print("|---|" + "---|" * (len(BINS) + 3))
    for setting, options in SETTINGS.items():
        finder = PeopleFinder(**options)
        hits: dict[str, list[bool]] = {name: [] for _, _, name in BINS}
        false_finds, seconds = 0, 0.0
        for name, labels in labelled.items():
            image = images[name]
            start = time.perf_counter()
            found = [person.box_xyxy for person in finder.find(image)]
            seconds += time.perf_counter() - start
            hit, false = match(labels, found, args.iou)
            false_finds += false
            for label, ok in zip(labels, hit):
                size = (label[3] - label[1]) / image.shape[0]
                hits[next(bin_name for low, high, bin_name in BINS if low <= size < high)].append(ok)
        finder.close()
        cells = " | ".join(f"{np.mean(h):.0%} ({len(h)})" if h else "- (0)" for h in hits.values())
        everything = [ok for h in hits.values() for ok in h]
        print(f"| {setting} | {cells} | {np.mean(everything):.0%} ({len(everything)}) | {false_finds} | "
              f"{seconds / len(images):.2f} |", flush=True)


if __name__ == "__main__":
    main()
