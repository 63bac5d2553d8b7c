"""PIFuHD training data from synthetic samples: plain items, and views framed the way inference frames a photo.

:class:`ImplicitDataset`: image, mask, front/back normal maps, PIFu ``calib`` and labelled 3-D points
(the stored ``points.npy``, or PIFu's sampling on ``mesh.ply`` on the fly) of each sample.

:class:`PifuhdTrainingSet`: inference crops a square around the person's mask (side 1.2x the mask's
larger extent, padded with black outside the image; see :func:`human3d.geometry.crop.crop_from_mask`)
and resizes it to the coarse and fine input sizes. A training view takes that same crop, jittered in
scale and position, recolours the person, pastes a random background behind the mask, and moves the
labelled points into the crop frame (x right, y up, z toward the camera, the crop spans [-1, 1], z = 0
at the median depth of the mesh's vertices: :func:`human3d.geometry.crop.depth_origin`).

For a body-guided configuration a view also carries a body as the network reads it
(:mod:`human3d.pifuhd.body_guide`: its features at the labelled points and its rendered normal maps): mostly
the body fitted to the sample's photo (``fitted_body.npz``, :mod:`human3d.pifuhd.fitted_bodies`; put into the
crop as at inference, z = 0 at its median depth, the labels' z = 0 at the true body's), otherwise the person's
true anny body rebuilt from ``meta.json`` and perturbed as fits err (:mod:`human3d.pifuhd.body_perturbation`;
z = 0 at its median depth). A few views carry no body at all, as when none can be fitted
(:meth:`~human3d.pifuhd.body_guide.BodyGuide.absent`), and so does a view whose fitted body inference would
refuse (:func:`~human3d.pifuhd.photo_body.outline_agreement`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from human3d.errors import Human3DError
from human3d.fit.camera import Intrinsics
from human3d.formats import synth_sample as layout
from human3d.formats.synth_sample import read_camera, read_depth
from human3d.geometry.cameras import Camera
from human3d.geometry.crop import Crop, crop_from_mask, crop_to_image_frame, depth_origin, points_to_crop
from human3d.geometry.sampling import sample_training_points
from human3d.io.meshes import read_mesh
from human3d.pifuhd.body_guide import BodyGuide
from human3d.pifuhd.body_perturbation import BodyPerturbation
from human3d.pifuhd.options import PifuhdConfig
from human3d.pifuhd.photo_body import body_faces, body_in_crop, outline_agreement

GREY = 0.5  # the background inference composites a masked photo over
SURFACE_MARGIN = 0.005  # free-space points keep this far (crop units of the image) from the rendered surfaces


@dataclass(frozen=True)
class AugmentationConfig:
    """Random changes of a training view (all off: the plain inference framing over grey)."""

    scale: float = 0.12  # the crop side is multiplied by exp(U(-scale, scale))
    shift: float = 0.05  # the crop centre moves by U(-shift, shift) crop sides along x and y
    colour: float = 0.25  # strength of brightness, contrast, saturation and per-channel gain jitter
    background: float = 0.8  # probability of a random background (else grey, as a masked photo gets)
    whole_image: float = 0.1  # probability of the whole image as the crop (a photo without a mask)
    body: BodyPerturbation = field(default_factory=BodyPerturbation)  # of a body-guided view's true body
    fitted_body: float = 0.75  # probability of the sample's fitted body (when it has one) instead
    no_body: float = 0.1  # probability of no body at all (absent features, blank normal maps), before the above


def _random_background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A procedural RGB background in [0, 1]: flat colour, a linear gradient or smooth noise."""
    kind = rng.integers(3)
    if kind == 0:
        return np.broadcast_to(rng.random(3).astype(np.float32), (size, size, 3)).copy()
    if kind == 1:
        ramp = np.linspace(-0.5, 0.5, size, dtype=np.float32)
        angle = rng.uniform(0, 2 * np.pi)
        t = np.clip(0.5 + np.cos(angle) * ramp[None, :] + np.sin(angle) * ramp[:, None], 0, 1)
        a, b = rng.random(3).astype(np.float32), rng.random(3).astype(np.float32)
        return a + t[..., None] * (b - a)
    cells = int(rng.integers(2, 17))
    noise = rng.random((cells, cells, 3)).astype(np.float32)
    return cv2.resize(noise, (size, size), interpolation=cv2.INTER_CUBIC).clip(0, 1)


@dataclass(frozen=True)
class ColourJitter:
    """Saturation and contrast factors and per-channel gains, drawn once per view."""

    saturation: float = 1.0
    contrast: float = 1.0
    gain: tuple[float, float, float] = (1.0, 1.0, 1.0)

    @classmethod
    def draw(cls, rng: np.random.Generator, strength: float) -> "ColourJitter":
        """Random factors within ``1 +- strength`` (channel gains vary a third of that around a common one)."""
        common = 1 + rng.uniform(-strength, strength)
        gain = common + rng.uniform(-strength / 3, strength / 3, 3)
        return cls(1 + rng.uniform(-strength, strength), 1 + rng.uniform(-strength, strength), tuple(gain))

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """The jittered RGB image (values in [0, 1])."""
        grey = rgb.mean(axis=2, keepdims=True)
        rgb = grey + (rgb - grey) * self.saturation
        rgb = 0.5 + (rgb - 0.5) * self.contrast
        return np.clip(rgb * np.asarray(self.gain, dtype=np.float32), 0.0, 1.0)


def crop_rect(mask: np.ndarray, rng: np.random.Generator | None, augmentation: AugmentationConfig | None) -> Crop:
    """The square crop of a training view: the inference mask rule, jittered."""
    height, width = mask.shape
    if augmentation is not None and rng is not None and rng.random() < augmentation.whole_image:
        return Crop.square(width / 2, height / 2, max(height, width))
    try:
        found = crop_from_mask(mask)
    except Human3DError:
        return Crop.square(width / 2, height / 2, max(height, width))
    cx, cy, side = found.cx, found.cy, found.side
    if augmentation is not None and rng is not None:
        side *= float(np.exp(rng.uniform(-augmentation.scale, augmentation.scale)))
        cx += rng.uniform(-augmentation.shift, augmentation.shift) * side
        cy += rng.uniform(-augmentation.shift, augmentation.shift) * side
    return Crop.square(cx, cy, side)


def warp_crop(image: np.ndarray, rect: Crop, size: int, nearest: bool = False) -> np.ndarray:
    """The ``rect`` of ``image`` resized to ``size`` x ``size`` pixels; outside the image is 0 (black)."""
    scale_x, scale_y = size / rect.width, size / rect.height
    # pixel centres at +0.5 on both sides, as cv2.resize of the cropped rect does at inference
    matrix = np.array([[scale_x, 0, size / 2 - 0.5 + (0.5 - rect.cx) * scale_x],
                       [0, scale_y, size / 2 - 0.5 + (0.5 - rect.cy) * scale_y]], dtype=np.float64)
    flags = cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR
    warped = cv2.warpAffine(image, matrix, (size, size), flags=flags, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return warped.reshape(size, size, -1) if image.ndim == 3 else warped


def surface_depths(sample_dir: Path, camera: Camera, margin_pixels: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Per pixel, the z (``camera.pifu_calib()``'s frame) of the nearest front surface and the farthest
    back surface within ``margin_pixels``: +-inf where no surface is near (a point above the first map
    or below the second, along its pixel's ray, is outside the person for certain)."""
    # pifu_calib's z is (target - depth) / half-width, whatever the view's rotation (see Camera.pifu_calib)
    scale = camera.projection[0, 0]
    target = camera.projection[2, 3] / camera.projection[2, 2]  # camera distance of z = 0
    kernel = np.ones((2 * margin_pixels + 1,) * 2, np.uint8)
    maps = []
    for which, empty, spread in (("front", -np.inf, cv2.dilate), ("back", np.inf, cv2.erode)):  # max / min filters
        depth = read_depth(sample_dir, which)
        maps.append(spread(np.where(depth > 0, scale * (target - depth), empty).astype(np.float32), kernel))
    return maps[0], maps[1]


def window_points(uv: np.ndarray, size: int, window: tuple[int, int], crop: int) -> np.ndarray:
    """Which points (uv (2, N) in [-1, 1], aligned corners over ``size`` pixels) fall inside the crop window."""
    pixels = (uv + 1) * (size - 1) / 2
    x0, y0 = window
    return (pixels[0] >= x0) & (pixels[0] <= x0 + crop - 1) & (pixels[1] >= y0) & (pixels[1] <= y0 + crop - 1)


class ImplicitDataset(Dataset):
    """PIFuHD training items from a synth folder (orthographic samples, square images).

    Item: ``image`` (3, H, W) in [-1, 1] (PIFuHD's normalisation), ``mask`` (1, H, W),
    ``normal_front``/``normal_back`` (3, H, W) camera frame, ``calib`` (4, 4) (world -> crop frame,
    PIFuHD's convention), ``samples`` (3, N) world points, ``labels`` (1, N) occupancy 1/0.
    Points come from ``points.npy`` when it holds at least ``num_points``, else PIFu's sampling with
    ``sigma`` runs on ``mesh.ply``; the subset/sampling is seeded by (``seed``, index).
    """

    def __init__(self, root: str | Path, num_points: int = 5000, sigma: float = 0.05, seed: int = 0) -> None:
        self.root = Path(root)
        self.dirs = layout.finished_sample_dirs(self.root)
        self.num_points, self.sigma, self.seed = num_points, sigma, seed

    def __len__(self) -> int:
        return len(self.dirs)

    def labelled_points(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Sample ``index``'s ``num_points`` world points (N, 3) and inside flags (N,) (seeded by index)."""
        sample_dir = self.dirs[index]
        rng = np.random.default_rng([self.seed, index])
        table = layout.read_points(sample_dir)
        if table is not None and len(table) >= self.num_points:
            pick = np.sort(rng.choice(len(table), self.num_points, replace=False))
            return table[pick, :3], table[pick, 3] > 0.5
        import trimesh

        mesh = trimesh.load(sample_dir / layout.MESH, process=False)
        return sample_training_points(mesh.vertices, mesh.faces, self.num_points, rng, sigma=self.sigma)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        sample_dir = self.dirs[index]
        camera, _ = read_camera(sample_dir)
        image = layout.read_rgb(sample_dir).astype(np.float32) / 255.0
        mask = layout.read_mask(sample_dir)
        points, inside = self.labelled_points(index)
        return {
            "image": torch.from_numpy((image.transpose(2, 0, 1) - 0.5) / 0.5),
            "mask": torch.from_numpy(mask[None].astype(np.float32)),
            "normal_front": torch.from_numpy(layout.read_normals(sample_dir, "front").transpose(2, 0, 1).copy()),
            "normal_back": torch.from_numpy(layout.read_normals(sample_dir, "back").transpose(2, 0, 1).copy()),
            "calib": torch.from_numpy(camera.pifu_calib().astype(np.float32)),
            "samples": torch.from_numpy(np.ascontiguousarray(points.T, dtype=np.float32)),
            "labels": torch.from_numpy(inside[None].astype(np.float32)),
        }


class PifuhdTrainingSet(Dataset):
    """Training views of a synth folder for one configuration.

    Item: ``image`` (3, G, G) in [-1, 1] with G = the coarse ``load_size``; ``mask`` (1, G, G);
    ``normal_front``/``normal_back`` (3, G, G) targets; ``samples`` (3, N) crop-frame points and
    ``labels`` (1, N). With ``fine``: ``image_local`` (3, l, l), a random l = ``load_size_big // 2``
    window of the ``load_size_big`` image, its corner ``window`` (2,) and points inside it only.
    With ``whole_big``: ``image_big`` (3, L, L), the whole ``load_size_big`` image (for evaluation).
    ``background_points`` (a fraction of ``num_points``) are free space: drawn uniformly in the crop
    cube among those that lie, along their pixel's orthographic ray, in front of the nearest front
    surface or behind the farthest back surface (the rendered depth maps; off the person that is
    every depth), up to half of them on the person's rays. PIFu's samples lie near the body, so
    without them most of the cube the mesh is extracted from gets no supervision (floaters, and
    rays that stay inside far too deep); evaluation sets use 0.
    Without ``augmentation`` a view is the inference framing over grey, and the same on every call.
    """

    def __init__(
        self,
        root: str | Path,
        options: PifuhdConfig,
        num_points: int,
        fine: bool = False,
        augmentation: AugmentationConfig | None = AugmentationConfig(),
        seed: int = 0,
        whole_big: bool = False,
        background_points: float = 0.0,
    ) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise Human3DError.for_path(self.root, "training data folder not found")
        stored = layout.stored_point_count(self.root)
        self.source = ImplicitDataset(self.root, num_points=stored or num_points, seed=seed)
        camera, _ = read_camera(self.source.dirs[0])
        if camera.kind != "orthographic" or camera.width != camera.height:
            raise Human3DError.for_path(
                self.root,
                f"PIFuHD training needs square images from an orthographic camera (this folder has {camera.kind} "
                f"{camera.width}x{camera.height}; use `human3d synth --camera orthographic`)",
            )
        self.num_points, self.fine, self.augmentation, self.seed = num_points, fine, augmentation, seed
        self.whole_big, self.background_points = whole_big, background_points
        self._origins: dict[int, float] = {}
        self.size = options.coarse.load_size
        self.big = options.fine.load_size_big
        self.local = self.big // 2
        self.body_guided, self.body_maps = options.coarse.body_guided, options.coarse.body_normal_maps

    def __len__(self) -> int:
        return len(self.source)

    def _rng(self, index: int) -> np.random.Generator:
        if self.augmentation is None:
            return np.random.default_rng([self.seed, index])
        return np.random.default_rng(int(torch.randint(0, 2**62, ())))

    def _person_over(
        self, bgr: np.ndarray, mask: np.ndarray, rect: Crop, size: int,
        jitter: ColourJitter, background: np.ndarray,
    ) -> np.ndarray:
        """The crop at ``size`` pixels, person recoloured over ``background``, black outside the image.

        Warping is linear, so warping the premultiplied person, the mask and the image's extent and
        compositing afterwards equals compositing at full size first (as inference does), only cheaper.
        """
        alpha = warp_crop(mask.astype(np.float32), rect, size)[..., None]
        extent = warp_crop(np.ones(mask.shape, np.float32), rect, size)[..., None]
        person_only = cv2.bitwise_and(bgr, bgr, mask=mask)
        premultiplied = warp_crop(person_only, rect, size)[..., ::-1].astype(np.float32) / 255.0
        person = jitter(premultiplied / np.maximum(alpha, 1e-3))
        if background.shape[0] == size:
            resized = background
        else:
            resized = cv2.resize(background, (size, size), interpolation=cv2.INTER_AREA)
        return alpha * person + np.clip(extent - alpha, 0, 1) * resized

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        sample_dir = self.source.dirs[index]
        rng = self._rng(index)
        augment = self.augmentation
        bgr = layout.imread(sample_dir / layout.RGB, cv2.IMREAD_COLOR)
        mask = layout.read_mask(sample_dir).astype(np.uint8)
        if bgr.shape[0] != bgr.shape[1] or mask.shape != bgr.shape[:2]:
            raise Human3DError.for_path(sample_dir, "PIFuHD training needs square images with a mask of the same size")
        rect = crop_rect(mask, rng, augment)
        largest = self.big if self.fine or self.whole_big else self.size
        if augment is not None:
            jitter = ColourJitter.draw(rng, augment.colour)
            random_background = rng.random() < augment.background
            if random_background:
                background = _random_background(rng, largest)
            else:
                background = np.full((largest, largest, 3), GREY, np.float32)
        else:
            jitter, background = ColourJitter(), np.full((largest, largest, 3), GREY, np.float32)
        view = {
            "image": _to_tensor(self._person_over(bgr, mask, rect, self.size, jitter, background) * 2 - 1),
            "mask": _to_tensor(warp_crop(mask, rect, self.size, nearest=True)[..., None].astype(np.float32)),
        }
        for side in layout.SIDES:
            encoded = warp_crop(layout.read_normal_png(sample_dir, side), rect, self.size, True)
            normals = encoded.astype(np.float32) / 255.0 * 2.0 - 1.0
            view[f"normal_{side}"] = _to_tensor(normals * view["mask"].numpy().transpose(1, 2, 0))
        camera, _ = read_camera(sample_dir)
        calib = camera.pifu_calib()
        image_size = (bgr.shape[1], bgr.shape[0])
        body_vertices, z_origin, fitted = None, None, False
        if self.body_guided and (self.augmentation is None or rng.random() >= self.augmentation.no_body):
            body_vertices, z_origin, fitted = self._body(sample_dir, rng, calib, rect, image_size)
        z_origin = self._depth_origin(index, calib) if z_origin is None else z_origin
        world, labels = self.source.labelled_points(index)
        points = points_to_crop(np.asarray(world, np.float64).T, calib, rect, image_size, z_origin)
        candidates = np.arange(points.shape[1])
        if self.fine or self.whole_big:
            big = self._person_over(bgr, mask, rect, self.big, jitter, background) * 2 - 1
            if self.whole_big:
                view["image_big"] = _to_tensor(big)
        if self.fine:
            window = tuple(int(v) for v in rng.integers(0, self.big - self.local + 1, 2))
            x0, y0 = window
            view["image_local"] = _to_tensor(big[y0 : y0 + self.local, x0 : x0 + self.local])
            view["window"] = torch.tensor(window, dtype=torch.long)
            inside = np.flatnonzero(window_points(points[:2] * [[1], [-1]], self.big, window, self.local))
            candidates = inside if len(inside) else candidates
        outside = self._free_space(sample_dir, camera, rect, z_origin, rng, view.get("window"))
        count = self.num_points - outside.shape[1]
        pick = rng.choice(candidates, count, replace=len(candidates) < count)
        samples = np.concatenate([points[:, pick], outside], 1)
        inside = np.concatenate([np.asarray(labels, dtype=np.float32)[pick], np.zeros(outside.shape[1], np.float32)])
        view["samples"] = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))
        view["labels"] = torch.from_numpy(inside[None])
        if self.body_guided:
            guide = BodyGuide.absent() if body_vertices is None else BodyGuide.of_mesh(body_vertices, body_faces())
            if fitted and not outline_agreement(guide, view["mask"][0].numpy() > 0.5).plausible:
                guide = BodyGuide.absent()  # as inference refuses it
            view["body"] = guide.features(view["samples"][None])[0]
            if self.body_maps:
                view["body_maps"] = torch.from_numpy(guide.normal_maps(self.size))
        return view

    def _body(self, sample_dir: Path, rng: np.random.Generator, calib: np.ndarray, rect: Crop,
              image_size: tuple[int, int]) -> tuple[np.ndarray, float, bool]:
        """A view's body in the crop frame (V, 3), the labels' depth origin (see the module docstring) and
        whether it is the fitted body."""
        from human3d.body.model import get_body_model
        from human3d.synth.scene import placed_body

        people = layout.read_meta(sample_dir).get("people", [])
        if len(people) != 1 or "pose" not in people[0]:
            raise Human3DError.for_path(sample_dir, "body-guided training needs one synthetic person with their "
                                                    "anny pose in meta.json (human3d synth writes it; scans have none)")
        model, person, augment = get_body_model(), people[0], self.augmentation
        fitted = layout.read_fitted_body(sample_dir)
        if fitted is not None and (augment is None or rng.random() < augment.fitted_body):
            vertices, (focal, cx, cy) = fitted
            return (body_in_crop(vertices, Intrinsics(focal, cx, cy), rect),
                    depth_origin(placed_body(person, model).vertices, calib), True)
        if augment is not None:
            person = augment.body.description(person, model.bone_names, rng)
        body = placed_body(person, model)
        z_origin = depth_origin(body.vertices, calib)
        vertices = points_to_crop(np.asarray(body.vertices, np.float64).T, calib, rect, image_size, z_origin).T
        if augment is None:
            return vertices, z_origin, False
        shift, depth = augment.body.offsets(rng)
        # the labels' z = 0 moves by -depth: the person's surface lies off the body in depth, as a fit's does
        return vertices + shift, z_origin - depth * rect.width / image_size[0], False

    def _depth_origin(self, index: int, calib: np.ndarray) -> float:
        """:func:`depth_origin` of sample ``index``'s mesh (read once per process)."""
        if index not in self._origins:
            self._origins[index] = depth_origin(read_mesh(self.source.dirs[index] / layout.MESH).vertices, calib)
        return self._origins[index]

    def _free_space(
        self, sample_dir: Path, camera: Camera, rect: Crop, z_origin: float,
        rng: np.random.Generator, window: torch.Tensor | None,
    ) -> np.ndarray:
        """Up to ``background_points * num_points`` crop-cube points (3, K) outside the person for certain."""
        wanted = int(self.background_points * self.num_points)
        if wanted == 0:
            return np.zeros((3, 0), np.float32)
        cube = rng.uniform(-1, 1, (3, 8 * wanted)).astype(np.float32)
        if window is not None:  # the fine stage: only inside its window
            low = window.numpy() * 2 / (self.big - 1) - 1
            high = (window.numpy() + self.local - 1) * 2 / (self.big - 1) - 1
            cube[0] = low[0] + (cube[0] + 1) / 2 * (high[0] - low[0])
            cube[1] = -(low[1] + (cube[1] + 1) / 2 * (high[1] - low[1]))
        front, back = surface_depths(sample_dir, camera)
        size = front.shape[0]
        frame = crop_to_image_frame(cube.astype(np.float64), rect, (size, size), z_origin)
        cols = np.rint((frame[0] + 1) / 2 * size - 0.5).astype(int)
        rows = np.rint((1 - frame[1]) / 2 * size - 0.5).astype(int)
        on_image = (cols >= 0) & (cols < size) & (rows >= 0) & (rows < size)
        cols, rows = np.clip(cols, 0, size - 1), np.clip(rows, 0, size - 1)
        near, far = front[rows, cols], back[rows, cols]
        free = ~on_image | (frame[2] > near + SURFACE_MARGIN) | (frame[2] < far - SURFACE_MARGIN)
        on_rays = free & on_image & np.isfinite(near)  # in front of or behind the person: up to half of them
        keep = np.concatenate([np.flatnonzero(on_rays)[: wanted // 2], np.flatnonzero(free & ~on_rays)])
        return cube[:, np.sort(keep[:wanted])]


def _to_tensor(image: np.ndarray) -> torch.Tensor:
    """(H, W, C) float -> (C, H, W) float32 tensor."""
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1), dtype=np.float32))
