"""MediaPipe's real-photo models, as shipped inside the ``mediapipe==0.10.14`` wheel (Apache-2.0).

The pose detector, the full pose landmark model and the selfie segmentation model are plain ``.tflite``
files there (registered in :mod:`human3d.weights.registry`, task ``people``); :func:`litert_interpreter`
runs one directly with LiteRT. MediaPipe's Tasks ``PoseLandmarker`` (which finds several people and
returns their segmentation masks) wants the first two in a ``.task`` bundle whose models carry
image-normalisation metadata; :func:`pose_task_bundle` writes that metadata (mean 0, std 255: inputs in
[0, 1], as the models expect) with MediaPipe's own writer and bundles the two files once per machine
under ``$HUMAN3D_CACHE/people``. Nothing is downloaded.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import sys
import warnings
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator

from human3d.errors import Human3DError
from human3d.io.atomic import write_bytes_atomic
from human3d.io.cache import cache_dir
from human3d.weights.registry import get_weights

MEDIAPIPE_VERSION = "0.10.14"
# the bundle's member names, the registry's entries and each model's output count, as PoseLandmarker wants them
BUNDLE_MEMBERS = (("pose_detector.tflite", "mediapipe_pose_detector", 2),
                  ("pose_landmarks_detector.tflite", "mediapipe_pose_landmarker_full", 5))


def import_mediapipe() -> ModuleType:
    """The ``mediapipe`` module, or a one-line error saying how to install the version that ships the models."""
    os.environ.setdefault("GLOG_minloglevel", "2")  # no MediaPipe start-up log lines on stderr
    # protobuf's deprecation notice, raised inside MediaPipe at import and at every inference
    warnings.filterwarnings("ignore", message="SymbolDatabase.GetPrototype", category=UserWarning)
    try:
        import mediapipe
    except ImportError:
        raise Human3DError(f"the people finder needs mediapipe=={MEDIAPIPE_VERSION} "
                           f"(pip install mediapipe=={MEDIAPIPE_VERSION})") from None
    return mediapipe


def model_file(name: str) -> Path:
    """The registered model ``name``'s file inside the installed mediapipe (one-line error if it lacks it)."""
    import_mediapipe()
    path = get_weights(name).path
    if not path.is_file():
        raise Human3DError.for_path(path, f"model missing from the installed mediapipe; install "
                                          f"mediapipe=={MEDIAPIPE_VERSION}, the last release that ships it")
    return path


def litert_interpreter(name: str, threads: int = 1) -> Any:
    """LiteRT's interpreter (``ai-edge-litert``, XNNPACK kernels) of the registered model ``name``, its tensors
    allocated; a one-line error when LiteRT is missing."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        raise Human3DError("the people finder needs LiteRT (pip install ai-edge-litert)") from None
    with quiet_stderr():  # LiteRT's "Created TensorFlow Lite XNNPACK delegate" line
        interpreter = Interpreter(model_path=str(model_file(name)), num_threads=threads)
        interpreter.allocate_tensors()
    return interpreter


def with_normalisation(model: bytes, outputs: int) -> bytes:
    """``model`` (a .tflite file) with image-input metadata: pixel values divided by 255."""
    from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer

    writer = metadata_writer.MetadataWriter.create(bytearray(model))
    writer.add_image_input(norm_mean=[0.0], norm_std=[255.0])
    for index in range(outputs):
        writer.add_feature_output(name=f"output_{index}")
    written, _ = writer.populate()
    return bytes(written)


def pose_task_bundle() -> Path:
    """The ``.task`` bundle of the pose detector and landmarker, built once per machine (and per model files)."""
    sources = [(member, model_file(name), outputs) for member, name, outputs in BUNDLE_MEMBERS]
    digest = hashlib.sha256(b"".join(path.read_bytes() for _, path, _ in sources)).hexdigest()[:16]
    bundle = cache_dir("people") / f"pose_landmarker_full_{digest}.task"
    if bundle.is_file():
        return bundle
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for member, path, outputs in sources:
            archive.writestr(member, with_normalisation(path.read_bytes(), outputs))
    bundle.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(bundle, buffer.getvalue())
    return bundle


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Silence the process's stderr (file descriptor 2) for a while: MediaPipe's C++ log lines go there."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
