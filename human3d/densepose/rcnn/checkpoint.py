"""Read detectron2 model-zoo DensePose checkpoints (``.pkl``: a pickled dict of numpy arrays) safely.

The unpickler only resolves the handful of globals a dict of numpy arrays needs; a pickle that
names anything else (``os.system``, ``builtins.eval``, ...) is refused before it can run.
"""

from __future__ import annotations

import pickle
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from human3d.errors import Human3DError
from human3d.io.atomic import atomic_path
from human3d.io.safe_pickle import AllowListUnpickler, UnsafePickleError

_ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): OrderedDict,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): __import__("codecs").encode,  # bytes pickled by Python 2 / protocol < 3
    ("builtins", "bytearray"): bytearray,
}
for _module in ("numpy.core.multiarray", "numpy._core.multiarray"):
    _ALLOWED_GLOBALS[(_module, "_reconstruct")] = np.ndarray.__reduce__(np.zeros(1))[0]
    _ALLOWED_GLOBALS[(_module, "scalar")] = np.float32(0).__reduce__()[0]
for _module in ("numpy.core.numeric", "numpy._core.numeric"):
    _ALLOWED_GLOBALS[(_module, "_frombuffer")] = np.ndarray.__reduce_ex__(np.zeros(1), 5)[0]


class _ArrayDictUnpickler(AllowListUnpickler):
    """An unpickler that only builds dicts, lists, numbers, strings and numpy arrays."""

    allowed = _ALLOWED_GLOBALS

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError("persistent ids")


def _is_zip(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(4) == b"PK\x03\x04"


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Parameter name -> float32 tensor from a model-zoo ``.pkl`` (or a ``.pth`` state dict).

    Follows detectron2's reading of model-zoo files: the mapping lives under ``"model"`` when
    present, a leading ``module.`` is stripped. Raises ``Human3DError`` naming the file for a
    missing, corrupt, unsafe or non-DensePose file.
    """
    path = Path(path)
    if not path.is_file():
        raise Human3DError.for_path(path, "checkpoint not found")
    try:
        if _is_zip(path):  # torch.save format (.pth); weights_only refuses code as well
            data = torch.load(path, map_location="cpu", weights_only=True)
        else:
            with open(path, "rb") as f:
                data = _ArrayDictUnpickler(f, encoding="latin1").load()
    except UnsafePickleError as error:
        raise Human3DError.for_path(path, f"unsafe checkpoint, not loaded (refusing to load {error}; "
                                          "only numpy arrays are allowed)") from None
    except Exception as error:  # truncated / garbage files raise many kinds of errors
        raise Human3DError.for_path(path, f"corrupt checkpoint ({type(error).__name__}: {error})") from None
    if isinstance(data, dict) and "blobs" in data and "model" not in data:
        raise Human3DError.for_path(path, "a Caffe2/Detectron1 blob file, not a detectron2 DensePose checkpoint")
    if isinstance(data, dict) and isinstance(data.get("model"), dict):
        data = data["model"]
    if not isinstance(data, dict) or not data:
        raise Human3DError.for_path(path, "checkpoint holds no parameter dictionary")
    state: dict[str, torch.Tensor] = {}
    for name, value in data.items():
        if not isinstance(name, str) or not isinstance(value, (np.ndarray, torch.Tensor)):
            continue  # e.g. an iteration counter beside the weights
        tensor = torch.from_numpy(np.ascontiguousarray(value)) if isinstance(value, np.ndarray) else value
        state[name.removeprefix("module.")] = tensor.float()
    if not state:
        raise Human3DError.for_path(path, "checkpoint holds no arrays")
    return state


def write_state_dict(state: dict[str, torch.Tensor], path: str | Path, author: str = "human3d") -> Path:
    """Write ``state`` as a detectron2 model-zoo ``.pkl``: ``{"model": {name: float32 ndarray}, "__author__"}``.

    The file is written atomically and reads back with :func:`read_state_dict` / ``build_densepose``
    (and with detectron2's own checkpointer).
    """
    model = OrderedDict((name, np.ascontiguousarray(tensor.detach().float().cpu().numpy()))
                        for name, tensor in state.items())
    with atomic_path(path) as temporary, open(temporary, "wb") as f:
        pickle.dump({"model": model, "__author__": author}, f, protocol=4)
    return Path(path)
