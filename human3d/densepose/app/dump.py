"""Write and read DensePose results as ``.npz`` or ``.json`` (atomically, as they come).

One image: keys ``boxes_xyxy`` (N, 4 float32), ``scores`` (N float32), and per instance k
``labels_k`` (H_k x W_k uint8) and ``uv_k`` (2 x H_k x W_k float32). Several images or video
frames: the same keys prefixed with ``<frame name>/`` in one file, plus ``frames`` (their names, in order).

:class:`DumpWriter` writes each result into a temporary file beside the dump as soon as it is given (the
``.npz`` is a zip of ``.npy`` members, as :func:`numpy.savez_compressed` writes it), so a long video's
results are never all in memory; the file takes the dump's name only when the writer closes without error.
"""

from __future__ import annotations

import contextlib
import json
import zipfile
from pathlib import Path
from types import TracebackType
from typing import IO, Sequence

import numpy as np

from human3d.densepose.result import DensePoseResult
from human3d.errors import Human3DError
from human3d.io.atomic import atomic_path

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


class DumpWriter:
    """A dump written result by result; use as a context manager. ``named``: whether results are stored
    under their names (several images or frames) or alone (one image: :meth:`add` once). The file is
    begun by the first result: with none, nothing is written."""

    def __init__(self, path: str | Path, named: bool = True) -> None:
        self.path, self.named = Path(path), named
        if self.path.suffix.lower() not in DUMP_SUFFIXES:
            raise Human3DError.for_path(self.path, "dump file must end in .npz or .json")
        self.names: list[str] = []
        self.stack = contextlib.ExitStack()
        self.archive: zipfile.ZipFile | None = None
        self.text: IO[str] | None = None
        self.keys = 0

    def __enter__(self) -> DumpWriter:
        return self

    def _begin(self) -> None:
        temporary = self.stack.enter_context(atomic_path(self.path))
        if self.path.suffix.lower() == ".npz":
            self.archive = self.stack.enter_context(zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED))
        else:
            self.text = self.stack.enter_context(temporary.open("w", encoding="utf-8"))
            self.text.write("{")

    def add(self, name: str, result: DensePoseResult) -> None:
        """Write one image's (or frame's) result."""
        if not self.named and self.names:
            raise ValueError("a dump without names holds one result")
        if not self.names:
            self._begin()
        prefix = f"{name}/" if self.named else ""
        for key, value in result_arrays(result).items():
            self._write(prefix + key, value)
        self.names.append(name)

    def _write(self, key: str, value: np.ndarray) -> None:
        if self.archive is not None:
            with self.archive.open(f"{key}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(value), allow_pickle=False)
        elif self.text is not None:
            self.text.write(("," if self.keys else "") + json.dumps(key) + ":"
                            + json.dumps(value.tolist(), separators=(",", ":")))
        self.keys += 1

    def _finish(self) -> None:
        if self.named:
            self._write("frames", np.array(self.names, dtype=str))
        if self.text is not None:
            self.text.write("}")

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> bool | None:
        if error is None and self.names:
            try:
                self._finish()
            except BaseException as failure:  # leave nothing behind, then say why
                self.stack.__exit__(type(failure), failure, failure.__traceback__)
                raise
        return self.stack.__exit__(kind, error, traceback)


def write_dump(path: str | Path, results: Sequence[tuple[str, DensePoseResult]], named: bool | None = None) -> None:
    """Write ``(name, result)`` pairs; unless ``named`` (default: more than one pair), without name prefixes."""
    with DumpWriter(path, len(results) != 1 if named is None else named) as writer:
        for name, result in results:
            writer.add(name, result)


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
