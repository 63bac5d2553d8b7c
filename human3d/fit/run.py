"""``human3d body`` over an image or a folder: find people, fit anny, write meshes, a JSON file and pictures.

Each image's outputs are written only once everything for it is computed, each file atomically; a folder
keeps going past a bad image (one line each), a single image fails with one line and writes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from human3d.densepose.light.person_crops import PersonCropPredictor
from human3d.densepose.result import DensePoseResult
from human3d.errors import Human3DError
from human3d.fit.body_fit import BodyFit, BodyFitter, fittable
from human3d.fit.dense_correspondences import densepose_of
from human3d.fit.pictures import draw_bodies
from human3d.io.atomic import write_text_atomic
from human3d.io.images import image_files, read_image, write_image
from human3d.io.meshes import write_mesh
from human3d.people.finder import PeopleFinder, Person
from human3d.people.pictures import all_face_boxes, blur_faces, person_colour


@dataclass(frozen=True)
class BodyOutputs:
    """Where to write: a mesh file (or a folder of them), a JSON file, a picture (or a folder of them); whether
    the pictures have every face pixelated."""

    mesh: Path | None = None
    json: Path | None = None
    picture: Path | None = None
    blur_faces: bool = False


@dataclass
class BodyRun:
    """People fitted per image, and one line per image that failed."""

    counts: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


def rounded(values: np.ndarray, digits: int = 4) -> list:
    """A nested list of floats rounded to ``digits`` (for JSON)."""
    return np.round(np.asarray(values, dtype=np.float64), digits).tolist()


def fit_record(person: Person, fit: BodyFit) -> dict:
    """One person's entry: box, 3D COCO-17 joints (camera frame, metres), their 2D projection, anny's values."""
    return {
        "id": int(person.id),
        "box_xyxy": rounded(person.box_xyxy, 2),
        "joints_coco17_3d": rounded(fit.joints_coco17),
        "keypoints_coco17_2d": rounded(fit.keypoints_coco17_2d, 2),
        "error_px": round(float(fit.error_px), 2),
        "anny": {
            "phenotype": {name: round(value, 4) for name, value in fit.params.phenotype.items()},
            "pose": rounded(fit.params.pose, 5),
            "rotation": rounded(fit.rotation, 6),
            "translation": rounded(fit.translation),
        },
    }


def frame_record(index: int, people: list[Person], fits: list[BodyFit]) -> dict:
    """One entry of the ``frames`` list: the frame's index, the camera the bodies were fitted with, the people."""
    return {"frame": index, "camera_focal_cx_cy": fits[0].intrinsics.as_list() if fits else None,
            "people": [fit_record(person, fit) for person, fit in zip(people, fits)]}


def image_record(index: int, name: str, image: np.ndarray, people: list[Person], fits: list[BodyFit]) -> dict:
    """One image's entry of the ``frames`` list: :func:`frame_record` with the image's name and size."""
    return {"frame": index, "image": name, "width": int(image.shape[1]), "height": int(image.shape[0]),
            **frame_record(index, people, fits)}


def write_bodies_mesh(path: Path, fits: list[BodyFit], faces: np.ndarray, ids: list[int], centred_y_up: bool = False
                      ) -> None:
    """All fitted bodies of one image in one mesh file, metres, each in its person's colour: in the camera frame
    (OpenCV: x right, y down, z forward), or with ``centred_y_up`` turned half a turn about x (x right, y up, z
    toward the camera: glTF's axes) and moved so that the middle of the bodies' bounding box is the origin,
    where 3D viewers look."""
    vertices = np.concatenate([fit.vertices for fit in fits])
    if centred_y_up:
        vertices = vertices * np.array([1.0, -1.0, -1.0])
        vertices -= (vertices.min(axis=0) + vertices.max(axis=0)) / 2
    offsets = np.cumsum([0] + [len(fit.vertices) for fit in fits[:-1]])
    all_faces = np.concatenate([faces + offset for offset in offsets])
    colours = np.concatenate([np.tile(np.array(person_colour(i), np.uint8), (len(fit.vertices), 1))
                              for fit, i in zip(fits, ids)])
    write_mesh(path, vertices, all_faces, colours)


def fit_found(people: list[Person], image: np.ndarray, fitter: BodyFitter,
              densepose: DensePoseResult | None = None) -> tuple[list[Person], list[BodyFit]]:
    """The people found in ``image`` that can be fitted, numbered from 0, and their fitted bodies;
    ``densepose``: the DensePose of those people, whose I, U, V are fitted too (None: keypoints and masks
    alone)."""
    people = fittable(people)
    for index, person in enumerate(people):
        person.id = index
    return people, fitter.fit(people, image.shape[1], image.shape[0], densepose=densepose)


def fit_image(image: np.ndarray, finder: PeopleFinder, fitter: BodyFitter,
              densepose: PersonCropPredictor | None = None) -> tuple[list[Person], list[BodyFit]]:
    """The people in ``image`` (RGB) and their fitted bodies (people with too few keypoints seen are left
    out); ``densepose``: a predictor run on those people, whose I, U, V are fitted too."""
    people = fittable(finder.find(image))
    return fit_found(people, image, fitter, densepose_of(densepose, image, people))


def bodies_picture(image: np.ndarray, people: list[Person], fits: list[BodyFit], faces: np.ndarray,
                   blur: bool = False) -> np.ndarray:
    """The fitted bodies drawn over ``image`` (RGB), every face pixelated first when ``blur``."""
    shown = blur_faces(image, all_face_boxes(image, people)) if blur else image
    return draw_bodies(shown, fits, faces, [person.id for person in people])


def run_body(source: Path, finder: PeopleFinder, fitter: BodyFitter, outputs: BodyOutputs,
             densepose: PersonCropPredictor | None = None) -> BodyRun:
    """Fit every image of ``source`` (an image or a folder of images) and write the outputs; ``densepose``:
    see :func:`fit_image`."""
    folder = source.is_dir()
    paths = image_files(source) if folder else [source]
    if folder and not paths:
        raise Human3DError.for_path(source, "no images in this folder")
    for target in (outputs.mesh, outputs.picture):
        if folder and target is not None:
            target.mkdir(parents=True, exist_ok=True)
    report, frames, faces = BodyRun(), [], fitter.body.topology.faces
    for index, path in enumerate(tqdm(paths, unit="image", disable=len(paths) < 2)):
        try:
            image = read_image(path)[..., :3]
            people, fits = fit_image(image, finder, fitter, densepose)
            if not people:
                raise Human3DError.for_path(path, "no person found with enough of their body in view")
            ids = [person.id for person in people]
            if outputs.mesh is not None:
                write_bodies_mesh(outputs.mesh / f"{path.stem}_body.glb" if folder else outputs.mesh, fits, faces, ids)
            if outputs.picture is not None:
                write_image(outputs.picture / f"{path.stem}_body.png" if folder else outputs.picture,
                            bodies_picture(image, people, fits, faces, outputs.blur_faces))
        except Human3DError as error:
            if not folder:
                raise
            report.failures.append(str(error))
            continue
        frames.append(image_record(index, path.name, image, people, fits))
        report.counts[path.name] = len(people)
    if outputs.json is not None:
        width, height = (frames[0]["width"], frames[0]["height"]) if frames else (None, None)
        document = {"fps": None, "width": width, "height": height, "frames": frames}
        write_text_atomic(outputs.json, json.dumps(document, separators=(",", ":")) + "\n")
    return report
