"""Reconstruction benchmark: reconstruct each held-out sample's photo, put the mesh back into the
ground truth's world frame, and score it with ICON/ECON's Chamfer, P2S and normal consistency.

A sample is a folder written by ``human3d synth`` (synthetic people or rendered scans) with an
orthographic camera: ``rgb.png``, ``mask.png``, ``camera.json`` (``pifu_calib``) and ``mesh.ply``.
The photo goes through the same path as ``human3d reconstruct --mask``: the crop rect comes from the
mask, the background becomes grey. The mesh comes back in the crop frame (the rect spans x, y in
[-1, 1], z toward the camera with the same scale, z = 0 at the median depth of the mesh's vertices,
as in training and in PIFu's renders: a single image does not show absolute depth), and
``crop_to_world`` maps it to world metres through the rect, that depth and ``pifu_calib``. Chamfer and P2S are
measured in world metres and reported in cm; normal consistency is measured in the whole image's crop
frame (``pifu_calib``: the image spans [-1, 1]), as ICON/ECON do in theirs. P2S is also split into the ground
truth the camera sees and the rest (:mod:`human3d.eval.seen_surface`): what the photo shows, and what the network
guesses. Body-guided weights run exactly
as ``human3d reconstruct`` runs them: the people finder and the body fit on the photo, nothing from the
sample's files; their z = 0 (the fitted body's median depth) is put at the same depth of the ground truth. With
``body="true"`` the depth bound (and body-guided weights) read the sample's true anny body instead
(:mod:`human3d.eval.true_bodies`): what the reconstruction scores with a perfect fit.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import trimesh

from human3d.errors import Human3DError
from human3d.eval.mesh_metrics import ICON_SAMPLES, NORMAL_IMAGE_SIZE, normal_consistency, surface_distances
from human3d.eval.seen_surface import SEEN_TOLERANCE, seen_in_sample
from human3d.eval.true_bodies import BODY_CHOICES, true_body_guide
from human3d.formats import synth_sample as layout
from human3d.formats.synth_sample import read_calib, sample_dirs
from human3d.geometry.crop import crop_to_world, depth_origin
from human3d.io.atomic import write_text_atomic
from human3d.io.meshes import read_mesh
from human3d.pifuhd.body_band import DepthMargin
from human3d.pifuhd.model import PifuhdNet
from human3d.pifuhd.pipeline import PreparedImage, prepare_image, reconstruct
from human3d.pifuhd.predictor import PifuhdPredictor

CM_PER_METRE = 100.0

Mesher = Callable[[PreparedImage], tuple[np.ndarray, np.ndarray]]
"""Reconstruction of one prepared photo: (vertices [V, 3] in its crop frame, faces [F, 3])."""


@dataclass
class SampleScore:
    """One sample's result; metrics are NaN and ``error`` says why when it could not be scored."""

    name: str
    chamfer_cm: float = math.nan
    p2s_cm: float = math.nan
    normal: float = math.nan
    reconstruct_seconds: float = math.nan
    seconds: float = math.nan
    error: str | None = None
    p2s_seen_cm: float = math.nan  # P2S over the ground truth's points the camera sees (the photo shows them)
    p2s_unseen_cm: float = math.nan  # ... and over the others (the back, what is hidden): guessed
    seen_share: float = math.nan  # the share of the ground truth's points the camera sees


@dataclass
class ReconstructionReport:
    """Per-sample rows and their means (over the samples that could be scored)."""

    data_dir: str
    rows: list[SampleScore]
    settings: dict = field(default_factory=dict)

    @property
    def scored(self) -> list[SampleScore]:
        """The rows with metrics."""
        return [row for row in self.rows if row.error is None]

    @property
    def failed(self) -> int:
        """How many samples could not be scored."""
        return len(self.rows) - len(self.scored)

    @property
    def means(self) -> dict[str, float]:
        """Mean Chamfer (cm), P2S (cm, also over the seen and unseen ground truth), the seen share, normal
        consistency and seconds per sample over the scored rows (each over the rows that have it)."""
        keys = ("chamfer_cm", "p2s_cm", "normal", "reconstruct_seconds", "seconds", "p2s_seen_cm", "p2s_unseen_cm",
                "seen_share")
        return {key: mean_of_known([getattr(row, key) for row in self.scored]) for key in keys}

    def to_dict(self) -> dict:
        """JSON-ready: settings, means, failure count and every row."""
        return {
            "data": self.data_dir,
            "settings": self.settings,
            "protocol": protocol(),
            "samples": len(self.rows),
            "failed": self.failed,
            "mean": self.means,
            "rows": [asdict(row) for row in self.rows],
        }


def protocol() -> dict:
    """The metric definitions in force (written into every report)."""
    return {
        "p2s": f"mean distance from {ICON_SAMPLES} area-uniform ground-truth surface points to the predicted "
        "surface, cm",
        "chamfer": "mean of P2S and the same from predicted surface points to the ground truth, cm",
        "normal": "mean |n_pred - n_gt|^2 over 4 orthographic views (0/90/180/270 deg about y), "
        f"{NORMAL_IMAGE_SIZE}^2 px, image crop frame",
        "p2s_seen": "P2S over the ground-truth points the sample's camera sees (their depth within "
        f"{SEEN_TOLERANCE * CM_PER_METRE:g} cm of depth_front.png at their pixel), p2s_unseen over the others, "
        "seen_share their share",
        "frame": f"world metres through {layout.CAMERA} pifu_calib and the mask crop rect; z = 0 at the ground "
        "truth's median vertex depth",
    }


def mean_of_known(values: list[float]) -> float:
    """The mean of the finite ``values``; NaN when there are none."""
    known = [value for value in values if math.isfinite(value)]
    return float(np.mean(known)) if known else math.nan


def _transform(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    return np.asarray(points, dtype=np.float64) @ matrix[:3, :3].T + matrix[:3, 3]


def evaluate_sample(sample_dir: str | Path, mesher: Mesher, samples: int = ICON_SAMPLES) -> SampleScore:
    """Reconstruct one sample with ``mesher`` and score it; a ``Human3DError`` becomes the row's error."""
    sample_dir = Path(sample_dir)
    score = SampleScore(sample_dir.name)
    start = time.perf_counter()
    try:
        missing = [name for name in layout.EVAL_FILES if not (sample_dir / name).is_file()]
        if missing:
            raise Human3DError.for_path(sample_dir, f"incomplete sample (missing {', '.join(missing)})")
        calib, image_size = read_calib(sample_dir)
        truth = read_mesh(sample_dir / layout.MESH)
        prepared = prepare_image(sample_dir / layout.RGB, mask=sample_dir / layout.MASK)
        vertices, faces = mesher(prepared)
        score.reconstruct_seconds = time.perf_counter() - start
        to_world = crop_to_world(prepared.rect, image_size, calib, depth_origin(truth.vertices, calib))
        predicted = trimesh.Trimesh(_transform(vertices, to_world), faces, process=False)
        distances = surface_distances(predicted, truth, samples)
        score.chamfer_cm, score.p2s_cm = distances.chamfer * CM_PER_METRE, distances.p2s * CM_PER_METRE
        seen = seen_in_sample(sample_dir, distances.truth_points)
        if seen is not None:
            score.seen_share = float(seen.mean())
            score.p2s_seen_cm, score.p2s_unseen_cm = (
                float(distances.truth_to_predicted[part].mean()) * CM_PER_METRE if part.any() else math.nan
                for part in (seen, ~seen))
        in_image_frame = [
            trimesh.Trimesh(_transform(m.vertices, calib), m.faces, process=False) for m in (predicted, truth)
        ]
        score.normal = normal_consistency(*in_image_frame)
    except Human3DError as error:
        score.error = str(error)
    score.seconds = time.perf_counter() - start
    return score


def evaluate_samples(
    data_dir: str | Path, mesher: Mesher, limit: int | None = None, progress: bool = True, settings: dict | None = None
) -> ReconstructionReport:
    """Score ``mesher`` on the first ``limit`` (default all) samples of ``data_dir``."""
    from tqdm import tqdm

    folders = sample_dirs(data_dir)[: limit if limit is not None else None]
    rows = []
    with tqdm(folders, desc="eval", unit="sample", disable=not progress) as bar:
        for folder in bar:
            rows.append(evaluate_sample(folder, mesher))
            means = ReconstructionReport(str(data_dir), rows).means
            failed = len(rows) - sum(r.error is None for r in rows)
            bar.set_postfix(chamfer_cm=f"{means['chamfer_cm']:.3f}", failed=failed)
    return ReconstructionReport(str(data_dir), rows, settings or {})


def pifuhd_mesher(predictor: PifuhdPredictor, resolution: int = 256,
                  depth_margin: float | tuple[float, float] | None = None, body: str = "fitted") -> Mesher:
    """The ``human3d reconstruct`` path (narrow-band field, marching cubes; depth bounded by the body with
    ``depth_margin``, crop units) as a :data:`Mesher`; ``body``: "fitted" to the photo, or "true", the sample's
    own anny body (the folder of the prepared photo; :mod:`human3d.eval.true_bodies`)."""
    if body not in BODY_CHOICES:
        raise ValueError(f"body must be one of {BODY_CHOICES}")

    def mesh(prepared: PreparedImage) -> tuple[np.ndarray, np.ndarray]:
        guide = true_body_guide(prepared.path.parent, prepared.rect) if body == "true" else None
        result = reconstruct(predictor, prepared, resolution, body=guide, depth_margin=depth_margin)
        return result.vertices, result.faces

    return mesh


def evaluate_model(
    model: PifuhdNet,
    data_dir: str | Path,
    resolution: int = 256,
    device: str = "cpu",
    limit: int | None = None,
    progress: bool = True,
    depth_margin: float | tuple[float, float] | None = None,
    body: str = "fitted",
) -> ReconstructionReport:
    """Chamfer / P2S (cm) and normal consistency of a :class:`~human3d.pifuhd.model.PifuhdNet` on a
    folder of held-out samples (see the module docstring); ``depth_margin``: as ``human3d reconstruct`` bounds
    depth by the body fitted to the photo (None: not bounded; recorded in front and behind); ``body``: "true"
    reads each sample's own anny body instead of fitting one (see :func:`pifuhd_mesher`)."""
    mesher = pifuhd_mesher(PifuhdPredictor(model, device=device), resolution, depth_margin, body)
    margin = None if depth_margin is None else DepthMargin.of(depth_margin)
    settings = {"resolution": resolution, "device": str(device), "body_guided": model.options.coarse.body_guided,
                "depth_margin": None if margin is None else {"front": margin.front, "back": margin.back},
                "body": body}
    return evaluate_samples(data_dir, mesher, limit, progress, settings)


def format_table(report: ReconstructionReport) -> str:
    """Plain-text table: one line per sample (P2S also over the ground truth the camera sees and the rest), then
    the mean and the failure count."""
    header = (f"{'sample':<12} {'Chamfer cm':>10} {'P2S cm':>8} {'seen':>6} {'unseen':>6} {'Normal':>8} "
              f"{'seconds':>8}")
    lines = [header, "-" * len(header)]

    def line(name: str, values: dict) -> str:
        return (f"{name:<12} {values['chamfer_cm']:>10.3f} {values['p2s_cm']:>8.3f} {values['p2s_seen_cm']:>6.2f} "
                f"{values['p2s_unseen_cm']:>6.2f} {values['normal']:>8.4f} {values['seconds']:>8.1f}")

    for row in report.rows:
        lines.append(line(row.name, asdict(row)) if row.error is None else f"{row.name:<12} failed: {row.error}")
    lines.append("-" * len(header))
    lines.append(line("mean", report.means))
    lines.append(f"{len(report.scored)} of {len(report.rows)} samples scored; {report.failed} failed")
    return "\n".join(lines)


def write_report_json(report: ReconstructionReport, path: str | Path) -> Path:
    """Write ``report.to_dict()`` as JSON (atomically; NaN written as null)."""

    def clean(value):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    path = Path(path)
    try:
        write_text_atomic(path, json.dumps(clean(report.to_dict()), indent=1, sort_keys=True))
    except OSError as error:
        raise Human3DError.for_path(path, f"cannot write the report ({error.strerror or error})") from None
    return path
