"""PIFuHD training, stage by stage as in the paper, on the shared training runtime.

1. ``normals``: the front and back normal generators (image -> normal maps; L1 + gradient L1).
2. ``coarse``: the coarse level on the ``load_size`` image plus the (frozen) generators' normal maps,
   occupancy BCE on PIFu's sampled points, averaged over every hourglass stack's prediction.
3. ``fine``: the fine level on ``load_size_big // 2`` windows of the ``load_size_big`` image (and of
   the upsampled normal maps), with the coarse level frozen and its phi feature as input; only the
   points inside the window are used.

A body-guided configuration (``body_guided``; :mod:`human3d.pifuhd.body_guide`) is trained the same way, each
view carrying a body: mostly the one fitted to its photo, else its person's perturbed anny body
(:class:`~human3d.pifuhd.augment.PifuhdTrainingSet`); a network that is not body-guided (e.g. ``init``) is first grown
into one that computes the same thing (:func:`human3d.pifuhd.grow.grown_for_body`).

Every stage trains the whole :class:`PifuhdNet` object (frozen parts included) and writes it, in the
official checkpoint format, to ``RUN_DIR/checkpoint.pt``, which the next stage (and ``load_pifuhd``) reads.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from human3d.errors import Human3DError
from human3d.pifuhd.augment import AugmentationConfig, PifuhdTrainingSet
from human3d.pifuhd.checkpoint import load_checkpoint, save_checkpoint
from human3d.pifuhd.grow import body_guided_options, grown_for_body
from human3d.pifuhd.losses import normal_map_loss, occupancy_iou, occupancy_loss, stacked_occupancy_loss
from human3d.pifuhd.model import PifuhdNet, build_pifuhd, checkpoint_dict, inside_xy, project
from human3d.pifuhd.options import PifuhdConfig
from human3d.training.data import infinite_batches
from human3d.training.loop import FitResult, fit
from human3d.training.runtime import Runtime, setup_runtime, teardown

STAGES = ("normals", "coarse", "fine")
CHECKPOINT_NAME = "checkpoint.pt"


def _normal_input(net: PifuhdNet, batch: dict[str, torch.Tensor], ground_truth: bool) -> list[torch.Tensor]:
    """The normal maps the coarse level is conditioned on: the frozen generators' (or the rendered ones)."""
    coarse = net.netG.options
    if ground_truth:
        maps = [batch["normal_front"] if coarse.use_front_normal else None,
                batch["normal_back"] if coarse.use_back_normal else None]
    else:
        with torch.no_grad():
            maps = list(net.netG.normal_maps(batch["image"], batch.get("body_maps")))
    return [m for m in maps if m is not None]


def _coarse_features(net: PifuhdNet, image: torch.Tensor, normals: list[torch.Tensor]) -> list[torch.Tensor]:
    """The coarse filter's feature map of every stack, of the image and its normal maps (same sizes)."""
    return net.netG.image_filter.stacks(torch.cat([image, *normals], 1))


class _Stage(nn.Module):
    """A training stage: uses the whole network, trains ``trainable()`` and keeps the rest frozen.

    Only the trained parts are registered as submodules, so the stage's state dict (the resume
    state), ``.to()`` and DDP cover just them; the frozen rest stays in eval mode on its device and
    comes from the run's latest checkpoint. A stage can therefore be continued after a later stage
    ran, without undoing what that stage learnt.
    """

    def __init__(self, net: PifuhdNet) -> None:
        super().__init__()
        self.__dict__["net"] = net  # not a submodule (see above)
        net.requires_grad_(False).eval()
        self.parts = nn.ModuleList(self.trainable())
        self.parts.requires_grad_(True)

    def trainable(self) -> list[nn.Module]:
        """The submodules of ``net`` this stage trains."""
        raise NotImplementedError


class NormalStage(_Stage):
    """Front and back normal generators against the rendered normal maps."""

    def trainable(self) -> list[nn.Module]:
        generators = (getattr(self.net.netG, "netF", None), getattr(self.net.netG, "netB", None))
        return [m for m in generators if m is not None]

    def forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        front, back = self.net.netG.normal_maps(batch["image"], batch.get("body_maps"))
        out: dict[str, torch.Tensor] = {}
        for side, pred in (("front", front), ("back", back)):
            if pred is not None:
                terms = normal_map_loss(pred, batch[f"normal_{side}"], batch["mask"])
                out.update({f"{name}_{side}": value for name, value in terms.items()})
        out["loss"] = sum(value for name, value in out.items() if name.startswith("loss_"))
        return out


class CoarseStage(_Stage):
    """The coarse filter and MLP on the image plus frozen (or ground-truth) normal maps."""

    def __init__(self, net: PifuhdNet, ground_truth_normals: bool = False) -> None:
        super().__init__(net)
        self.ground_truth_normals = ground_truth_normals

    def trainable(self) -> list[nn.Module]:
        return [self.net.netG.image_filter, self.net.netG.mlp]

    def forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        normals = _normal_input(self.net, batch, self.ground_truth_normals)
        stacks = _coarse_features(self.net, batch["image"], normals)
        predictions = [self.net.netG.query(features, batch["samples"], batch.get("body"))[0] for features in stacks]
        return stacked_occupancy_loss(predictions, batch["labels"])


def local_uv(uv: torch.Tensor, window: torch.Tensor, size: int, crop: int) -> torch.Tensor:
    """Aligned-corner coordinates [B, 2, N] over a ``size``-pixel image -> over its ``crop`` window.

    ``window`` [B, 2] is where each crop window starts.
    """
    pixels = (uv + 1) * (size - 1) / 2 - window.to(uv.dtype).unsqueeze(-1)
    return pixels * 2 / (crop - 1) - 1


class FineStage(_Stage):
    """The fine filter and MLP on windows of the big image; the coarse level (and its phi) frozen."""

    def __init__(self, net: PifuhdNet, ground_truth_normals: bool = False) -> None:
        super().__init__(net)
        self.ground_truth_normals = ground_truth_normals

    def trainable(self) -> list[nn.Module]:
        return [self.net.image_filter, self.net.mlp]

    def forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        points, window, local, body = batch["samples"], batch["window"], batch["image_local"], batch.get("body")
        big, crop = self.net.options.fine.load_size_big, local.shape[-1]
        with torch.no_grad():
            normals = _normal_input(self.net, batch, self.ground_truth_normals)
            _, phi = self.net.netG.query(_coarse_features(self.net, batch["image"], normals)[-1], points, body)
            fine_input = local
            if normals:
                upsampled = F.interpolate(torch.cat(normals, 1), size=(big, big), mode="bilinear", align_corners=True)
                windows = [upsampled[i, :, y : y + crop, x : x + crop] for i, (x, y) in enumerate(window.tolist())]
                fine_input = torch.cat([local, torch.stack(windows)], 1)
        uv = project(points)[:, :2]
        local_points = local_uv(uv, window, big, crop)
        in_xy = inside_xy(uv)
        preds = [self.net.fine_mlp(features, local_points, phi, body) * in_xy
                 for features in self.net.image_filter.stacks(fine_input)]
        return stacked_occupancy_loss(preds, batch["labels"])


STAGE_MODULES = {"normals": NormalStage, "coarse": CoarseStage, "fine": FineStage}


@dataclass
class PifuhdTrainConfig:
    """One ``human3d train pifuhd`` run."""

    data: Path
    out: Path
    options: PifuhdConfig
    stages: tuple[str, ...] = STAGES
    steps: dict[str, int] = field(default_factory=lambda: {stage: 1000 for stage in STAGES})
    batch_size: int = 2
    lr: float = 1e-4
    points: int = 4000
    workers: int = 0
    device: str = "cpu"
    amp: bool = False
    init: Path | None = None
    body_guided: bool = False  # read each person's (perturbed) anny body; grows a network that does not
    ground_truth_normals: bool = False
    background_points: float = 0.25  # fraction of the points drawn in free space (see PifuhdTrainingSet)
    checkpoint_every: int = 200
    log_every: int = 10
    seed: int = 0
    augmentation: AugmentationConfig | None = field(default_factory=AugmentationConfig)
    progress: bool = True


def trainable_model(checkpoint: Path | None, options: PifuhdConfig, body_guided: bool = False) -> PifuhdNet:
    """The network to continue from: ``checkpoint`` (official format) if given, else a new one of ``options``;
    with ``body_guided``, grown into a body-guided one if it is not (:func:`grown_for_body`)."""
    if checkpoint is None:
        return PifuhdNet(body_guided_options(options) if body_guided else options)
    try:
        net = build_pifuhd(load_checkpoint(checkpoint))
    except Human3DError as error:
        raise Human3DError.for_path(checkpoint, str(error)) from None
    if body_guided and not net.options.coarse.body_guided:
        return grown_for_body(net)
    return net.requires_grad_(True)


def write_model(net: PifuhdNet, path: Path, half: bool = False) -> None:
    """Write ``net`` in the official checkpoint format (atomically); ``half`` stores float16 (half the size).

    ``load_pifuhd`` reads either (the network is always rebuilt in float32).
    """
    if half:
        net = copy.deepcopy(net).half()  # deepcopy keeps the aliased bn4/downsample.0 modules shared
    save_checkpoint(checkpoint_dict(net, name=f"human3d_{path.parent.name}"), path)


def _run_stage(stage: str, settings: PifuhdTrainConfig, runtime: Runtime) -> FitResult:
    run_checkpoint = settings.out / CHECKPOINT_NAME
    torch.manual_seed(settings.seed)  # a new network starts the same on every rank (frozen parts included)
    net = trainable_model(run_checkpoint if run_checkpoint.is_file() else settings.init, settings.options,
                          settings.body_guided)
    torch.manual_seed(settings.seed * 1000 + runtime.rank + 1)  # augmentation draws differ per rank
    module = NormalStage(net) if stage == "normals" else STAGE_MODULES[stage](net, settings.ground_truth_normals)
    options = net.options
    if runtime.is_main:
        settings.out.mkdir(parents=True, exist_ok=True)
        (settings.out / "options.json").write_text(json.dumps(options.to_dict(), indent=1))
    dataset = PifuhdTrainingSet(settings.data, options, settings.points, fine=stage == "fine",
                                augmentation=settings.augmentation, seed=settings.seed,
                                background_points=settings.background_points)
    batches = infinite_batches(dataset, settings.batch_size, runtime, seed=settings.seed, workers=settings.workers)
    net.to(runtime.device)
    optimizer = torch.optim.Adam(module.parameters(), lr=settings.lr)
    return fit(module, batches, optimizer, runtime, settings.steps[stage], settings.out, stage,
               save_checkpoint=lambda step: write_model(net, run_checkpoint),
               checkpoint_every=settings.checkpoint_every, log_every=settings.log_every, amp=settings.amp,
               batch_size=settings.batch_size, progress=settings.progress,
               find_unused_parameters=True)  # every ConvBlock has a bn4, used only when its widths differ


def train_pifuhd(settings: PifuhdTrainConfig) -> dict[str, FitResult]:
    """Run the requested stages in order (each resumes from ``out`` if it was interrupted)."""
    options = body_guided_options(settings.options) if settings.body_guided else settings.options
    PifuhdTrainingSet(settings.data, options, settings.points)  # bad data fails before anything is written
    runtime = setup_runtime(settings.device)
    try:
        if settings.body_guided:
            fit_training_bodies(settings, runtime)
        return {stage: _run_stage(stage, settings, runtime) for stage in settings.stages}
    finally:
        teardown(runtime)


def fit_training_bodies(settings: PifuhdTrainConfig, runtime: Runtime) -> None:
    """Fit anny to the photo of every sample of ``settings.data`` without a fitted body yet
    (:func:`~human3d.pifuhd.fitted_bodies.fit_sample_bodies`), each rank its share, all ranks waiting for
    the last; the main rank prints the counts."""
    from human3d.pifuhd.fitted_bodies import fit_sample_bodies  # the fitter: anny and MediaPipe, loaded when needed

    counts = fit_sample_bodies(settings.data, settings.progress and runtime.is_main,
                               (runtime.rank, runtime.world_size))
    totals = torch.tensor([counts["fitted"], counts["kept"], counts["failed"]])
    if runtime.distributed:
        dist.all_reduce(totals)
    if runtime.is_main:
        fitted, kept, failed = totals.tolist()
        print(f"{settings.data}: bodies fitted to {fitted} photos ({kept} fitted before, {failed} with nobody found)")


@torch.no_grad()
def evaluate_occupancy(net: PifuhdNet, dataset: PifuhdTrainingSet, limit: int | None = None) -> dict[str, float]:
    """Mean BCE, IoU and accuracy of the fine and coarse occupancy on ``dataset``'s labelled points.

    Each view is encoded whole, as at inference (``dataset``: no augmentation, ``whole_big=True``).
    """
    net.eval()
    totals: dict[str, float] = {}
    count = min(len(dataset), limit or len(dataset))
    for index in range(count):
        item = dataset[index]
        batch = {name: value[None] for name, value in item.items()}
        features = net.encode_maps(batch["image"], batch["image_big"], batch.get("body_maps"))
        fine, coarse, _ = net.query(features, batch["samples"], batch.get("body"))
        labels = item["labels"][None]
        for name, pred in (("fine", fine), ("coarse", coarse)):
            scores = {"bce": occupancy_loss(pred, labels), "iou": occupancy_iou(pred, labels),
                      "accuracy": ((pred > 0.5) == (labels > 0.5)).float().mean()}
            for metric, value in scores.items():
                totals[f"{metric}_{name}"] = totals.get(f"{metric}_{name}", 0.0) + float(value)
    return {name: value / max(count, 1) for name, value in totals.items()}
