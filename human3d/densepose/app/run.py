"""Run DensePose over an image, a folder of images or a video: pictures, dumps, a progress bar, a failure list.

Each result is drawn and written to the dump as soon as it comes (:class:`human3d.densepose.app.dump.DumpWriter`)
and then let go: memory stays flat however long the video or large the folder.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

import numpy as np
from tqdm import tqdm

from human3d.densepose.app.dump import DumpWriter
from human3d.densepose.app.visualize import render
from human3d.densepose.light.person_crops import PersonCropPredictor
from human3d.densepose.predictor import DensePosePredictor
from human3d.densepose.rcnn.image import read_image_bgr
from human3d.densepose.result import DensePoseResult
from human3d.errors import Human3DError
from human3d.io.images import image_files, write_image
from human3d.io.read_ahead import read_ahead
from human3d.io.video import VideoReader, is_video_path, video_writer
from human3d.nn.threads import torch_threads

if TYPE_CHECKING:
    from human3d.people.finder import PeopleFinder, Person
    from human3d.people.following import PeopleFollower


FIND_AHEAD = 8  # video frames whose people may be found before this frame's DensePose is done
NETWORK_THREADS = 1  # torch threads of the network while the people finder runs beside it
SUMMARISED = 20  # the report keeps the people's scores of this many items (the command lists them when no more)


@dataclass
class RunReport:
    """What a run did: how many items were processed, the scores of the people of the first
    :data:`SUMMARISED` (by frame/file name), and one line per item that failed."""

    processed: int = 0
    scores: list[tuple[str, np.ndarray]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def add(self, name: str, result: DensePoseResult, dump: DumpWriter | None) -> None:
        """Count one item's result and write it to the dump, if any."""
        self.processed += 1
        if len(self.scores) < SUMMARISED:
            self.scores.append((name, result.scores.copy()))
        if dump is not None:
            dump.add(name, result)


def default_output(source: Path) -> Path:
    """``<stem>_densepose.png`` / ``.mp4`` / folder ``<name>_densepose`` in the current directory."""
    if source.is_dir():
        return Path(f"{source.name}_densepose")
    return Path(f"{source.stem}_densepose{'.mp4' if is_video_path(source) else '.png'}")


def people_source(source: Path, min_score: float | None = None, small_people: bool = True
                  ) -> PeopleFinder | PeopleFollower:
    """Who DensePose is run on: the people finder (``min_score`` None: its default), following people from
    frame to frame when ``source`` is a video (a whole search every few frames, the landmark model alone
    in between)."""
    from human3d.people.finder import build_people_finder
    from human3d.people.following import PeopleFollower

    finder = build_people_finder(min_score, small_people=small_people)
    return PeopleFollower(finder) if is_video_path(source) else finder


def _batches(items: Iterable, size: int) -> Iterator[list]:
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _predict_batch(predict: Callable[[list[int]], list[DensePoseResult]], names: list[str],
                   report: RunReport) -> list[DensePoseResult | None]:
    """``predict(rows)`` (the results of those items of the batch) once for the whole batch; if that fails,
    each item alone, so one bad frame does not sink the rest."""
    try:
        return list(predict(list(range(len(names)))))
    except Exception:
        pass
    results: list[DensePoseResult | None] = []
    for row, name in enumerate(names):
        try:
            results.append(predict([row])[0])
        except Exception as error:  # report and keep going
            report.failures.append(f"{name}: DensePose failed ({error.__class__.__name__}: {error})")
            results.append(None)
    return results


def _frame_results(predictor: DensePosePredictor, frames: Iterable[tuple[str, np.ndarray]], batch_size: int,
                   report: RunReport) -> Iterator[tuple[str, np.ndarray, DensePoseResult | None]]:
    """Each named frame (BGR) with its result (None where it failed). A :class:`PersonCropPredictor`'s people
    are found in a background thread, up to :data:`FIND_AHEAD` frames ahead (the people finder waits outside
    Python's lock, so it overlaps with the network, the pictures and the video encoding), while the network
    keeps to :data:`NETWORK_THREADS` torch thread."""
    if not isinstance(predictor, PersonCropPredictor):
        for batch in _batches(frames, batch_size):
            names, images = [n for n, _ in batch], [im for _, im in batch]
            results = _predict_batch(lambda rows: predictor.predict([images[i] for i in rows]), names, report)
            yield from zip(names, images, results)
        return

    def found(name: str, image: np.ndarray) -> tuple[str, np.ndarray, list[Person] | Exception]:
        try:
            return name, image, predictor.find(image)
        except Exception as error:  # reported where the frame comes, the others go on
            return name, image, error

    with contextlib.closing(read_ahead((found(name, image) for name, image in frames), FIND_AHEAD)) as stream, \
            torch_threads(NETWORK_THREADS):
        for batch in _batches(stream, batch_size):
            for name, _, people in batch:
                if isinstance(people, Exception):
                    report.failures.append(f"{name}: the people finder failed ({people.__class__.__name__}: {people})")
            ok = [entry for entry in batch if not isinstance(entry[2], Exception)]
            names, images, people = [n for n, _, _ in ok], [im for _, im, _ in ok], [p for _, _, p in ok]
            results = iter(_predict_batch(lambda rows: predictor.predict_people([images[i] for i in rows],
                                                                                [people[i] for i in rows]),
                                          names, report))
            for name, image, entry in batch:
                yield name, image, None if isinstance(entry, Exception) else next(results)


def picture(image_bgr: np.ndarray, result: DensePoseResult | None, layers: set[str],
            blur_faces: bool = False) -> np.ndarray:
    """The picture of one image (BGR): faces pixelated first if asked, then the result's layers drawn."""
    if blur_faces:
        from human3d.people.pictures import blur_found_faces

        image_bgr = np.ascontiguousarray(blur_found_faces(np.ascontiguousarray(image_bgr[:, :, ::-1]))[:, :, ::-1])
    return image_bgr if result is None else render(image_bgr, result, layers)


def run_images(paths: list[Path], predictor: DensePosePredictor, output_dir: Path | None, layers: set[str],
               batch_size: int = 1, blur_faces: bool = False, dump: DumpWriter | None = None) -> RunReport:
    """Images (or a folder's images) one batch at a time, each result written to ``dump`` if given;
    unreadable files are reported and skipped."""
    report = RunReport()
    with tqdm(total=len(paths), unit="image", disable=len(paths) < 2) as bar:
        for chunk in _batches(paths, batch_size):
            names, images = [], []
            for path in chunk:
                try:
                    images.append(read_image_bgr(path))
                    names.append(path.name)
                except Human3DError as error:
                    report.failures.append(str(error))
            results = _predict_batch(lambda rows: predictor.predict([images[i] for i in rows]), names, report)
            for name, image, result in zip(names, images, results):
                if result is None:
                    continue
                report.add(name, result, dump)
                if output_dir is not None:
                    shown = picture(image, result, layers, blur_faces)
                    write_image(output_dir / f"{Path(name).stem}.png", shown[:, :, ::-1])
            bar.update(len(chunk))
    return report


def run_video(path: Path, predictor: DensePosePredictor, output: Path | None, layers: set[str],
              batch_size: int = 1, blur_faces: bool = False, dump: DumpWriter | None = None) -> RunReport:
    """Every frame of a video; an annotated video, and per-frame results (named ``frame_000000``...) written
    to ``dump`` if given."""
    report = RunReport()
    reader = VideoReader(path)

    def process(append) -> None:
        frames = ((f"frame_{i:06d}", frame[:, :, ::-1]) for i, frame in enumerate(reader))
        with tqdm(total=reader.frame_count_hint, unit="frame", desc=path.name) as bar:
            try:
                for name, image, result in _frame_results(predictor, frames, batch_size, report):
                    if result is not None:
                        report.add(name, result, dump)
                    if append is not None:
                        append(np.ascontiguousarray(picture(image, result, layers, blur_faces)[:, :, ::-1]))
                    bar.update(1)
            except Human3DError as error:  # decoding failed part-way: keep what was done, report it
                if not report.processed and not report.failures:
                    raise
                report.failures.append(str(error))

    if output is None:
        process(None)
    else:
        with video_writer(output, reader.fps) as append:
            process(append)
    return report


def run(source: Path, predictor: DensePosePredictor, output: Path | None, dump: Path | None,
        layers: set[str], batch_size: int = 1, blur_faces: bool = False) -> RunReport:
    """Dispatch on the input kind; the dump (if asked) holds everything that succeeded."""
    if not source.exists():
        raise Human3DError.for_path(source, "input not found")
    named = source.is_dir() or is_video_path(source)
    with DumpWriter(dump, named) if dump is not None else contextlib.nullcontext() as writer:
        if source.is_dir():
            paths = image_files(source)
            if not paths:
                raise Human3DError.for_path(source, "folder holds no images")
            return run_images(paths, predictor, output, layers, batch_size, blur_faces, writer)
        if is_video_path(source):
            return run_video(source, predictor, output, layers, batch_size, blur_faces, writer)
        image = read_image_bgr(source)  # a bad single image is an error, not a failure to list
        result = predictor(image)
        if output is not None:
            write_image(output, picture(image, result, layers, blur_faces)[:, :, ::-1])
        report = RunReport()
        report.add(source.name, result, writer)
        return report
