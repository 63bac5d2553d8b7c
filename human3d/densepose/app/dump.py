"""Write and read DensePose results as ``.npz`` or ``.json`` (atomically).

One image: keys ``boxes_xyxy`` (N, 4 float32), ``scores`` (N float32), and per instance k
``labels_k`` (H_k x W_k uint8) and ``uv_k`` (2 x H_k x W_k float32). Several images or video
frames: the same keys prefixed with ``<frame name>/`` in one file, plus ``frames`` (their names, in order).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Sequence

import numpy as np

from human3d.densepose.result import DensePoseResult
from human3d.errors import Human3DError
from human3d.io.atomic import write_bytes_atomic, write_text_atomic

DUMP_SUFFIXES = (".npz", ".json")


def result_arrays(result: DensePoseResult) -> dict[str, np.ndarray]:
    """The dump arrays of one image."""
    arrays = {"boxes_xyxy": result.boxes_xyxy.astype(np.float32).reshape(-1, 4),
              "scores": result.scores.astype(np.float32).reshape(-1)}
    for k, (labels, uv) in enumerate(zip(result.labels, result.uv)):
        arrays[f"labels_{k}"] = labels.astype(np.uint8)
        arrays[f"uv_{k}"] = uv.astype(np.float32)
    return arrays


def result_from_arrays(arrays: dict[str, np.ndarray]) -> DensePoseResult:
    """Inverse of :func:`result_arrays`."""
    n = len(arrays["scores"])
    return DensePoseResult(np.asarray(arrays["boxes_xyxy"], np.float32).reshape(-1, 4),
                           np.asarray(arrays["scores"], np.float32),
                           [np.asarray(arrays[f"labels_{k}"], np.uint8) for k in range(n)],
                           [np.asarray(arrays[f"uv_{k}"], np.float32) for k in range(n)])


def write_dump(path: str | Path, results: Sequence[tuple[str, DensePoseResult]], named: bool | None = None) -> None:
    """Write ``(name, result)`` pairs; unless ``named`` (default: more than one pair), without name prefixes."""
    path = Path(path)
    if path.suffix.lower() not in DUMP_SUFFIXES:
        raise Human3DError.for_path(path, "dump file must end in .npz or .json")
    if not (len(results) != 1 if named is None else named):
        arrays: dict[str, np.ndarray] = result_arrays(results[0][1])
    else:
        arrays = {"frames": np.array([name for name, _ in results])}
        for name, result in results:
            arrays.update({f"{name}/{key}": value for key, value in result_arrays(result).items()})
    if path.suffix.lower() == ".npz":
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        write_bytes_atomic(path, buffer.getvalue())
    else:
        write_text_atomic(path, json.dumps({k: v.tolist() for k, v in arrays.items()}, separators=(",", ":")))


def read_dump(path: str | Path) -> dict[str, DensePoseResult]:
    """Read a dump back: frame name -> result (a single-image dump gives the name ``""``)."""
    path = Path(path)
    try:
        if path.suffix.lower() == ".npz":
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
        else:
            arrays = {k: np.asarray(v) for k, v in json.loads(path.read_text()).items()}
    except (OSError, ValueError) as error:
        raise Human3DError.for_path(path, f"not a DensePose dump ({error.__class__.__name__})") from None
    if "frames" not in arrays:
        return {"": result_from_arrays(arrays)}
    return {str(name): result_from_arrays({k[len(name) + 1:]: v for k, v in arrays.items()
                                           if k.startswith(f"{name}/")}) for name in arrays["frames"]}
