"""Photo -> PIFuHD mesh: read and crop the image, encode it once, extract the 0.5 level set, colour it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from scipy import ndimage

from human3d.errors import Human3DError
from human3d.geometry.crop import Crop, crop_from_mask
from human3d.io.images import read_image, read_mask
from human3d.people.finder import Person
from human3d.people.landmarks import body25_keypoints
from human3d.pifuhd import preprocess
from human3d.pifuhd.body_band import MAP_SIZE, BoundedOccupancy
from human3d.pifuhd.body_guide import BodyGuide
from human3d.pifuhd.photo_body import mask_in_crop, photo_body, photo_body_guide
from human3d.pifuhd.predictor import PifuhdPredictor
from human3d.pifuhd.solid_off_body import solid_off_body
from human3d.surface import Grid, dense_field, extract_mesh, largest_component, sparse_field

LEVEL = 0.5
MIN_TRANSPARENT = 0.01  # an alpha channel is the person's mask when at least this share of the image is transparent
COLOR_MODES = ("image", "normal")


def pifuhd_grid(resolution: int) -> Grid:
    """The official grid: node (i, j, k) -> (-1 + 2i/res, 1 - 2j/res, -1 + 2k/res) (the +1 faces are not sampled)."""
    transform = np.diag([2.0 / resolution, -2.0 / resolution, 2.0 / resolution, 1.0])
    transform[:3, 3] = [-1.0, 1.0, -1.0]
    return Grid(resolution, transform)


@dataclass
class PreparedImage:
    """The image as the network sees it (RGB, composited over grey if it had a mask) and its person rect."""

    path: Path
    rgb: np.ndarray
    rect: Crop
    person: Person | None = None  # the found person the crop was made for, when the people finder made it
    mask: np.ndarray | None = None  # float [H, W] in [0, 1]: the person's pixels (from a mask, alpha or the finder)


@dataclass
class Reconstruction:
    """A mesh in the official crop frame (x right, y up, z toward the camera; the crop spans [-1, 1])."""

    vertices: np.ndarray
    faces: np.ndarray  # outward-oriented
    colors: np.ndarray  # float [V, 3] in [0, 1]
    normal_front: np.ndarray | None
    normal_back: np.ndarray | None
    rect: Crop
    queries: int
    seconds: dict[str, float] = field(default_factory=dict)
    body: BodyGuide | None = None  # the fitted body read or bounded by (``present`` False: the fit was refused)
    bounded: bool = False  # whether the fitted body bounded the surface's depth (:mod:`human3d.pifuhd.body_band`)


def _sidecar(image_path: Path, suffix: str) -> Path | None:
    candidate = image_path.with_name(image_path.stem + suffix)
    return candidate if candidate.is_file() else None


def prepare_image(
    image_path: str | Path,
    keypoints: str | Path | None = None,
    rect: str | Path | None = None,
    mask: str | Path | None = None,
    find_people: Callable[[np.ndarray], list[Person]] | None = None,
    person: int = 0,
) -> PreparedImage:
    """Read an image and find the person crop.

    The crop comes from, in order: ``keypoints`` (OpenPose BODY_25 JSON), ``rect`` (``x y w h``),
    ``mask``, the official side files ``<stem>_keypoints.json`` / ``<stem>_rect.txt`` /
    ``<stem>_mask.png``, the image's alpha channel (unless under :data:`MIN_TRANSPARENT` of it is transparent:
    an opaque alpha marks no one), then, when ``find_people`` is given (e.g.
    :func:`human3d.people.finder.find_people`), the ``person``-th person it finds (largest first: the
    official crop from their BODY_25 keypoints, their mask as the mask), or else the whole image
    (centred square). A mask also removes the background (composited over grey, as the official code
    does for RGBA input).
    """
    image_path = Path(image_path)
    image = read_image(image_path)
    keypoints = keypoints or (None if rect or mask else _sidecar(image_path, "_keypoints.json"))
    rect = rect or (None if keypoints or mask else _sidecar(image_path, "_rect.txt"))
    mask = mask or (None if keypoints or rect else _sidecar(image_path, "_mask.png"))
    alpha = None
    if mask is not None:
        alpha = read_mask(mask)
        if alpha.shape != image.shape[:2]:
            raise Human3DError.for_path(
                mask, f"mask size {alpha.shape[::-1]} differs from the image's {image.shape[1::-1]}"
            )
        image = np.concatenate([image[:, :, :3], np.round(alpha * 255.0).astype(np.uint8)[:, :, None]], 2)
    elif image.shape[2] == 4 and (image[:, :, 3] < 128).mean() < MIN_TRANSPARENT:
        image = image[:, :, :3]  # an opaque alpha channel (a photo saved as RGBA) marks no one: not a mask
    elif image.shape[2] == 4:
        alpha = image[:, :, 3].astype(np.float32) / 255.0
    found = None
    if keypoints is None and rect is None and alpha is None and find_people is not None:
        found = choose_person(find_people(image[:, :, :3]), person, image_path)
        alpha = found.mask.astype(np.float32)
        image = np.concatenate([image[:, :, :3], found.mask.astype(np.uint8)[:, :, None] * 255], 2)
    rgb = preprocess.composite_over_grey(image) if image.shape[2] == 4 else image
    if keypoints is not None:
        person_rect = preprocess.rect_from_keypoints(preprocess.read_keypoints(keypoints))
    elif rect is not None:
        person_rect = preprocess.read_rect(rect)
    elif found is not None:
        person_rect = preprocess.rect_from_keypoints(body25_keypoints(found.landmarks))
    elif alpha is not None:
        person_rect = crop_from_mask(alpha, mask or image_path)
    else:
        height, width = rgb.shape[:2]
        person_rect = Crop.whole_image(width, height)
    return PreparedImage(image_path, rgb, person_rect, found, alpha)


def choose_person(people: list[Person], index: int, image_path: Path) -> Person:
    """The ``index``-th of the found ``people`` (largest first), or a one-line error naming the image."""
    if not people:
        raise Human3DError.for_path(image_path, "no person found (pass --mask, --rect or --keypoints)")
    if not 0 <= index < len(people):
        raise Human3DError.for_path(image_path, f"person {index} asked for, but {len(people)} found "
                                                f"(0 to {len(people) - 1}, largest first)")
    return people[index]


def vertex_colors_from_image(image_1024: np.ndarray, vertices: np.ndarray) -> np.ndarray:
    """RGB in [0, 1] of the crop at each vertex's orthographic projection (x, -y), bilinear, aligned corners.

    The camera sees the front; hidden vertices get the colour of the pixel in front of them.
    """
    rgb = image_1024[0] * 0.5 + 0.5  # [3, N, N]
    size = rgb.shape[-1]
    cols = (vertices[:, 0] + 1.0) * 0.5 * (size - 1)
    rows = (1.0 - vertices[:, 1]) * 0.5 * (size - 1)
    coords = np.stack([rows, cols])
    sampled = [ndimage.map_coordinates(channel, coords, order=1, mode="nearest") for channel in rgb]
    return np.clip(np.stack(sampled, 1), 0.0, 1.0)


def reconstruct(
    predictor: PifuhdPredictor,
    prepared: PreparedImage,
    resolution: int = 256,
    fast: bool = True,
    keep_largest: bool = False,
    colors: str = "image",
    colour_source: np.ndarray | None = None,
    body: BodyGuide | None = None,
    depth_margin: float | tuple[float, float] | None = None,
) -> Reconstruction:
    """Mesh of the person in ``prepared`` at grid ``resolution`` (fast narrow-band or dense evaluation).

    ``colour_source``: the image (same size as ``prepared.rgb``) that ``colors="image"`` takes the vertex
    colours from, e.g. a copy with the faces blurred; the network always sees ``prepared.rgb``. Body-guided
    weights read ``body``, or else the body fitted to the person in the crop, or none when that fit's outline
    disagrees with their mask (:func:`human3d.pifuhd.photo_body.photo_body_guide`; other weights encode the
    image first, so that the network can turn round a fit of a person seen from behind:
    :mod:`human3d.pifuhd.back_view`, and keep a fit whose outline disagrees: it still bounds depth better than
    none, with wider margins, :meth:`human3d.pifuhd.photo_body.PhotoBody.bound_margin`). ``depth_margin``
    (crop units; one number for both sides, or in front and behind): the surface is bounded in depth to within
    it of that body (:mod:`human3d.pifuhd.body_band`; any weights), unless no person is found or the
    body-guided weights' fit is refused; the body then fills the person (on ``prepared.mask``'s pixels when it
    is known), and broad parts of the person off the body are solid along the camera's rays
    (:mod:`human3d.pifuhd.solid_off_body`); None: not bounded.
    """
    if colors not in COLOR_MODES:
        raise ValueError(f"colors must be one of {COLOR_MODES}")
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    options = predictor.model.options
    sizes = options.fine.load_size_big, options.coarse.load_size
    inputs = preprocess.network_inputs(prepared.rgb, prepared.rect, *sizes)
    seconds["preprocess"] = time.perf_counter() - start

    guided = options.coarse.body_guided

    def encode(network_body: BodyGuide | None) -> None:
        start = time.perf_counter()
        predictor.encode(inputs.image_512, inputs.image_1024, network_body)
        seconds["encode"] = time.perf_counter() - start

    if not guided:
        encode(None)
    if (guided or depth_margin is not None) and body is None:
        start = time.perf_counter()
        try:
            if guided:
                body = photo_body_guide(prepared.rgb, prepared.rect, prepared.person)
            else:  # the image's own network, encoded already, may turn a fit seen from behind (back_view)
                fitted = photo_body(prepared.rgb, prepared.rect, prepared.person, predictor.surface_occupancy)
                body, depth_margin = fitted.guide, fitted.bound_margin(depth_margin)
        except Human3DError as error:
            if guided:
                raise Human3DError.for_path(prepared.path, str(error)) from None
        seconds["body_fit"] = time.perf_counter() - start
    if guided:
        encode(body)

    start = time.perf_counter()
    grid = pifuhd_grid(resolution)
    bounded = depth_margin is not None and body is not None and body.present
    occupancy = predictor.surface_occupancy
    if bounded:
        person_mask = None if prepared.mask is None else mask_in_crop(prepared.mask > 0.5, prepared.rect, MAP_SIZE)
        occupancy = BoundedOccupancy(occupancy, body, depth_margin, person_mask=person_mask)
    field_result = (sparse_field if fast else dense_field)(occupancy, grid)
    values = solid_off_body(field_result.values, grid, occupancy) if bounded else field_result.values
    seconds["field"] = time.perf_counter() - start

    start = time.perf_counter()
    vertices, faces = extract_mesh(values, grid, LEVEL)
    if len(faces) == 0:
        raise Human3DError.for_path(prepared.path, "no surface found (the occupancy never crosses 0.5)")
    if keep_largest:
        kept, faces = largest_component(vertices, faces)
        vertices = vertices[kept]
    seconds["marching_cubes"] = time.perf_counter() - start

    start = time.perf_counter()
    if colors == "normal":
        vertex_colors = 0.5 * predictor.surface_normals(vertices.astype(np.float32)) + 0.5
    else:
        if colour_source is not None:
            inputs = preprocess.network_inputs(colour_source, prepared.rect, *sizes)
        vertex_colors = vertex_colors_from_image(inputs.image_1024, vertices)
    seconds["colors"] = time.perf_counter() - start
    front, back = predictor.normal_maps()
    return Reconstruction(vertices, faces, vertex_colors, front, back, prepared.rect, field_result.queries, seconds,
                          body, bounded)
