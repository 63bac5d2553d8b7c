"""``human3d serve``'s jobs: seconds from dropping a file to each result, first job (models built) and next.

Run by hand:  python benchmarks/webapp_jobs.py [PHOTO ...] [--resolution 256] [--seconds 2]

Each photo (default ``examples/person.png``) runs twice through the photo job (the first builds the
models); a clip of 2 walkers at 640x360 (``human3d synth-clip``, seed 7) runs twice through the video job.
Times are taken when the job yields each result, as the page would show it. Prints one table, with the
load average.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import torch

from human3d.synth.clip import render_walking_clip
from human3d.webapp.jobs import photo_job, video_job
from human3d.webapp.models import Models
from human3d.webapp.uploads import UploadLimits

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "person.png"


def timed(job, models: Models, source: Path, scratch: Path) -> list[float]:
    """Seconds from the start to each result the job yields."""
    start, times = time.perf_counter(), []
    for _ in job(models, source, Path(tempfile.mkdtemp(dir=scratch)), UploadLimits(), False, lambda f, t: None):
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("photos", type=Path, nargs="*", default=[EXAMPLE])
    parser.add_argument("--resolution", type=int, default=256)
    parser.add_argument("--seconds", type=float, default=2.0, help="length of the synthetic clip")
    args = parser.parse_args()
    models = Models(args.resolution)
    print(f"machine: {os.cpu_count()} CPU cores visible, {torch.get_num_threads()} torch threads, "
          f"load average {os.getloadavg()[0]:.1f}; reconstruction grid {args.resolution}")
    print("| input | run | first result (s) | each next result (s) |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        clip = render_walking_clip(scratch / "walkers.mp4", round(24 * args.seconds), 2, 7, 640, 360, progress=False)
        for job, source, name in [(photo_job, p, p.name) for p in args.photos] + [
                (video_job, clip, f"2 walkers, 640x360, {args.seconds:g} s")]:
            for run in ("first", "next"):
                times = timed(job, models, source, scratch)
                print(f"| {name} | {run} | {times[0]:.1f} | {', '.join(f'{t:.1f}' for t in times[1:])} |", flush=True)
                if job is photo_job and run == "first":
                    models.built.clear()  # each photo's first run builds the models again


if __name__ == "__main__":
    main()
