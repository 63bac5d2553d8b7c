"""Every model human3d can load: where it comes from, its licence, where it lives, whether it is present.

Nothing here downloads anything. Official checkpoints are fetched by the user into the weights folder
(``$HUMAN3D_WEIGHTS``, default ``~/.cache/human3d/weights``); the package bundles its own small default
weights, trained on its licence-free synthetic data. ``human3d weights`` prints :func:`describe`.

This module imports no torch (``human3d weights`` and ``human3d --help`` stay fast).
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from human3d.densepose.rcnn.config import CONFIGS, DensePoseConfig
from human3d.errors import Human3DError

ENV_VAR = "HUMAN3D_WEIGHTS"
PACKAGE_DIR = Path(__file__).parent.parent  # the ``human3d`` package folder, home of the bundled files
TASKS = ("pifuhd", "densepose-rcnn", "densepose-light-people", "densepose-light", "people", "depth-lifter")
CHECKPOINT_TASKS = ("pifuhd", "densepose-rcnn", "densepose-light-people", "densepose-light")  # --checkpoint
OFFICIAL = "official download"
BUNDLED = "bundled in the package"
DEPENDENCY = "shipped in a dependency"
TASK_TITLES = {
    "pifuhd": "PIFuHD (human3d reconstruct, human3d eval reconstruction)",
    "densepose-rcnn": "DensePose R-CNN (human3d densepose / eval densepose --checkpoint FILE, train densepose --init)",
    "densepose-light-people": "light DensePose on the people finder's people (default of human3d densepose, "
                              "eval densepose and eval densepose-keypoints)",
    "densepose-light": "light DensePose, the network alone (human3d densepose --no-people-finder)",
    "people": "people finder (human3d people; reconstruct without a crop; --blur-faces)",
    "depth-lifter": "depth lifter: keypoint depths from BlazePose's landmarks (the body that bounds human3d "
                    "reconstruct)",
}
MEDIAPIPE = "mediapipe"  # the wheel of mediapipe==0.10.14 ships these models
MEDIAPIPE_UPSTREAM = "https://github.com/google-ai-edge/mediapipe (the mediapipe==0.10.14 wheel on PyPI)"
MEDIAPIPE_LICENCE = "Apache-2.0 (MediaPipe's BlazePose GHUM models, trained by Google on real photos)"
DENSEPOSE_ZOO = "https://github.com/facebookresearch/detectron2/tree/main/projects/DensePose"
DENSEPOSE_ZOO_LICENCE = (
    "CC BY-SA 3.0 (Creative Commons Attribution-ShareAlike 3.0, as the DensePose model zoo states: "
    "detectron2 projects/DensePose/doc/DENSEPOSE_IUV.md)"
)
HUMAN3D_LICENCE = "Apache-2.0 (trained by human3d on its own synthetic data: no third-party images or weights)"
HUMAN3D_PHOTOS_LICENCE = ("Apache-2.0 (trained by human3d on its own synthetic data, with CC0 and public-domain "
                          "photos from scikit-image's sample data behind and in front of the people)")


@dataclass(frozen=True)
class WeightsEntry:
    """One loadable model file.

    ``kind`` is :data:`OFFICIAL` (the user downloads ``url`` into the weights folder), :data:`BUNDLED`
    (shipped in human3d under ``package_dir``) or :data:`DEPENDENCY` (shipped in the installed Python
    package ``dependency``, under ``package_dir``). ``run_names`` are run names stored inside the file
    that identify it even when it was renamed.
    """

    name: str
    task: str
    filename: str
    kind: str
    url: str
    upstream: str
    licence: str
    non_commercial: bool
    description: str
    package_dir: str = ""
    run_names: tuple[str, ...] = ()
    dependency: str = ""

    def __post_init__(self) -> None:
        if self.task not in TASKS or self.kind not in (OFFICIAL, BUNDLED, DEPENDENCY):
            raise ValueError(f"weights entry {self.name}: unknown task {self.task!r} or kind {self.kind!r}")
        if (self.kind == OFFICIAL) == bool(self.package_dir) or (self.kind == DEPENDENCY) != bool(self.dependency):
            raise ValueError(f"weights entry {self.name}: a package folder is given exactly for files in packages, "
                             "and a dependency exactly for files shipped in one")

    @property
    def location(self) -> str:
        """Where the file lives: ``"weights folder"``, ``"package"`` or ``"package <dependency>"``."""
        return {OFFICIAL: "weights folder", BUNDLED: "package"}.get(self.kind, f"package {self.dependency}")

    @property
    def path(self) -> Path:
        """The file's place: ``weights_dir()/filename`` (official), inside human3d (bundled) or inside the
        dependency (found without importing it; a path under ``<dependency not installed>`` when it is missing)."""
        if self.kind == BUNDLED:
            return PACKAGE_DIR / self.package_dir / self.filename
        if self.kind == DEPENDENCY:
            spec = importlib.util.find_spec(self.dependency)
            origin = Path(spec.origin).parent if spec is not None and spec.origin else Path(
                f"<{self.dependency} not installed>")
            return origin / self.package_dir / self.filename
        return weights_dir() / self.filename

    @property
    def present(self) -> bool:
        """True when the file is there."""
        return self.path.is_file()


def _bundled_entry(name: str, task: str, filename: str, package_dir: str, licence: str, description: str
                   ) -> WeightsEntry:
    """A weights file shipped inside the human3d package, under ``human3d/<package_dir>/``."""
    return WeightsEntry(name=name, task=task, filename=filename, kind=BUNDLED, url="",
                        upstream=f"shipped inside the human3d package (human3d/{package_dir}/)", licence=licence,
                        non_commercial=False, description=description, package_dir=package_dir)


def _mediapipe_entry(name: str, filename: str, package_dir: str, licence: str, description: str) -> WeightsEntry:
    """A model file shipped inside the mediapipe wheel (a dependency), under ``mediapipe/<package_dir>/``."""
    return WeightsEntry(name=name, task="people", filename=filename, kind=DEPENDENCY, url="",
                        upstream=MEDIAPIPE_UPSTREAM, licence=licence, non_commercial=False, description=description,
                        package_dir=package_dir, dependency=MEDIAPIPE)


def _rcnn_entry(config: DensePoseConfig) -> WeightsEntry:
    short = config.name.removeprefix("densepose_rcnn_")
    head = "DeepLab head" if config.deeplab_head else "decoder head" if config.decoder else "legacy head, no decoder"
    return WeightsEntry(
        name=config.name,
        task="densepose-rcnn",
        filename=f"{config.name}.pkl",
        kind=OFFICIAL,
        url=config.model_zoo_url,
        upstream=DENSEPOSE_ZOO,
        licence=DENSEPOSE_ZOO_LICENCE,
        non_commercial=False,
        description=f"DensePose R-CNN {short} (ResNet-{config.depth} FPN, {head}) from the detectron2 model zoo",
    )


WEIGHTS: tuple[WeightsEntry, ...] = (
    WeightsEntry(
        name="pifuhd",
        task="pifuhd",
        filename="pifuhd.pt",
        kind=OFFICIAL,
        url="https://dl.fbaipublicfiles.com/pifuhd/checkpoints/pifuhd.pt",
        upstream="https://github.com/facebookresearch/pifuhd",
        licence="CC BY-NC 4.0 (Creative Commons Attribution-NonCommercial 4.0; non-commercial use only)",
        non_commercial=True,
        description="official PIFuHD checkpoint (Saito et al., CVPR 2020), 1.5 GB",
        run_names=("pifuhd_final",),
    ),
    _bundled_entry("human3d_pifuhd_small", "pifuhd", "human3d_pifuhd_small.pt", "pifuhd/default_weights",
                   HUMAN3D_LICENCE, "human3d's default PIFuHD weights (the 'small' configuration of `human3d train "
                   "pifuhd`), about 20 MB"),
    *(_rcnn_entry(config) for config in CONFIGS.values()),
    _bundled_entry("human3d_densepose_light", "densepose-light", "human3d_densepose_light.pkl",
                   "densepose/light/default_weights", HUMAN3D_LICENCE, "human3d's light real-time DensePose model, "
                   "finding people itself (`human3d train densepose --model light`), 0.7 MB"),
    _bundled_entry("human3d_densepose_light_people", "densepose-light-people", "human3d_densepose_light_people.pkl",
                   "densepose/light/default_weights", HUMAN3D_PHOTOS_LICENCE, "human3d's light DensePose model on "
                   "the people finder's crops and poses (`human3d train densepose --model light-people`), 0.7 MB"),
    _mediapipe_entry("mediapipe_pose_detector", "pose_detection.tflite", "modules/pose_detection", MEDIAPIPE_LICENCE,
                     "BlazePose person detector (finds people by their faces and upper bodies)"),
    _mediapipe_entry("mediapipe_pose_landmarker_full", "pose_landmark_full.tflite", "modules/pose_landmark",
                     MEDIAPIPE_LICENCE,
                     "BlazePose GHUM full: 33 body landmarks with depth and visibility, and a person mask"),
    _mediapipe_entry("mediapipe_selfie_segmentation", "selfie_segmentation.tflite", "modules/selfie_segmentation",
                     "Apache-2.0 (MediaPipe's selfie segmentation model, trained by Google on real photos)",
                     "MediaPipe selfie segmentation (general, 256x256): where people are, seeds of the small-people "
                     "pass"),
    _mediapipe_entry("mediapipe_face_detector_full_range", "face_detection_full_range_sparse.tflite",
                     "modules/face_detection",
                     "Apache-2.0 (MediaPipe's BlazeFace full-range face detector, trained by Google on real photos)",
                     "BlazeFace full range: faces up to about 5 m away, for --blur-faces (bodies or not)"),
    _bundled_entry("human3d_depth_lifter", "depth-lifter", "human3d_depth_lifter.pt", "fit/default_weights",
                   HUMAN3D_PHOTOS_LICENCE, "human3d's depth lifter: each keypoint's depth from what BlazePose says of "
                   "a person (`human3d train depth-lifter`), 1.2 MB"),
)


def weights_dir() -> Path:
    """The weights folder: ``$HUMAN3D_WEIGHTS`` if set, else ``~/.cache/human3d/weights``."""
    configured = os.environ.get(ENV_VAR)
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "human3d" / "weights"


def list_weights(task: str | None = None) -> list[WeightsEntry]:
    """Every registered model (official ones first within a task), or only those of ``task``."""
    if task is not None and task not in TASKS:
        raise Human3DError(f"unknown weights task {task!r} (known: {', '.join(TASKS)})")
    return [entry for entry in WEIGHTS if task is None or entry.task == task]


def get_weights(name: str) -> WeightsEntry:
    """The entry called ``name``; a one-line error listing the known names otherwise."""
    for entry in WEIGHTS:
        if entry.name == name:
            return entry
    raise Human3DError(f"unknown weights {name!r} (known: {', '.join(entry.name for entry in WEIGHTS)})")


def _describe_entry(entry: WeightsEntry) -> list[str]:
    path = entry.path
    if entry.kind == DEPENDENCY:
        state = "installed" if entry.present else f"missing (pip install {entry.dependency}==0.10.14)"
        return [f"{entry.name}: {entry.description}", f"  status:   {state} ({path})",
                f"  upstream: {entry.upstream}", f"  licence:  {entry.licence}"]
    if entry.kind == BUNDLED:
        state = "bundled" if entry.present else "missing from this installation"
        lines = [f"{entry.name}: {entry.description}", f"  status:   {state} ({path})", f"  licence:  {entry.licence}"]
        if entry.task not in CHECKPOINT_TASKS:
            return lines + ["  always used (no option replaces it)"]
        official = any(other.kind == OFFICIAL for other in list_weights(entry.task))
        installed = "no official checkpoint is installed and " if official else ""
        return lines + [f"  used when {installed}no --checkpoint is given"]
    return [
        f"{entry.name}: {entry.description}",
        f"  status:   {'installed' if entry.present else 'not installed'} ({path})",
        f"  upstream: {entry.upstream}",
        f"  licence:  {entry.licence}",
        f"  get it:   download {entry.url}",
        f"            and save it as {path}",
        f"            e.g. mkdir -p '{path.parent}' && curl -L -o '{path}' {entry.url}",
    ]


def describe() -> str:
    """Human-readable report, grouped by task: each model, its source, licence, location and presence."""
    lines = [f"weights folder: {weights_dir()}  (set {ENV_VAR} to use another folder)"]
    for task in TASKS:
        lines += ["", f"== {TASK_TITLES[task]} =="]
        for index, entry in enumerate(list_weights(task)):
            lines += ([""] if index else []) + _describe_entry(entry)
    lines += [
        "",
        "human3d never downloads weights by itself; any checkpoint in these formats works with --checkpoint PATH.",
    ]
    return "\n".join(lines)
