"""The on-disk layout of a synthetic dataset: writing (atomic, resumable, sharded, multi-process)
and reading back one sample.

Layout, file names and readers: :mod:`human3d.formats.synth_sample`.

A sample folder is built under a hidden temporary name and renamed into place when complete, so a
folder ``samples/NNNNNN`` always holds a whole sample; a re-run skips the indices already there.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import tempfile
from pathlib import Path

import cv2
import numpy as np

from human3d.errors import Human3DError
from human3d.formats import densepose_coco as coco
from human3d.formats import synth_sample as layout
from human3d.formats.synth_sample import is_finished, sample_name
from human3d.io.atomic import write_text_atomic
from human3d.synth.scene import Sample, SceneConfig, make_sample

FORMAT = "human3d-synth"
VERSION = 1
DEPTH_UNIT = 1e-4  # metres per step of the uint16 depth maps
PNG_FLAGS = [cv2.IMWRITE_PNG_COMPRESSION, 1]
MAX_PEOPLE = 100


def shard_indices(count: int, shard: int, shards: int) -> list[int]:
    """The sample indices of shard ``shard`` (0-based) of ``shards``: every ``shards``-th index."""
    if shards < 1 or not 0 <= shard < shards:
        raise ValueError(f"shard {shard}/{shards}: need 0 <= I < N")
    return list(range(shard, count, shards))


def _write_png(path: Path, image: np.ndarray) -> None:
    if image.ndim == 3:
        image = image[..., ::-1]  # RGB -> OpenCV's BGR
    if not cv2.imwrite(str(path), np.ascontiguousarray(image), PNG_FLAGS):
        raise Human3DError.for_path(path, "could not write PNG")


def _normals_png(normals: np.ndarray, mask: np.ndarray) -> np.ndarray:
    encoded = np.clip(np.rint((normals + 1.0) * 0.5 * 255), 0, 255).astype(np.uint8)
    return np.where(mask[..., None], encoded, 0).astype(np.uint8)


def _depth_png(depth: np.ndarray, mask: np.ndarray, offset: float) -> np.ndarray:
    steps = np.clip(np.rint((depth - offset) / DEPTH_UNIT) + 1, 1, 65535)
    return np.where(mask, steps, 0).astype(np.uint16)


def write_ply(path: Path, vertices: np.ndarray, faces: np.ndarray) -> None:
    """Binary little-endian PLY (float32 x y z; uchar-count int32 faces)."""
    header = (
        "ply\nformat binary_little_endian 1.0\n"
        f"element vertex {len(vertices)}\nproperty float x\nproperty float y\nproperty float z\n"
        f"element face {len(faces)}\nproperty list uchar int vertex_indices\nend_header\n"
    )
    face_records = np.zeros(len(faces), dtype=[("n", "u1"), ("i", "<i4", (3,))])
    face_records["n"] = 3
    face_records["i"] = faces
    with open(path, "wb") as handle:
        handle.write(header.encode("ascii"))
        handle.write(np.ascontiguousarray(vertices, dtype="<f4").tobytes())
        handle.write(face_records.tobytes())


def _round(value, digits: int = 6):
    return np.round(np.asarray(value, dtype=np.float64), digits).tolist()


def _annotations(sample: Sample) -> tuple[dict, list[dict]]:
    image_id = sample.index + 1
    height, width = sample.maps.mask.shape
    image = {"id": image_id, "file_name": layout.image_file_name(sample.index), "width": width, "height": height}
    rng = np.random.default_rng([sample.index, 17])
    annotations = []
    for k in range(len(sample.people)):
        person_mask = sample.maps.instance == k + 1
        if not person_mask.any():
            continue
        annotations.append(
            coco.person_annotation(
                image_id * MAX_PEOPLE + k, image_id, sample.maps.iuv, person_mask, rng, sample.keypoints_2d[k]
            )
        )
    return image, annotations


def write_sample(samples_dir: Path, sample: Sample) -> Path:
    """Write every file of ``sample`` into ``samples_dir/NNNNNN`` (atomically: temp folder, rename)."""
    final = samples_dir / sample_name(sample.index)
    work = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=samples_dir))
    try:
        maps, mask = sample.maps, sample.maps.mask
        depth_offset = float(np.floor(maps.depth_front[mask].min() * 100) / 100 - 0.01) if mask.any() else 0.0
        _write_png(work / layout.RGB, sample.rgb)
        _write_png(work / layout.MASK, mask.astype(np.uint8) * 255)
        _write_png(work / layout.normal_map("front"), _normals_png(maps.normal_front, mask))
        _write_png(work / layout.normal_map("back"), _normals_png(maps.normal_back, mask))
        _write_png(work / layout.depth_map("front"), _depth_png(maps.depth_front, mask, depth_offset))
        _write_png(work / layout.depth_map("back"), _depth_png(maps.depth_back, mask, depth_offset))
        iuv = np.stack([maps.iuv[..., 0], maps.iuv[..., 1] * 255, maps.iuv[..., 2] * 255], -1)
        _write_png(work / layout.IUV, np.where(mask[..., None], np.clip(np.rint(iuv), 0, 255), 0).astype(np.uint8))
        _write_png(work / layout.PARTS, coco.COARSE_OF_FINE[np.rint(maps.iuv[..., 0]).astype(np.int64)] * mask)
        _write_png(work / layout.LABELS, maps.label)
        _write_png(work / layout.INSTANCE, maps.instance)
        write_ply(work / layout.MESH, sample.mesh_vertices, sample.mesh_faces)
        camera = {**sample.camera.to_dict(), "depth_offset": depth_offset, "depth_unit": DEPTH_UNIT}
        (work / layout.CAMERA).write_text(json.dumps(camera, sort_keys=True, indent=1))
        lighting = sample.lighting
        meta = {
            "index": sample.index,
            "people": [
                {
                    **p.description,
                    "keypoints_3d": _round(p.keypoints) if np.isfinite(p.keypoints).all() else None,
                    "keypoints_2d": _round(sample.keypoints_2d[k], 3),
                }
                for k, p in enumerate(sample.people)
            ],
            "lighting": {"ambient": _round(lighting.ambient), "direction": _round(lighting.direction),
                         "color": _round(lighting.color), "sh": _round(lighting.sh)},  # fmt: skip
        }
        if sample.camera_effects is not None:
            meta["camera_effects"] = sample.camera_effects
        (work / layout.META).write_text(json.dumps(meta, sort_keys=True, indent=1))
        image, annotations = _annotations(sample)
        (work / layout.DENSEPOSE).write_text(json.dumps({"image": image, "annotations": annotations}, sort_keys=True))
        if sample.points is not None:
            table = np.concatenate([sample.points, sample.inside[:, None].astype(np.float32)], axis=1).astype("<f4")
            np.save(work / layout.POINTS, table)
        os.chmod(work, 0o755)
        os.rename(work, final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return final


# ---------------------------------------------------------------- runs


def _settings(seed: int, count: int, config: SceneConfig) -> dict:
    return {"format": FORMAT, "version": VERSION, "seed": seed, **config.to_dict(), "count": count}


def prepare_output(out: Path, seed: int, count: int, config: SceneConfig) -> None:
    """Create ``out`` (or check that an earlier run there used the same settings)."""
    settings = _settings(seed, count, config)
    try:
        (out / layout.SAMPLES).mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=out, prefix=".probe.", delete=True)
        probe.close()
    except OSError as error:
        raise Human3DError.for_path(out, f"cannot write the output folder ({error.strerror or error})") from error
    existing = out / layout.DATASET
    if existing.is_file():
        try:
            previous = json.loads(existing.read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise Human3DError.for_path(existing, "unreadable dataset.json") from error
        different = {k: (previous.get(k), v) for k, v in settings.items() if k != "count" and previous.get(k) != v}
        if different:
            raise Human3DError.for_path(
                out, f"holds a run with other settings {different} (old, new); use another folder"
            )
        settings["count"] = max(settings["count"], int(previous.get("count", 0)))
    write_text_atomic(existing, json.dumps(settings, sort_keys=True, indent=1))


def _init_worker(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


def _generate_one(job: tuple[Path, int, int, SceneConfig]) -> int:
    """Make and write one sample (in a worker or in the main process)."""
    from human3d.body.model import get_body_model

    out, index, seed, config = job
    body_model = None if config.scans else get_body_model("cpu")
    write_sample(out / layout.SAMPLES, make_sample(index, seed, config, body_model))
    return index


def generate(
    out: str | Path,
    count: int,
    seed: int,
    config: SceneConfig,
    shard: tuple[int, int] = (0, 1),
    workers: int = 1,
    progress: bool = True,
) -> list[int]:
    """Write the samples of one shard that are not finished yet; then rebuild the COCO JSON.

    Returns the indices written by this call."""
    from tqdm import tqdm

    out = Path(out)
    todo_all = shard_indices(count, *shard)
    prepare_output(out, seed, count, config)
    todo = [i for i in todo_all if not is_finished(out, i)]
    jobs = [(out, i, seed, config) for i in todo]
    with tqdm(total=len(jobs), desc="synth", unit="sample", disable=not progress) as bar:
        if workers <= 1 or len(jobs) <= 1:
            for job in jobs:
                _generate_one(job)
                bar.update()
        else:
            context = multiprocessing.get_context("spawn")
            threads = max(1, (os.cpu_count() or 1) // workers)
            with context.Pool(workers, initializer=_init_worker, initargs=(threads,)) as pool:
                for _ in pool.imap_unordered(_generate_one, jobs):
                    bar.update()
    write_coco_json(out)
    return todo


def write_coco_json(out: str | Path) -> Path:
    """Rebuild ``OUT/densepose_coco.json`` from every finished sample's ``densepose.json``."""
    out = Path(out)
    images, annotations = [], []
    for fragment in layout.densepose_fragments(out):
        data = json.loads(fragment.read_text())
        images.append(data["image"])
        annotations.extend(data["annotations"])
    target = out / layout.COCO
    coco.write_coco(target, coco.coco_document(images, annotations))
    return target
