"""Read and write checkpoints in the official PIFuHD file format without running pickled code.

The official ``pifuhd.pt`` is a legacy (pre-1.6, non-zip) ``torch.save`` stream: four small pickles
(magic number, protocol version, system info, the object), the sorted list of storage keys, then the
raw little-endian storages. The object pickle may only reference the few globals the format needs;
anything else (``os.system``, ``builtins.eval``, a model class...) is refused before it can run.
Zip-format files (``torch.save`` since 1.6) are read with torch's own ``weights_only`` loader, memory-mapped.
"""

from __future__ import annotations

import argparse
import collections
import pickle
import struct
import sys
import zipfile
from pathlib import Path
from typing import Any, BinaryIO

import torch

from human3d.errors import Human3DError
from human3d.io.atomic import atomic_path
from human3d.io.safe_pickle import AllowListUnpickler, UnsafePickleError

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001
_SYS_INFO = {
    "protocol_version": LEGACY_PROTOCOL,
    "little_endian": True,
    "type_sizes": {"short": 2, "int": 4, "long": 4},
}

# Storage class name in the file -> dtype (the legacy typed storages).
_STORAGE_DTYPES = {
    "FloatStorage": torch.float32,
    "DoubleStorage": torch.float64,
    "HalfStorage": torch.float16,
    "BFloat16Storage": torch.bfloat16,
    "LongStorage": torch.int64,
    "IntStorage": torch.int32,
    "ShortStorage": torch.int16,
    "CharStorage": torch.int8,
    "ByteStorage": torch.uint8,
    "BoolStorage": torch.bool,
}
_STORAGE_NAMES = {dtype: name for name, dtype in _STORAGE_DTYPES.items()}


class _StorageType:
    """Stand-in for ``torch.<X>Storage`` while unpickling: only carries the dtype."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.dtype = _STORAGE_DTYPES[name]


def _rebuild_tensor(storage: torch.Tensor, offset: int, size: tuple, stride: tuple, *_: Any) -> torch.Tensor:
    """Safe replacement for ``torch._utils._rebuild_tensor_v2``: a strided view of a flat storage."""
    return storage.as_strided(tuple(size), tuple(stride), int(offset))


def _rebuild_parameter(data: torch.Tensor, requires_grad: bool, *_: Any) -> torch.Tensor:
    """Safe replacement for ``torch._utils._rebuild_parameter``: parameters load as plain tensors."""
    return data


_ALLOWED_GLOBALS = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("argparse", "Namespace"): argparse.Namespace,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
}


class _RestrictedUnpickler(AllowListUnpickler):
    """Unpickler for the object pickle of a legacy checkpoint; storages come from ``storages``."""

    allowed = _ALLOWED_GLOBALS

    def __init__(self, stream: BinaryIO, storages: dict[str, torch.Tensor]) -> None:
        super().__init__(stream, encoding="latin1")
        self._storages = storages

    def find_class(self, module: str, name: str) -> Any:
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        return super().find_class(module, name)

    def persistent_load(self, pid: Any) -> torch.Tensor:
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r:.80}")
        storage_type, key, _location, numel = pid[1:5]
        if not isinstance(storage_type, _StorageType) or not isinstance(numel, int) or numel < 0:
            raise pickle.UnpicklingError(f"malformed storage reference {pid!r:.80}")
        key = str(key)
        if key not in self._storages:
            # Allocated now, filled from the raw blobs that follow the pickles.
            self._storages[key] = torch.empty(numel, dtype=storage_type.dtype)
        return self._storages[key]


class _HeaderUnpickler(AllowListUnpickler):
    """For the three header pickles: plain numbers and dicts, no globals at all."""


def load_checkpoint(path: str | Path) -> Any:
    """Load a checkpoint (legacy or zip ``torch.save`` format) onto the CPU without executing code.

    Raises :class:`Human3DError` naming ``path`` for a missing, truncated, corrupt or unsafe file.
    """
    path = Path(path)
    if not path.is_file():
        raise Human3DError.for_path(path, "checkpoint not found")
    if zipfile.is_zipfile(path):
        return _load_zip(path)
    try:
        with open(path, "rb") as stream:
            return _load_legacy(stream, path)
    except UnsafePickleError as error:
        raise Human3DError.for_path(
            path, f"refused to load: the pickle references {error}, which a checkpoint never needs (it could run code)"
        ) from None


def _load_zip(path: Path) -> Any:
    try:
        with torch.serialization.safe_globals([argparse.Namespace]):
            return torch.load(path, map_location="cpu", weights_only=True, mmap=True)  # pages read on first use
    except pickle.UnpicklingError as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise Human3DError.for_path(path, f"refused to load: {first_line}") from None
    except Exception as error:  # noqa: BLE001 - any failure of a corrupt zip becomes one line
        raise Human3DError.for_path(path, f"corrupt checkpoint ({type(error).__name__})") from None


def _load_legacy(stream: BinaryIO, path: Path) -> Any:
    try:
        magic = _HeaderUnpickler(stream).load()
    except UnsafePickleError as error:
        if str(error).startswith("numpy."):
            raise Human3DError.for_path(
                path, "not a PyTorch checkpoint (a plain pickle of numpy arrays, e.g. a Detectron2/DensePose .pkl)"
            ) from None
        raise
    except Exception:  # noqa: BLE001 - whatever the bytes are, they are not a checkpoint
        magic = None
    if magic != LEGACY_MAGIC:
        raise Human3DError.for_path(path, "not a PyTorch checkpoint (no torch.save header)")
    try:
        protocol = _HeaderUnpickler(stream).load()
        sys_info = _HeaderUnpickler(stream).load()
    except UnsafePickleError:
        raise
    except (EOFError, pickle.UnpicklingError) as error:
        raise Human3DError.for_path(path, f"truncated or corrupt checkpoint header ({type(error).__name__})") from None
    if protocol != LEGACY_PROTOCOL or not isinstance(sys_info, dict) or not sys_info.get("little_endian", False):
        raise Human3DError.for_path(path, "unsupported torch.save variant (expected protocol 1001, little endian)")
    storages: dict[str, torch.Tensor] = {}
    try:
        obj = _RestrictedUnpickler(stream, storages).load()
        keys = _HeaderUnpickler(stream).load()
    except UnsafePickleError:
        raise
    except Exception as error:  # noqa: BLE001
        raise Human3DError.for_path(path, f"truncated or corrupt checkpoint ({type(error).__name__})") from None
    if not isinstance(keys, list) or sorted(map(str, keys)) != sorted(storages):
        raise Human3DError.for_path(path, "corrupt checkpoint: storage list does not match the tensors")
    for key in keys:
        _read_storage(stream, storages[str(key)], path)
    return obj


def _read_storage(stream: BinaryIO, storage: torch.Tensor, path: Path) -> None:
    header = stream.read(8)
    if len(header) != 8:
        raise Human3DError.for_path(path, "truncated checkpoint (storage data ends early)")
    (numel,) = struct.unpack("<q", header)
    if numel != storage.numel():
        raise Human3DError.for_path(path, "corrupt checkpoint: storage size differs from its reference")
    buffer = storage.view(torch.uint8).numpy()
    if stream.readinto(memoryview(buffer)) != buffer.nbytes:
        raise Human3DError.for_path(path, "truncated checkpoint (storage data ends early)")


class _LegacyPickler(pickle.Pickler):
    """Pickles tensors the way legacy ``torch.save`` did: storages become persistent ids."""

    def __init__(self, stream: BinaryIO, location: str) -> None:
        super().__init__(stream, protocol=2)
        self.location = location
        self.storages: dict[str, torch.Tensor] = {}
        self._keys_by_storage: dict[tuple[int, int], str] = {}

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, torch.Tensor):
            return self._reduce_tensor(obj)
        return NotImplemented

    def _reduce_tensor(self, tensor: torch.Tensor) -> tuple:
        tensor = tensor.detach().cpu()
        if tensor.dtype not in _STORAGE_NAMES:
            raise TypeError(f"cannot write tensors of dtype {tensor.dtype} in the legacy format")
        storage = tensor.untyped_storage()
        identity = (storage.data_ptr(), storage.nbytes())
        key = self._keys_by_storage.get(identity)
        if key is None or storage.nbytes() == 0:
            key = str(len(self.storages))
            self._keys_by_storage[identity] = key
            flat = torch.empty(0, dtype=tensor.dtype).set_(storage, 0, (storage.nbytes() // tensor.element_size(),))
            self.storages[key] = flat
        reference = _StorageReference(key, self.location, tensor.dtype, self.storages[key].numel())
        return (
            torch._utils._rebuild_tensor_v2,
            (
                reference,
                tensor.storage_offset(),
                tuple(tensor.shape),
                tensor.stride(),
                False,
                collections.OrderedDict(),
            ),
        )

    def persistent_id(self, obj: Any) -> Any:
        if isinstance(obj, _StorageReference):
            storage_class = getattr(torch, _STORAGE_NAMES[obj.dtype])
            return ("storage", storage_class, obj.key, obj.location, obj.numel, None)
        return None


class _StorageReference:
    def __init__(self, key: str, location: str, dtype: torch.dtype, numel: int) -> None:
        self.key, self.location, self.dtype, self.numel = key, location, dtype, numel


def save_checkpoint(obj: Any, path: str | Path, location: str = "cuda:0") -> None:
    """Write ``obj`` atomically in the legacy ``torch.save`` format of the official ``pifuhd.pt``.

    Tensors sharing a storage (the aliased ``bn4``/``downsample.0`` entries) are written once;
    storages are tagged with ``location`` (``'cuda:0'`` as in the official file, or ``'cpu'``).
    """
    if sys.byteorder != "little":
        raise RuntimeError("writing the legacy format needs a little-endian machine")
    with atomic_path(path) as tmp, open(tmp, "wb") as stream:
        for header in (LEGACY_MAGIC, LEGACY_PROTOCOL, _SYS_INFO):
            pickle.dump(header, stream, protocol=2)
        pickler = _LegacyPickler(stream, location)
        pickler.dump(obj)
        keys = sorted(pickler.storages)
        pickle.dump(keys, stream, protocol=2)
        for key in keys:
            storage = pickler.storages[key].contiguous()
            stream.write(struct.pack("<q", storage.numel()))
            stream.write(memoryview(storage.view(torch.uint8).numpy()))
