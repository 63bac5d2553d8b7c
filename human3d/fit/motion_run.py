"""``human3d motion`` over a video: the JSON streamed frame by frame, a preview video, then the animated
glTF and one BVH per person. Every file appears under its name only when complete (nothing half-written).
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, TextIO

import numpy as np
from tqdm import tqdm

from human3d.body.motion import BodyMotion
from human3d.densepose.light.person_crops import PersonCropPredictor
from human3d.errors import Human3DError
from human3d.fit.body_fit import BodyFit, BodyFitter
from human3d.fit.motion import track_and_fit
from human3d.fit.run import bodies_picture, frame_record
from human3d.io.atomic import atomic_path
from human3d.io.video import VideoReader, video_writer
from human3d.people.finder import PeopleFinder, Person
from human3d.people.leg_sides import SideWindow
from human3d.people.smoothing import SMOOTH_SECONDS, half_window


@dataclass(frozen=True)
class MotionOutputs:
    """Where to write: the animated glTF, the BVH file(s), the JSON file, the preview video."""

    glb: Path | None = None
    bvh: Path | None = None
    json: Path | None = None
    preview: Path | None = None
    blur_faces: bool = False


class FrameJson:
    """Writes ``{"fps", "width", "height", "frames": [...]}`` one frame at a time to an open stream."""

    def __init__(self, stream: TextIO | None, fps: float) -> None:
        self.stream, self.fps, self.count = stream, fps, 0

    def append(self, index: int, frame: np.ndarray, people: list[Person], fits: list[BodyFit]) -> None:
        """Add one frame's entry (the header first, with the size of the first frame); frames are counted
        even when nothing is written."""
        self.count += 1
        if self.stream is None:
            return
        if self.count == 1:
            self.stream.write(json.dumps({"fps": self.fps, "width": int(frame.shape[1]),
                                          "height": int(frame.shape[0])})[:-1] + ',"frames":[')
        record = json.dumps(frame_record(index, people, fits), separators=(",", ":"))
        self.stream.write(("\n" if self.count == 1 else ",\n") + record)

    def close(self) -> None:
        """End the document."""
        if self.stream is not None:
            self.stream.write("\n]}\n")


@contextlib.contextmanager
def optional_text(path: Path | None) -> Iterator[TextIO | None]:
    """An atomically written text file at ``path``, or None."""
    if path is None:
        yield None
        return
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as stream:
        yield stream


def bvh_paths(path: Path, ids: list[int]) -> list[Path]:
    """``path`` itself for one person; ``<stem>_person<id>.bvh`` beside it for several."""
    return [path] if len(ids) == 1 else [path.with_name(f"{path.stem}_person{i}{path.suffix}") for i in ids]


def run_motion(video: Path, finder: PeopleFinder, fitter: BodyFitter, outputs: MotionOutputs,
               smoothing: float = SMOOTH_SECONDS, densepose: PersonCropPredictor | None = None,
               leg_sides: bool = True) -> list[BodyMotion]:
    """Fit the people of ``video`` frame by frame and write the outputs; returns each person's motion.
    ``smoothing``: seconds of the window the people's landmarks are smoothed over (0: not smoothed;
    :mod:`human3d.people.smoothing`); ``densepose``: the DensePose predictor whose I, U, V of each person are
    fitted too (None: keypoints and masks alone); ``leg_sides``: name the legs from the spots the feet stand
    on (:mod:`human3d.people.leg_sides`), else take the finder's sides as they come."""
    reader = VideoReader(video)
    faces = fitter.body.topology.faces
    preview = video_writer(outputs.preview, reader.fps) if outputs.preview else contextlib.nullcontext()
    with optional_text(outputs.json) as stream, preview as write_frame, \
            tqdm(total=reader.frame_count_hint, unit="frame") as progress:
        document = FrameJson(stream, reader.fps)

        def on_frame(index: int, frame: np.ndarray, people: list[Person], fits: list[BodyFit]) -> None:
            document.append(index, frame, people, fits)
            if write_frame is not None:
                write_frame(bodies_picture(frame, people, fits, faces, outputs.blur_faces))
            progress.update(1)

        tracks = track_and_fit(reader, finder, fitter, max(1, int(round(reader.fps))), on_frame,
                               meshes=outputs.preview is not None, smoothing=half_window(reader.fps, smoothing),
                               densepose=densepose, leg_sides=SideWindow.for_fps(reader.fps) if leg_sides else None)
        if not tracks:
            raise Human3DError.for_path(video, "no person found with enough of their body in view")
        document.close()
        motions = [track.motion(document.count, reader.fps) for track in tracks.values()]
        if outputs.glb is not None:
            from human3d.io.gltf_motion import write_motion_glb

            write_motion_glb(outputs.glb, motions, fitter.body)
        if outputs.bvh is not None:
            from human3d.io.bvh import write_bvh

            for motion, path in zip(motions, bvh_paths(outputs.bvh, [m.id for m in motions])):
                write_bvh(path, motion, fitter.body)
    return motions
