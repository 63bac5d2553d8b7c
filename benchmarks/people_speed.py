"""People finder speed: milliseconds per image at 640x480 and 1920x1080, with and without the small-people pass.

Run by hand:  python benchmarks/people_speed.py [--runs 5] [--image PATH]

Input: a street photo from ../shared/photos/street when it is there (else our own example person pasted
over a grey gradient), resized to each size. "whole image" is one pass of MediaPipe's pose landmarker over
the image; "+ small people" adds the zoomed-tile pass (tiles of 1/1, 1/2 and 1/3 of the shorter side, half a
tile of overlap) and the pass zoomed onto the HOG detector's seeds. Figures are medians of --runs calls after
one warm-up call, with the process CPU time per image over all threads beside them; the machine's core count
and load average are printed with the table.

A second table times the landmark model alone on one square around the photo's first person (as a video's
people are followed, and HOG seeds looked at): human3d's LiteRT runner
(:class:`human3d.people.roi_landmarks.RegionLandmarker`) against MediaPipe's own ``PoseLandmarkByRoiCpu``
graph, which human3d used before 2026-12-05 (the same model file, from the same wheel).
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
from human3d.people.models import import_mediapipe
from human3d.people.roi_landmarks import RegionLandmarker

REPO = Path(__file__).resolve().parents[1]
STREET = REPO.parent / "shared" / "photos" / "street" / "17790319373_bd19b24cfc_k.jpg"
SIZES = ((640, 480), (1920, 1080))
GRAPH = """
input_stream: "image"
input_stream: "roi"
output_stream: "landmarks"
node {
  calculator: "PoseLandmarkByRoiCpu"
  input_side_packet: "MODEL_COMPLEXITY:model_complexity"
  input_side_packet: "ENABLE_SEGMENTATION:enable_segmentation"
  input_stream: "IMAGE:image"
  input_stream: "ROI:roi"
  output_stream: "LANDMARKS:landmarks"
  output_stream: "SEGMENTATION_MASK:mask"
}
"""


def mediapipe_square_ms(image: np.ndarray, centre: tuple[float, float], side: float, runs: int) -> float:
    """Median ms of MediaPipe's own graph (landmarks and mask) on the square of ``side`` around ``centre``."""
    mediapipe = import_mediapipe()
    from google.protobuf import text_format
    from mediapipe.framework import calculator_pb2
    from mediapipe.framework.formats import rect_pb2

    mediapipe.resource_util.set_resource_dir(os.path.dirname(os.path.dirname(mediapipe.__file__)))
    graph = mediapipe.CalculatorGraph(graph_config=text_format.Parse(GRAPH, calculator_pb2.CalculatorGraphConfig()))
    graph.observe_output_stream("landmarks", lambda stream, packet: None)
    graph.start_run(input_side_packets={"model_complexity": mediapipe.packet_creator.create_int(1),
                                        "enable_segmentation": mediapipe.packet_creator.create_bool(True)})
    height, width = image.shape[:2]
    region = rect_pb2.NormalizedRect(x_center=centre[0] / width, y_center=centre[1] / height, width=side / width,
                                     height=side / height, rotation=0.0)
    walls = []
    for stamp in range(runs + 1):
        start = time.perf_counter()
        frame = mediapipe.packet_creator.create_image_frame(image_format=mediapipe.ImageFormat.SRGB, data=image)
        graph.add_packet_to_input_stream("image", frame.at(stamp))
        graph.add_packet_to_input_stream("roi", mediapipe.packet_creator.create_proto(region).at(stamp))
        graph.wait_until_idle()
        walls.append(time.perf_counter() - start)
    graph.close()
    return 1000 * statistics.median(walls[1:])


def litert_square_ms(image: np.ndarray, centre: tuple[float, float], side: float, runs: int) -> float:
    """Median ms of :class:`RegionLandmarker` (landmarks and mask) on the same square."""
    regions = RegionLandmarker()
    walls = []
    for _ in range(runs + 1):
        start = time.perf_counter()
        regions.find(image, centre, side)
        walls.append(time.perf_counter() - start)
    return 1000 * statistics.median(walls[1:])


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
    print("\n| the landmark model on one square | size (W×H) | wall ms, LiteRT (human3d) | wall ms, MediaPipe graph |")
    print("|---|---|---|---|")
    for width, height in SIZES:
        image = np.ascontiguousarray(cv2.resize(photo, (width, height), interpolation=cv2.INTER_AREA))
        people = finders["+ small people"].find(image)
        if not people:
            continue
        x1, y1, x2, y2 = (float(v) for v in people[0].box_xyxy)
        square = ((x1 + x2) / 2, (y1 + y2) / 2), 1.25 * max(x2 - x1, y2 - y1)
        ours, theirs = (measure_square(image, *square, 4 * args.runs) for measure_square in (litert_square_ms,
                                                                                         mediapipe_square_ms))
        print(f"| first person found | {width}×{height} | {ours:.1f} | {theirs:.1f} |", flush=True)


if __name__ == "__main__":
    main()
