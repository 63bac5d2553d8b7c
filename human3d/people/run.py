"""Run the people finder over an image, a folder of images or a video: pictures, masks and a JSON file.

Everything is written as it goes (one image or frame at a time) and atomically: a video's JSON and
annotated video are streamed to temporary files that appear under their names only at the end, so
memory stays flat in the video's length and a failed run leaves nothing half-written.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, TextIO

import numpy as np
from tqdm import tqdm

from human3d.errors import Human3DError
from human3d.formats.densepose_coco import rle_encode
from human3d.io.atomic import atomic_path
from human3d.io.images import image_files, read_image, write_image
from human3d.io.video import VideoReader, is_video_path, video_writer
from human3d.people.finder import PeopleFinder, Person
from human3d.people.following import PeopleFollower
from human3d.people.pictures import render
from human3d.people.tracking import PeopleTracker


@dataclass
class PeopleRun:
    """What a run did: people per image or frame, and one line per input that failed."""

    counts: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Outputs:
    """Where and what to write: pictures (``picture``), masks (``masks``), JSON (``json``), picture layers."""

    picture: Path | None = None
    masks: Path | None = None
    json: Path | None = None
    layers: frozenset[str] = frozenset({"boxes", "keypoints", "masks"})
    blur_faces: bool = False


def person_record(person: Person) -> dict:
    """One person as the JSON file holds it (input pixels; ``mask_rle`` is COCO compressed RLE)."""
    return {
        "id": int(person.id),
        "box_xyxy": [round(float(v), 2) for v in person.box_xyxy],
        "score": round(float(person.score), 4),
        "face_box_xyxy": [round(float(v), 2) for v in person.face_box_xyxy],
        "keypoints_coco17": [[round(float(x), 2), round(float(y), 2), round(float(s), 4)]
                             for x, y, s in person.keypoints_coco17],
        "landmarks33": [[round(float(x), 2), round(float(y), 2), round(float(z), 2), round(float(v), 4)]
                        for x, y, z, v in person.landmarks],
        "mask_rle": rle_encode(person.mask),
    }


def image_record(name: str, image: np.ndarray, people: list[Person], frame: int | None = None) -> dict:
    """One image's (or frame's) entry of the JSON list."""
    record: dict = {"image": name, "width": int(image.shape[1]), "height": int(image.shape[0])}
    if frame is not None:
        record["frame"] = frame
    record["people"] = [person_record(person) for person in people]
    return record


@contextlib.contextmanager
def json_list_writer(path: Path | None) -> Iterator[Callable[[dict], None]]:
    """``append(record)`` writing a JSON list one entry at a time; the file appears when the block succeeds."""
    if path is None:
        yield lambda record: None
        return
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as stream:
        first = [True]

        def append(record: dict) -> None:
            write_entry(stream, record, first[0])
            first[0] = False

        stream.write("[")
        yield append
        stream.write("\n]\n")


def write_entry(stream: TextIO, record: dict, first: bool) -> None:
    """One list entry on its own line."""
    stream.write(("\n" if first else ",\n") + json.dumps(record, separators=(",", ":")))


def write_masks(folder: Path, stem: str, people: list[Person]) -> None:
    """``<stem>_person<id>.png`` per person: 255 on the person, 0 elsewhere."""
    folder.mkdir(parents=True, exist_ok=True)
    for person in people:
        mask = np.repeat((person.mask.astype(np.uint8) * 255)[..., None], 3, axis=2)
        write_image(folder / f"{stem}_person{person.id}.png", mask)


def number_people(people: list[Person]) -> list[Person]:
    """Ids of a still image: the people's order (largest box first)."""
    for index, person in enumerate(people):
        person.id = index
    return people


def run_images(paths: list[Path], names: list[str], finder: PeopleFinder, outputs: Outputs,
               picture_for: Callable[[Path], Path | None], keep_going: bool = True) -> PeopleRun:
    """Find people in each image; a failing image is reported and the rest go on (``keep_going``), or its
    error is raised, before the JSON file is in place."""
    report = PeopleRun()
    with json_list_writer(outputs.json) as append:
        for path, name in zip(tqdm(paths, unit="image", disable=len(paths) < 2), names):
            try:
                image = read_image(path)[..., :3]
                people = number_people(finder.find(image))
                picture = picture_for(path)
                if picture is not None:
                    write_image(picture, render(image, people, outputs.layers, outputs.blur_faces))
                if outputs.masks is not None:
                    write_masks(outputs.masks, path.stem, people)
            except Human3DError as error:
                if not keep_going:
                    raise
                report.failures.append(str(error))
                continue
            append(image_record(name, image, people))
            report.counts[name] = len(people)
    return report


def run_video(path: Path, finder: PeopleFinder, outputs: Outputs) -> PeopleRun:
    """Find and track people frame by frame; the JSON and the annotated video are streamed to disk."""
    report = PeopleRun()
    reader = VideoReader(path)
    follower, tracker = PeopleFollower(finder), PeopleTracker(memory=max(1, int(round(reader.fps))))
    writer = video_writer(outputs.picture, reader.fps) if outputs.picture is not None else contextlib.nullcontext()
    with json_list_writer(outputs.json) as append, writer as write_frame:
        for index, frame in enumerate(tqdm(reader, total=reader.frame_count_hint, unit="frame")):
            people = tracker.update(follower.find(frame), frame)
            if write_frame is not None:
                write_frame(render(frame, people, outputs.layers, outputs.blur_faces))
            if outputs.masks is not None:
                write_masks(outputs.masks, f"frame_{index:06d}", people)
            name = f"frame_{index:06d}"
            append(image_record(name, frame, people, frame=index))
            report.counts[name] = len(people)
    return report


def default_picture(source: Path) -> Path:
    """``<stem>_people.png`` (an image), ``<stem>_people.mp4`` (a video) or ``<folder>_people/`` beside the input."""
    if source.is_dir():
        return source.parent / f"{source.name}_people"
    return source.with_name(f"{source.stem}_people{'.mp4' if is_video_path(source) else '.png'}")


def run(source: Path, finder: PeopleFinder, outputs: Outputs) -> PeopleRun:
    """Dispatch on the input: a folder of images, a video, or one image."""
    if source.is_dir():
        paths = image_files(source)
        if not paths:
            raise Human3DError.for_path(source, "no images in this folder")
        folder = outputs.picture
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
        return run_images(paths, [p.name for p in paths], finder, outputs,
                          lambda p: None if folder is None else folder / f"{p.stem}_people.png")
    if is_video_path(source):
        return run_video(source, finder, outputs)
    return run_images([source], [source.name], finder, outputs, lambda p: outputs.picture, keep_going=False)
