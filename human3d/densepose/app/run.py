"""Run DensePose over an image, a folder of images or a video: pictures, dumps, a progress bar, a failure list."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
from tqdm import tqdm

from human3d.densepose.app.dump import write_dump
from human3d.densepose.app.visualize import render
from human3d.densepose.predictor import DensePosePredictor
from human3d.densepose.rcnn.image import read_image_bgr
from human3d.densepose.result import DensePoseResult
from human3d.errors import Human3DError
from human3d.io.images import image_files, write_image
from human3d.io.video import VideoReader, is_video_path, video_writer


@dataclass
class RunReport:
    """What a run did: results by frame/file name, and one line per item that failed."""

    results: list[tuple[str, DensePoseResult]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def default_output(source: Path) -> Path:
    """``<stem>_densepose.png`` / ``.mp4`` / folder ``<name>_densepose`` in the current directory."""
    if source.is_dir():
        return Path(f"{source.name}_densepose")
    return Path(f"{source.stem}_densepose{'.mp4' if is_video_path(source) else '.png'}")


def _batches(items: Iterable, size: int) -> Iterator[list]:
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _predict_batch(predictor: DensePosePredictor, names: list[str], images: list[np.ndarray],
                   report: RunReport) -> list[DensePoseResult | None]:
    """One forward for the batch; if it fails, each image alone so one bad frame does not sink the rest."""
    try:
        return list(predictor.predict(images))
    except Exception:
        pass
    results: list[DensePoseResult | None] = []
    for name, image in zip(names, images):
        try:
            results.append(predictor(image))
        except Exception as error:  # report and keep going
            report.failures.append(f"{name}: DensePose failed ({error.__class__.__name__}: {error})")
            results.append(None)
    return results


def picture(image_bgr: np.ndarray, result: DensePoseResult | None, layers: set[str],
            blur_faces: bool = False) -> np.ndarray:
    """The picture of one image (BGR): faces pixelated first if asked, then the result's layers drawn."""
    if blur_faces:
        from human3d.people.pictures import blur_found_faces

        image_bgr = np.ascontiguousarray(blur_found_faces(np.ascontiguousarray(image_bgr[:, :, ::-1]))[:, :, ::-1])
    return image_bgr if result is None else render(image_bgr, result, layers)


def run_images(paths: list[Path], predictor: DensePosePredictor, output_dir: Path | None, layers: set[str],
               batch_size: int = 1, blur_faces: bool = False) -> RunReport:
    """Images (or a folder's images) one batch at a time; unreadable files are reported and skipped."""
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
            for name, image, result in zip(names, images, _predict_batch(predictor, names, images, report)):
                if result is None:
                    continue
                report.results.append((name, result))
                if output_dir is not None:
                    shown = picture(image, result, layers, blur_faces)
                    write_image(output_dir / f"{Path(name).stem}.png", shown[:, :, ::-1])
            bar.update(len(chunk))
    return report


def run_video(path: Path, predictor: DensePosePredictor, output: Path | None, layers: set[str],
              batch_size: int = 1, blur_faces: bool = False) -> RunReport:
    """Every frame of a video; an annotated video and per-frame results (named ``frame_000000``...)."""
    report = RunReport()
    reader = VideoReader(path)

    def process(append) -> None:
        frames = ((f"frame_{i:06d}", frame[:, :, ::-1]) for i, frame in enumerate(reader))
        with tqdm(total=reader.frame_count_hint, unit="frame", desc=path.name) as bar:
            try:
                for batch in _batches(frames, batch_size):
                    names, images = [n for n, _ in batch], [im for _, im in batch]
                    for name, image, result in zip(names, images, _predict_batch(predictor, names, images, report)):
                        if result is not None:
                            report.results.append((name, result))
                        if append is not None:
                            append(np.ascontiguousarray(picture(image, result, layers, blur_faces)[:, :, ::-1]))
                    bar.update(len(batch))
            except Human3DError as error:  # decoding failed part-way: keep what was done, report it
                if not report.results and not report.failures:
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
    """Dispatch on the input kind, then write the dump (if asked) of everything that succeeded."""
    if not source.exists():
        raise Human3DError.for_path(source, "input not found")
    if source.is_dir():
        paths = image_files(source)
        if not paths:
            raise Human3DError.for_path(source, "folder holds no images")
        report = run_images(paths, predictor, output, layers, batch_size, blur_faces)
    elif is_video_path(source):
        report = run_video(source, predictor, output, layers, batch_size, blur_faces)
    else:
        image = read_image_bgr(source)  # a bad single image is an error, not a failure to list
        result = predictor(image)
        if output is not None:
            write_image(output, picture(image, result, layers, blur_faces)[:, :, ::-1])
        report = RunReport([(source.name, result)])
    if dump is not None and report.results:
        write_dump(dump, report.results, named=source.is_dir() or is_video_path(source))
    return report
