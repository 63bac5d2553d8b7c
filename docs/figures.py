"""Draw the README's pictures of the default models (run by hand from the repository root).

    python docs/figures.py reconstruction OUT.png IMAGE [--mask MASK] [--resolution 256]
    python docs/figures.py reconstruction-views OUT.jpg IMAGE [IMAGE ...] [--resolution 256]
    python docs/figures.py normal-maps OUT.jpg IMAGE [IMAGE ...] [--checkpoint PT ...]
    python docs/figures.py densepose OUT.png IMAGE_OR_VIDEO [--frame N]
    python docs/figures.py densepose-before-after OUT.jpg IMAGE [IMAGE ...]
    python docs/figures.py people OUT.jpg IMAGE [IMAGE ...]
    python docs/figures.py body OUT.jpg IMAGE_OR_VIDEO [...] [--frame N]
    python docs/figures.py webapp OUT.jpg IMAGE_OR_VIDEO [--resolution 256]

``reconstruction``: the input, then the reconstructed mesh's normals seen from the front and from the
side (orthographic, the image's crop frame). ``reconstruction-views``: one row per image, run with no
side file (each image is copied alone into an empty folder first): the input crop, then the normals from
the front, the side (turned 90 degrees) and the back; for body-guided weights also the body fitted to the
photo that the network read, seen from the side. ``normal-maps``: per image (no side file) and checkpoint
(default: the default weights), the input crop and the front and back normal maps its normal generators
predict, over the person's mask. ``densepose``: the light default model's parts, U,V
contours and boxes drawn over the image (or frame ``N`` of a video), on the people the people finder
finds, as ``human3d densepose`` runs it. ``densepose-before-after``: per image, the light network finding
the people itself (``--no-people-finder``, the default before 2026-12-05), the same network on the people
finder's people, and the default (the people model on them), with the people finder's keypoints as white
dots. ``people``: the people finder's
boxes, skeletons and masks over each image, tiled three to a row. ``body``: per image (or frame ``N`` of
a video), the fitted anny bodies over it, then the most fully seen person's body turned 0, 90, 180 and 270 degrees
about its vertical axis (a turntable). A reconstruction of an image with no
mask and no side file crops the person the people finder finds, as ``human3d reconstruct`` does.
``webapp``: the page of ``human3d serve`` (started on a free port, driven by Debian's headless Chromium
through Playwright) after the image or video was dropped on it and its job finished.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import trimesh

from human3d.io.images import write_image


def _normal_views(mesh: trimesh.Trimesh, size: int, degrees: tuple[float, ...] = (0, 90)) -> list[np.ndarray]:
    from human3d.eval.mesh_metrics import normal_images

    views = normal_images(mesh, size=size, half_extent=1.0, views=degrees)
    shaded = [np.clip(view * 0.5 + 0.5, 0.0, 1.0) for view in views]
    whitened = [np.where((view == view[0, 0]).all(-1, keepdims=True), 1.0, view) for view in shaded]
    return [(view * 255).astype(np.uint8) for view in whitened]


def _input_crop(prepared, size: int) -> np.ndarray:
    """The prepared image's person crop (white past the image's edges), ``size`` pixels square."""
    x, y, w, h = prepared.rect.xywh
    padded = np.pad(prepared.rgb, ((h, h), (w, w), (0, 0)), constant_values=255)
    return cv2.resize(padded[y + h : y + 2 * h, x + w : x + 2 * w], (size, size), interpolation=cv2.INTER_AREA)


def reconstruction_figure(image: Path, mask: Path | None, resolution: int, size: int = 512,
                          degrees: tuple[float, ...] = (0, 90)) -> np.ndarray:
    """Input crop | the default PIFuHD weights' mesh's normals seen from ``degrees`` (front, side); for
    body-guided weights then the fitted body they read, seen from the side (blank where the fit was refused)."""
    from human3d.people.finder import find_people
    from human3d.pifuhd.body_band import chosen_depth_margin
    from human3d.pifuhd.model import load_pifuhd
    from human3d.pifuhd.photo_body import photo_body_guide
    from human3d.pifuhd.pipeline import prepare_image, reconstruct
    from human3d.pifuhd.predictor import PifuhdPredictor
    from human3d.weights.resolve import resolve_weights

    prepared = prepare_image(image, mask=mask, find_people=find_people)
    predictor = PifuhdPredictor(load_pifuhd(resolve_weights("pifuhd")))
    body = None
    if predictor.model.options.coarse.body_guided:
        body = photo_body_guide(prepared.rgb, prepared.rect, prepared.person)
    result = reconstruct(predictor, prepared, resolution, keep_largest=True, body=body,
                         depth_margin=chosen_depth_margin("auto", predictor.model.run_name))
    crop = _input_crop(prepared, size)
    mesh = trimesh.Trimesh(result.vertices, result.faces, process=False)
    body_view = []
    if body is not None and body.present:
        body_view = _normal_views(trimesh.Trimesh(body.vertices, body.faces, process=False), size, (90,))
    elif body is not None:  # a refused fit (no body read): a blank panel
        body_view = [np.full((size, size, 3), 255, np.uint8)]
    return np.concatenate([crop[..., :3]] + _normal_views(mesh, size, degrees) + body_view, axis=1)


@contextlib.contextmanager
def _alone(source: Path) -> Iterator[Path]:
    """A copy of ``source`` alone in an empty temporary folder (so that no side file is read), while in use."""
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / source.name
        shutil.copyfile(source, copy)
        yield copy


def reconstruction_views(sources: list[Path], resolution: int, size: int = 384) -> np.ndarray:
    """Per image, with no side file: input crop | front | side | back normals of the default weights' mesh."""
    rows = []
    for source in sources:
        with _alone(source) as copy:
            rows.append(reconstruction_figure(copy, None, resolution, size, degrees=(0, 90, 180)))
    return np.concatenate(rows, axis=0)


def normal_maps_figure(sources: list[Path], checkpoints: list[Path] | None, size: int = 320) -> np.ndarray:
    """Per image (copied alone: no side file) and checkpoint: input crop | predicted front | back normal map."""
    from human3d.people.finder import find_people
    from human3d.pifuhd import preprocess
    from human3d.pifuhd.model import load_pifuhd
    from human3d.pifuhd.photo_body import mask_in_crop
    from human3d.pifuhd.pipeline import prepare_image
    from human3d.pifuhd.predictor import PifuhdPredictor
    from human3d.weights.resolve import resolve_weights

    predictors = [PifuhdPredictor(load_pifuhd(resolve_weights("pifuhd", path))) for path in checkpoints or [None]]
    rows = []
    for source in sources:
        with _alone(source) as copy:
            prepared = prepare_image(copy, find_people=find_people)
        person = mask_in_crop(prepared.mask > 0.5, prepared.rect, size)[..., None]
        for predictor in predictors:
            options = predictor.model.options
            inputs = preprocess.network_inputs(prepared.rgb, prepared.rect, options.fine.load_size_big,
                                               options.coarse.load_size)
            predictor.encode(inputs.image_512, inputs.image_1024)
            maps = [cv2.resize(np.clip(m.transpose(1, 2, 0) * 0.5 + 0.5, 0, 1), (size, size)) for m in
                    predictor.normal_maps()]
            maps = [np.where(person, (m * 255).astype(np.uint8), 255) for m in maps]
            rows.append(np.concatenate([_input_crop(prepared, size)[..., :3]] + maps, axis=1))
    return np.concatenate(rows, axis=0)


def densepose_figure(source: Path, frame: int) -> np.ndarray:
    """The light default model's picture (parts, contours, boxes) over an image or a video frame (RGB), on
    the people finder's people."""
    from human3d.densepose.app.visualize import render
    from human3d.densepose.predictor import build_densepose, light_weights, predictor_for
    from human3d.densepose.rcnn.image import read_image_bgr
    from human3d.io.video import VideoReader, is_video_path
    from human3d.people.finder import build_people_finder

    if is_video_path(source):
        image_bgr = next(f for i, f in enumerate(VideoReader(source)) if i == frame)[..., ::-1].copy()
    else:
        image_bgr = read_image_bgr(source)
    predictor = predictor_for(build_densepose(light_weights(people_finder=True)), finder=build_people_finder())
    return render(image_bgr, predictor(image_bgr))[..., ::-1]


def densepose_before_after(sources: list[Path], width: int = 400) -> np.ndarray:
    """Per image (one row): the light network on the people it finds itself, the same network on the people
    finder's people, and the people model (the default) on them (parts and boxes), the finder's keypoints as
    white dots; each picture ``width`` wide."""
    from human3d.densepose.app.visualize import render
    from human3d.densepose.predictor import build_densepose, light_weights, predictor_for
    from human3d.densepose.rcnn.image import read_image_bgr
    from human3d.eval.densepose_keypoints import MIN_KEYPOINT_SCORE
    from human3d.people.finder import build_people_finder

    alone_model, finder = build_densepose(light_weights(people_finder=False)), build_people_finder()
    alone, alone_on_people = predictor_for(alone_model), predictor_for(alone_model, finder=finder)
    people_model = predictor_for(build_densepose(light_weights(people_finder=True)), finder=finder)
    rows = []
    for source in sources:
        image = read_image_bgr(source)
        people = finder.find(image[..., ::-1].copy())
        pictures = [render(image, alone(image), ("parts", "boxes")),
                    render(image, alone_on_people.predict_people([image], [people])[0], ("parts", "boxes")),
                    render(image, people_model.predict_people([image], [people])[0], ("parts", "boxes"))]
        scale = width / image.shape[1]
        for picture in pictures:
            for person in people:
                for x, y, score in person.keypoints_coco17:
                    if score >= MIN_KEYPOINT_SCORE:
                        cv2.circle(picture, (round(x), round(y)), max(2, round(2 / scale)), (255, 255, 255), -1)
        size = (width, round(image.shape[0] * scale))
        rows.append(np.concatenate([cv2.resize(p, size, interpolation=cv2.INTER_AREA) for p in pictures], axis=1))
    width_all = rows[0].shape[1]
    rows = [row if row.shape[1] == width_all else cv2.resize(row, (width_all, row.shape[0])) for row in rows]
    return np.concatenate(rows, axis=0)[..., ::-1]


def people_figure(sources: list[Path], width: int = 600) -> np.ndarray:
    """The people finder's picture of each image, resized to ``width`` by the first image's aspect, 3 a row."""
    from human3d.io.images import read_image
    from human3d.people.finder import find_people
    from human3d.people.pictures import render

    tiles = []
    for source in sources:
        image = read_image(source)[..., :3]
        tiles.append(render(image, find_people(image)))
    height = round(width * tiles[0].shape[0] / tiles[0].shape[1])
    tiles = [cv2.resize(tile, (width, height), interpolation=cv2.INTER_AREA) for tile in tiles]
    tiles += [np.full_like(tiles[0], 255)] * (-len(tiles) % 3)
    return np.concatenate([np.concatenate(tiles[i:i + 3], axis=1) for i in range(0, len(tiles), 3)], axis=0)


def turntable(fit, faces: np.ndarray, size: int) -> list[np.ndarray]:
    """A fitted body seen from four sides on white (0, 90, 180, 270 degrees about its own vertical axis)."""
    import dataclasses

    from human3d.fit.camera import Intrinsics
    from human3d.fit.pictures import draw_bodies

    centred = fit.vertices - fit.vertices.mean(axis=0)
    up = fit.rotation @ np.array([0.0, 1.0, 0.0])  # the body's up axis, in the camera frame
    views = []
    for degrees in (0, 90, 180, 270):
        angle = np.radians(degrees)  # Rodrigues' formula about the body's up axis
        k = np.array([[0, -up[2], up[1]], [up[2], 0, -up[0]], [-up[1], up[0], 0]])
        turn = np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * (k @ k)
        vertices = centred @ turn.T
        distance = np.ptp(vertices[:, 1]) / 0.85  # the body spans 85 % of the view's height
        shown = dataclasses.replace(fit, vertices=vertices + np.array([0.0, 0.0, distance]),
                                    intrinsics=Intrinsics(size, size / 2, size / 2))
        views.append(draw_bodies(np.full((size, size, 3), 255, np.uint8), [shown], faces, [0]))
    return views


def body_figure(sources: list[Path], frame: int, size: int = 360) -> np.ndarray:
    """Per source: the fitted bodies over the image (or video frame), then a turntable of the most fully seen
    person (the most body keypoints seen, then the largest); fitted as ``human3d body`` fits (DensePose's
    points included)."""
    from human3d.densepose.predictor import densepose_predictor
    from human3d.fit.body_fit import default_fitter
    from human3d.fit.pictures import draw_bodies
    from human3d.fit.run import fit_image
    from human3d.io.images import read_image
    from human3d.io.video import VideoReader, is_video_path
    from human3d.people.finder import build_people_finder

    finder, fitter = build_people_finder(), default_fitter()
    densepose, faces = densepose_predictor(finder=finder), fitter.body.topology.faces
    rows = []
    for source in sources:
        if is_video_path(source):
            image = next(f for i, f in enumerate(VideoReader(source)) if i == frame)
        else:
            image = read_image(source)[..., :3]
        people, fits = fit_image(image, finder, fitter, densepose)
        shown = draw_bodies(image, fits, faces, [p.id for p in people])
        shown = cv2.resize(shown, (round(size * image.shape[1] / image.shape[0]), size), interpolation=cv2.INTER_AREA)
        seen = [int((p.keypoints_coco17[5:, 2] >= 0.5).sum()) for p in people]
        best = max(range(len(people)), key=lambda i: (seen[i], people[i].area))  # the most fully seen person
        rows.append(np.concatenate([shown] + turntable(fits[best], faces, size), axis=1))
    width = max(row.shape[1] for row in rows)
    return np.concatenate([np.pad(row, ((0, 0), (0, width - row.shape[1]), (0, 0)), constant_values=255)
                           for row in rows], axis=0)


def webapp_figure(source: Path, resolution: int) -> np.ndarray:
    """A screenshot of the web page with ``source``'s results (photo tab, or video tab for a video)."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    from playwright.sync_api import sync_playwright

    from human3d.io.video import is_video_path

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "human3d", "serve", "--port", str(port),
                               "--resolution", str(resolution)])
    tab = "video" if is_video_path(source) else "photo"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=[
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                "--disable-background-networking", "--disable-component-update"])
            page = browser.new_page(viewport={"width": 1280, "height": 1500})
            page.goto(f"http://127.0.0.1:{port}/")
            page.get_by_role("tab", name=tab.title()).click()
            page.set_input_files(f"#{tab}-input input[type=file]", str(source))
            done = "animated" if tab == "video" else "fitted"
            page.wait_for_function("([id, text]) => (document.querySelector(id)?.innerText || '').includes(text)",
                                   arg=[f"#{tab}-status", done], timeout=600_000)
            time.sleep(3)  # the 3D viewers draw
            shot = page.screenshot(full_page=True)
            browser.close()
    finally:
        server.terminate()
        server.wait(60)
    return cv2.imdecode(np.frombuffer(shot, np.uint8), cv2.IMREAD_COLOR)[:, :, ::-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", choices=("reconstruction", "reconstruction-views", "normal-maps", "densepose",
                                         "densepose-before-after", "people", "body", "webapp"))
    parser.add_argument("out", type=Path)
    parser.add_argument("source", type=Path, nargs="+")
    parser.add_argument("--mask", type=Path)
    parser.add_argument("--resolution", type=int, default=256)
    parser.add_argument("--frame", type=int, default=0)
    parser.add_argument("--checkpoint", type=Path, action="append", help="normal-maps: a PIFuHD checkpoint (repeat)")
    args = parser.parse_args()
    if args.kind == "people":
        picture = people_figure(args.source)
    elif args.kind == "body":
        picture = body_figure(args.source, args.frame)
    elif args.kind == "webapp":
        picture = webapp_figure(args.source[0], args.resolution)
    elif args.kind == "densepose-before-after":
        picture = densepose_before_after(args.source)
    elif args.kind == "reconstruction":
        picture = reconstruction_figure(args.source[0], args.mask, args.resolution)
    elif args.kind == "reconstruction-views":
        picture = reconstruction_views(args.source, args.resolution)
    elif args.kind == "normal-maps":
        picture = normal_maps_figure(args.source, args.checkpoint)
    else:
        picture = densepose_figure(args.source[0], args.frame)
    write_image(args.out, picture)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
