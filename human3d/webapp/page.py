"""The page (Gradio Blocks): a Photo tab and a Video tab, a face-blurring switch, results as they come.

A job runs when a file is dropped (or with the Run button, to run it again after changing the switch).
Each job gets its own folder under ``folder``; a bad upload shows one line in the tab's status and the
server keeps serving. Jobs of different pages run side by side, each model used by one job at a time.
"""

from __future__ import annotations

import os
import tempfile
import traceback
from pathlib import Path
from typing import Any, Callable, Iterator

import gradio as gr

from human3d.errors import Human3DError
from human3d.webapp.jobs import photo_job, video_job
from human3d.webapp.models import Models
from human3d.webapp.uploads import UploadLimits

JOBS_AT_ONCE = 8  # jobs admitted at a time per tab; past the models' locks they wait their turn
QUEUE_SIZE = 32  # jobs waiting beyond those before the page says the server is busy

VIEWER_BACKGROUND = (0.72, 0.75, 0.8, 1.0)  # grey-blue: pale skin and white clothes stand out

INTRO = """# human3d
Drop a photo or a short video of people. Everything runs on this computer: nothing you drop here is sent
anywhere else, and the results are deleted when the server stops."""


def failure_line(error: Human3DError, upload: Path) -> str:
    """The error's one line, with the upload's temporary folder left out (the user knows it by its name)."""
    return "**Could not use it:** " + str(error).replace(f"{upload.parent}{os.sep}", "")


def job_runner(job: Callable[..., Iterator[Any]], outputs: Callable[[Any], list], blank: int, models: Models,
               limits: UploadLimits, folder: Path) -> Callable[..., Iterator[list]]:
    """A Gradio handler running ``job`` on an upload: yields the status line first, then ``outputs(result)``
    of every result; a :class:`Human3DError` (or an unexpected exception, its traceback printed) becomes one
    status line and ``blank`` emptied outputs."""

    def run(upload: str | None, blur_faces: bool, progress: gr.Progress = gr.Progress(track_tqdm=True)
            ) -> Iterator[list]:
        if upload is None:
            yield ["Drop a file first."] + [None] * blank
            return
        path = Path(upload)
        sent = [f"Working on {path.name}..."] + [None] * blank
        yield sent
        folder.mkdir(parents=True, exist_ok=True)
        job_folder = Path(tempfile.mkdtemp(prefix="job-", dir=folder))
        try:
            for result in job(models, path, job_folder, limits, blur_faces,
                              lambda fraction, text: progress(fraction, desc=text)):
                values = outputs(result)
                yield only_changed(values, sent)
                sent = values
        except Human3DError as error:
            yield [failure_line(error, path)] + [None] * blank
            return
        except Exception as error:  # noqa: BLE001 - a bug: one line on the page, the traceback in the terminal
            traceback.print_exc()
            yield [f"**Something went wrong** with {path.name} ({type(error).__name__}: {error}); the details are "
                   "in the terminal that runs human3d serve"] + [None] * blank
            return
        # Gradio repeats the last update when the job ends, and a 3D viewer given its file twice in a row can
        # drop it while still loading it: end on an update that changes nothing
        yield [gr.skip()] * len(sent)

    return run


def only_changed(values: list, sent: list) -> list:
    """``values``, with ``gr.skip()`` (leave as it is) for each one the page already shows."""
    return [gr.skip() if value == before else value for value, before in zip(values, sent)]


def photo_outputs(result: Any) -> list:
    """The photo tab's outputs of a :class:`~human3d.webapp.jobs.PhotoResult`."""
    files = [str(path) for path in result.downloads] or None
    return [result.status, result.mesh, files, result.densepose, result.bodies_picture, result.bodies_mesh]


def video_outputs(result: Any) -> list:
    """The video tab's outputs of a :class:`~human3d.webapp.jobs.VideoResult`."""
    files = [str(path) for path in result.downloads] or None
    return [result.status, result.annotated, result.motion, files]


def upload_row(kind: str, label: str, file_types: list[str]) -> tuple[gr.File, gr.Button, gr.Markdown]:
    """A tab's file box, its Run-again button and its status line (``#<kind>-input``, ``-run``, ``-status``)."""
    box = gr.File(label=label, file_types=file_types, elem_id=f"{kind}-input")
    return box, gr.Button("Run again", elem_id=f"{kind}-run"), gr.Markdown(elem_id=f"{kind}-status")


def viewer(label: str, elem_id: str) -> gr.Model3D:
    """A 3D viewer (turn by dragging, zoom with the wheel) on the grey-blue background."""
    return gr.Model3D(label=label, elem_id=elem_id, clear_color=VIEWER_BACKGROUND, height=520)


def build_page(models: Models, limits: UploadLimits, folder: Path) -> gr.Blocks:
    """The page; job folders go under ``folder``."""
    with gr.Blocks(title="human3d", analytics_enabled=False) as page:
        gr.Markdown(INTRO)
        blur = gr.Checkbox(label="Blur faces in every result", value=False, elem_id="blur-faces")
        with gr.Tab("Photo", elem_id="photo-tab"):
            photo, photo_run, photo_status = upload_row(
                "photo", f"Photo (up to {limits.megapixels:g} megapixels)", ["image"])
            with gr.Row():
                mesh = viewer("3D person: drag to turn, scroll to zoom", "photo-mesh")
                bodies_mesh = viewer("Fitted body model (anny)", "photo-bodies-mesh")
            with gr.Row():
                densepose = gr.Image(label="DensePose: body parts", elem_id="photo-densepose", interactive=False)
                bodies_picture = gr.Image(label="Fitted bodies over the photo", elem_id="photo-bodies",
                                          interactive=False)
            photo_files = gr.File(label="Download", file_count="multiple", elem_id="photo-downloads",
                                  interactive=False)
        with gr.Tab("Video", elem_id="video-tab"):
            video, video_run, video_status = upload_row("video", f"Video (up to {limits.video_seconds:g} s)",
                                                        ["video"])
            with gr.Row():
                annotated = gr.Video(label="DensePose on every frame", elem_id="video-densepose",
                                     interactive=False)
                motion = viewer("Animated bodies: drag to turn, scroll to zoom", "video-motion")
            video_files = gr.File(label="Download", file_count="multiple", elem_id="video-downloads",
                                  interactive=False)

        run_photo = job_runner(photo_job, photo_outputs, 5, models, limits, folder)
        photo_targets = [photo_status, mesh, photo_files, densepose, bodies_picture, bodies_mesh]
        run_video = job_runner(video_job, video_outputs, 3, models, limits, folder)
        video_targets = [video_status, annotated, motion, video_files]
        for trigger in (photo.upload, photo_run.click):
            trigger(run_photo, [photo, blur], photo_targets, concurrency_limit=JOBS_AT_ONCE,
                    concurrency_id="photo", api_visibility="private")
        for trigger in (video.upload, video_run.click):
            trigger(run_video, [video, blur], video_targets, concurrency_limit=JOBS_AT_ONCE,
                    concurrency_id="video", api_visibility="private")
    page.queue(max_size=QUEUE_SIZE)
    return page
