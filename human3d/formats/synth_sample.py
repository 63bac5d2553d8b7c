"""The on-disk layout of a synthetic dataset (``human3d synth``): file names, sample folders, readers.

The data engine writes it (:mod:`human3d.synth.writer`); PIFuHD training, DensePose training and
evaluation read it through this module only. Layout (see the README, "On-disk layout", for every field)::

    OUT/dataset.json                 run settings: format, version, seed, size, people, camera, points
    OUT/densepose_coco.json          DensePose-COCO JSON of every finished sample (rebuilt after each run)
    OUT/samples/000042/rgb.png       (H, W, 3) people over the background
                       mask.png       0/255, any person
                       normal_front.png, normal_back.png
                                      uint8 RGB = round((n + 1) / 2 * 255), camera frame, 0 off the mask
                       depth_front.png, depth_back.png
                                      uint16: 0 off the mask, else 1 + round((depth - depth_offset) / 1e-4)
                       iuv.png        uint8 RGB: I (0..24), round(U * 255), round(V * 255)
                       parts.png      uint8: DensePose's 14 coarse parts (0 = background)
                       labels.png     uint8: garment class (clothing.LABELS)
                       instance.png   uint8: person id 1..K (0 = background)
                       mesh.ply       every closed shell (bodies + garments), world metres
                       camera.json    view, projection, pifu_calib, depth_offset
                       meta.json      people (shape, pose kind, outfit, placement, 3-D and 2-D keypoints), lighting
                       densepose.json this sample's COCO image entry and annotations
                       points.npy     optional (N, 4) float32: x, y, z, inside (1/0)

A sample folder is built under a hidden temporary name (starting with ``.``) and renamed into place
when complete, so a folder ``samples/NNNNNN`` always holds a whole sample.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from human3d.errors import Human3DError
from human3d.geometry.cameras import Camera

DATASET = "dataset.json"
COCO = "densepose_coco.json"
SAMPLES = "samples"

RGB = "rgb.png"
MASK = "mask.png"
IUV = "iuv.png"
PARTS = "parts.png"
LABELS = "labels.png"
INSTANCE = "instance.png"
MESH = "mesh.ply"
CAMERA = "camera.json"
META = "meta.json"
DENSEPOSE = "densepose.json"
POINTS = "points.npy"
FITTED_BODY = "fitted_body.npz"  # optional: anny fitted to the rendered photo (body-guided PIFuHD training)
SIDES = ("front", "back")

EVAL_FILES = (RGB, MASK, CAMERA, MESH)
"""What reconstruction evaluation needs of a sample."""


def normal_map(which: str) -> str:
    """File name of the ``which`` ("front" or "back") normal map."""
    return f"normal_{which}.png"


def depth_map(which: str) -> str:
    """File name of the ``which`` ("front" or "back") depth map."""
    return f"depth_{which}.png"


# ---------------------------------------------------------------- folders


def sample_name(index: int) -> str:
    """Folder name of sample ``index``."""
    return f"{index:06d}"


def image_file_name(index: int) -> str:
    """The COCO ``file_name`` of sample ``index``'s image, relative to the run folder."""
    return f"{SAMPLES}/{sample_name(index)}/{RGB}"


def is_finished(out: Path, index: int) -> bool:
    """True when sample ``index`` has been written completely under the run folder ``out``."""
    return (Path(out) / SAMPLES / sample_name(index) / DENSEPOSE).is_file()


def densepose_fragments(out: Path) -> list[Path]:
    """Every finished sample's ``densepose.json`` under the run folder ``out``, sorted."""
    return sorted((Path(out) / SAMPLES).glob(f"[0-9]*/{DENSEPOSE}"))


def finished_sample_dirs(root: Path) -> list[Path]:
    """The finished sample folders of a run folder, sorted (a one-line error when there are none)."""
    dirs = [fragment.parent for fragment in densepose_fragments(root)]
    if not dirs:
        raise Human3DError.for_path(root, f"no finished samples (expected {SAMPLES}/NNNNNN/ from `human3d synth`)")
    return dirs


def sample_dirs(data_dir: str | Path) -> list[Path]:
    """Sample folders of a ``human3d synth`` run (``DIR/samples/*``) or a folder of sample folders, sorted."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise Human3DError.for_path(data_dir, "data folder not found")
    root = data_dir / SAMPLES if (data_dir / SAMPLES).is_dir() else data_dir
    # names starting with "." are samples still being written (the data engine's temporary folders)
    found = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and (p / RGB).is_file())
    if not found:
        raise Human3DError.for_path(data_dir, f"no samples (folders with {', '.join(EVAL_FILES)})")
    return found


def stored_point_count(root: Path) -> int:
    """Labelled points per sample in ``points.npy`` of the first sample (0 when there are none)."""
    first = next(iter(sorted((Path(root) / SAMPLES).glob(f"[0-9]*/{POINTS}"))), None)
    return 0 if first is None else int(np.load(first, mmap_mode="r").shape[0])


# ---------------------------------------------------------------- readers


def imread(path: Path, flags: int) -> np.ndarray:
    """``cv2.imread`` with a one-line error for a missing or unreadable image."""
    image = cv2.imread(str(path), flags) if Path(path).is_file() else None  # no OpenCV warning for a missing file
    if image is None:
        raise Human3DError.for_path(path, "missing or not an image")
    return image


def read_image_rgb(path: Path) -> np.ndarray:
    """A colour image file (a sample's or a COCO dataset's) as uint8 RGB (H, W, 3)."""
    return imread(path, cv2.IMREAD_COLOR)[..., ::-1]


def read_rgb(sample_dir: Path) -> np.ndarray:
    """The sample's image, uint8 RGB (H, W, 3)."""
    return read_image_rgb(Path(sample_dir) / RGB)


def read_mask(sample_dir: Path) -> np.ndarray:
    """The sample's person mask, bool (H, W)."""
    return imread(Path(sample_dir) / MASK, cv2.IMREAD_GRAYSCALE) > 0


def read_normal_png(sample_dir: Path, which: str = "front") -> np.ndarray:
    """The encoded normal map as stored: uint8 RGB (H, W, 3) = round((n + 1) / 2 * 255), 0 off the mask."""
    return imread(Path(sample_dir) / normal_map(which), cv2.IMREAD_COLOR)[..., ::-1]


def read_normals(sample_dir: Path, which: str = "front") -> np.ndarray:
    """Normal map (H, W, 3) float32 in [-1, 1] of a written sample (0 off the mask)."""
    raw = read_normal_png(sample_dir, which).astype(np.float32)
    mask = read_mask(sample_dir)
    return np.where(mask[..., None], raw / 255.0 * 2.0 - 1.0, 0.0).astype(np.float32)


def _read_json(path: Path, what: str) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise Human3DError.for_path(path, f"unreadable {what} ({type(error).__name__})") from None


def read_meta(sample_dir: Path) -> dict:
    """The sample's ``meta.json`` (people, lighting); a one-line error when it is missing or not JSON."""
    return _read_json(Path(sample_dir) / META, "sample description")


def read_camera_json(sample_dir: Path) -> dict:
    """The raw ``camera.json`` (the one parser of it; a one-line error when it is missing or not JSON)."""
    return _read_json(Path(sample_dir) / CAMERA, "camera")


def read_camera(sample_dir: Path) -> tuple[Camera, dict]:
    """The camera of a written sample and the raw camera.json (with depth_offset/depth_unit)."""
    data = read_camera_json(sample_dir)
    return Camera.from_dict(data), data


def read_calib(sample_dir: Path) -> tuple[np.ndarray, tuple[int, int]]:
    """The sample's ``pifu_calib`` (world -> image crop frame) and image (width, height); the camera
    must be orthographic."""
    path = Path(sample_dir) / CAMERA
    data = read_camera_json(sample_dir)
    try:
        size = (int(data["width"]), int(data["height"]))
    except (ValueError, KeyError, TypeError) as error:
        raise Human3DError.for_path(path, f"unreadable camera ({type(error).__name__})") from None
    if data.get("kind") != "orthographic" or "pifu_calib" not in data:
        raise Human3DError.for_path(
            path, f"needs a square orthographic camera (found {data.get('kind')!r}); render with --camera orthographic"
        )
    return np.asarray(data["pifu_calib"], dtype=np.float64), size


def read_depth(sample_dir: Path, which: str = "front") -> np.ndarray:
    """Depth map (H, W) float32 metres of a written sample (0 off the mask)."""
    _, data = read_camera(sample_dir)
    raw = imread(Path(sample_dir) / depth_map(which), cv2.IMREAD_UNCHANGED).astype(np.float64)
    depth = (raw - 1) * data["depth_unit"] + data["depth_offset"]
    return np.where(raw > 0, depth, 0).astype(np.float32)


def read_iuv(sample_dir: Path) -> np.ndarray:
    """IUV map (H, W, 3) float32: I (0..24), U, V in [0, 1]."""
    raw = imread(Path(sample_dir) / IUV, cv2.IMREAD_COLOR)[..., ::-1].astype(np.float32)
    return np.stack([raw[..., 0], raw[..., 1] / 255.0, raw[..., 2] / 255.0], axis=-1)


def has_iuv(sample_dir: Path) -> bool:
    """Whether ``sample_dir`` holds a dense IUV map (a synth sample; real images do not)."""
    return (Path(sample_dir) / IUV).is_file()


def read_fitted_body(sample_dir: Path) -> tuple[np.ndarray, np.ndarray] | None:
    """The body fitted to the sample's photo: skin vertices (V, 3) in the fit's camera frame (OpenCV, metres)
    and that camera's ``[focal, cx, cy]`` in pixels; None when the sample has none."""
    stored = Path(sample_dir) / FITTED_BODY
    if not stored.is_file():
        return None
    with np.load(stored) as data:
        return data["vertices"], data["intrinsics"]


def write_fitted_body(sample_dir: Path, vertices: np.ndarray, intrinsics: list[float]) -> None:
    """Store a body fitted to the sample's photo (see :func:`read_fitted_body`), atomically."""
    target = Path(sample_dir) / FITTED_BODY
    partial = target.with_name(f".{FITTED_BODY}.partial.npz")
    np.savez(partial, vertices=np.asarray(vertices, np.float32), intrinsics=np.asarray(intrinsics, np.float64))
    partial.replace(target)


def read_points(sample_dir: Path) -> np.ndarray | None:
    """The stored labelled points (N, 4) float32 (x, y, z, inside), or None when the sample has none."""
    stored = Path(sample_dir) / POINTS
    return np.load(stored) if stored.is_file() else None
