"""A photo or a video through the models, writing its results into a job folder as they come.

Each job is a generator: it yields what is ready so far (the 3D person first, then the pictures), so that
the page shows results while the rest is computed. A bad upload or a photo with nobody in it raises a
one-line :class:`~human3d.errors.Human3DError` naming the uploaded file.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from human3d.errors import Human3DError
from human3d.webapp.models import Models, Progress
from human3d.webapp.uploads import UploadLimits, check_photo, check_video


@dataclass(frozen=True)
class PhotoResult:
    """What a photo job has made so far: the reconstructed person (GLB for the viewer; GLB and OBJ to
    download), the DensePose picture, the fitted bodies (picture, GLB centred with y up, JSON), and a status line."""

    status: str
    mesh: Path | None = None
    downloads: tuple[Path, ...] = ()
    densepose: Path | None = None
    bodies_picture: Path | None = None
    bodies_mesh: Path | None = None


@dataclass(frozen=True)
class VideoResult:
    """What a video job has made so far: the DensePose video, the animated bodies (GLB, everyone in one
    animation, for the viewer), the files to download (GLB with one animation per person, BVH per person,
    JSON), and a status line."""

    status: str
    annotated: Path | None = None
    motion: Path | None = None
    downloads: tuple[Path, ...] = ()


def file_stem(path: Path) -> str:
    """The upload's name without its extension, reduced to letters, digits, ``-`` and ``_`` (for output names)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", path.stem).strip("_") or "upload"


def photo_job(models: Models, photo: Path, folder: Path, limits: UploadLimits, blur_faces: bool,
              progress: Progress) -> Iterator[PhotoResult]:
    """Check ``photo``, find its people, reconstruct the largest in 3D, draw DensePose, fit every body."""
    from human3d.densepose.app.run import picture
    from human3d.densepose.app.visualize import DEFAULT_LAYERS
    from human3d.fit.run import bodies_picture, fit_found, image_record, write_bodies_mesh
    from human3d.io.atomic import write_text_atomic
    from human3d.io.images import read_image, write_image
    from human3d.io.meshes import write_mesh
    from human3d.people import pictures
    from human3d.pifuhd.body_band import chosen_depth_margin
    from human3d.pifuhd.pipeline import prepare_image, reconstruct
    from human3d.pifuhd.preprocess import composite_over_grey

    check_photo(photo, limits)
    image = read_image(photo)
    image = composite_over_grey(image) if image.shape[2] == 4 else image  # a cut-out keeps its look
    stem = file_stem(photo)
    with models.using("people", progress):
        progress(0.02, "finding people")
        people = models.finder().find(image)
        faces_seen = pictures.all_face_boxes(image, people) if blur_faces else []  # found once, for every picture
    if not people:
        raise Human3DError.for_path(photo.name, "no person found")
    found = f"{len(people)} {'person' if len(people) == 1 else 'people'} found"

    with models.using("pifuhd", progress):
        progress(0.1, "reconstructing the largest person in 3D")
        prepared = prepare_image(photo, find_people=lambda _: people)
        predictor = models.pifuhd()
        mesh = reconstruct(predictor, prepared, models.resolution, keep_largest=True,
                           colour_source=pictures.blur_faces(prepared.rgb, faces_seen) if blur_faces else None,
                           depth_margin=chosen_depth_margin("auto", predictor.model.run_name))
    glb, obj = folder / f"{stem}.glb", folder / f"{stem}.obj"
    for path in (glb, obj):
        write_mesh(path, mesh.vertices, mesh.faces, mesh.colors)
    result = PhotoResult(f"{found}; the largest reconstructed in 3D", glb, (glb, obj))
    yield result

    with models.using("densepose", progress):
        progress(0.7, "DensePose: body parts and surface coordinates")
        densepose_result = models.densepose().predict_people([image[..., ::-1].copy()], [people])[0]
    backdrop = pictures.blur_faces(image, faces_seen)  # the photo to draw on, every face pixelated if asked
    densepose_png = folder / f"{stem}_densepose.png"
    write_image(densepose_png, picture(backdrop[..., ::-1].copy(), densepose_result, set(DEFAULT_LAYERS))[..., ::-1])
    result = dataclasses.replace(result, densepose=densepose_png)
    yield result

    with models.using("body", progress):
        progress(0.85, "fitting the body model to every person")
        fitter = models.fitter()
        fitted, fits = fit_found(people, image, fitter, densepose_result)  # DensePose's points fitted too
    if not fits:
        yield dataclasses.replace(result, status=f"{result.status}; no one had enough of their body in view to "
                                                 "fit the body model")
        return
    faces = fitter.body.topology.faces
    bodies_png, bodies_glb = folder / f"{stem}_bodies.png", folder / f"{stem}_bodies.glb"
    bodies_json = folder / f"{stem}_bodies.json"
    write_image(bodies_png, bodies_picture(backdrop, fitted, fits, faces))
    write_bodies_mesh(bodies_glb, fits, faces, [person.id for person in fitted], centred_y_up=True)
    document = {"fps": None, "width": int(image.shape[1]), "height": int(image.shape[0]),
                "frames": [image_record(0, photo.name, image, fitted, fits)]}
    write_text_atomic(bodies_json, json.dumps(document, separators=(",", ":")) + "\n")
    bodies = f"{len(fits)} {'body' if len(fits) == 1 else 'bodies'} fitted"
    yield dataclasses.replace(result, status=f"{result.status}; {bodies}", bodies_picture=bodies_png,
                              bodies_mesh=bodies_glb, downloads=result.downloads + (bodies_glb, bodies_json))


def video_job(models: Models, video: Path, folder: Path, limits: UploadLimits, blur_faces: bool,
              progress: Progress) -> Iterator[VideoResult]:
    """Check ``video``, draw DensePose on every frame, then fit and animate every person's body."""
    from human3d.densepose.app.run import run_video
    from human3d.densepose.app.visualize import DEFAULT_LAYERS
    from human3d.fit.motion_run import MotionOutputs, bvh_paths, run_motion
    from human3d.io.gltf_motion import write_motion_glb
    from human3d.people.following import PeopleFollower

    info = check_video(video, limits)
    stem = file_stem(video)
    annotated = folder / f"{stem}_densepose.mp4"
    with models.using("people", progress), models.using("densepose", progress):
        progress(0.02, "DensePose on every frame")
        predictor = models.densepose().with_finder(PeopleFollower(models.finder()))
        run_video(video, predictor, annotated, set(DEFAULT_LAYERS), blur_faces=blur_faces)
    result = VideoResult(f"{info.width}x{info.height}, {info.seconds:.1f} s: DensePose drawn", annotated)
    yield result

    glb, bvh, motion_json = folder / f"{stem}_motion.glb", folder / f"{stem}_motion.bvh", folder / f"{stem}_motion.json"
    with models.using("people", progress), models.using("body", progress):
        progress(0.5, "fitting and following every person's body")
        fitter = models.fitter()
        motions = run_motion(video, models.finder(), fitter, MotionOutputs(glb, bvh, motion_json))
    shown = folder / f"{stem}_motion_together.glb"  # everyone in one animation: the viewer plays only the first
    write_motion_glb(shown, motions, fitter.body, one_animation=True)
    people = f"{len(motions)} {'person' if len(motions) == 1 else 'people'}"
    yield dataclasses.replace(result, status=f"{result.status}; {people} fitted and animated", motion=shown,
                              downloads=(glb, *bvh_paths(bvh, [m.id for m in motions]), motion_json))
