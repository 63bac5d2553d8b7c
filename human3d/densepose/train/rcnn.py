"""Training of DensePose R-CNN (``human3d train densepose --model <config>``; the light model: :mod:`.light`).

The R-CNN trains with :mod:`human3d.densepose.train.losses` under the shared step loop
(:func:`human3d.training.loop.fit`: DDP under torchrun, resume, progress bar, metrics log) and
writes model-zoo ``.pkl`` checkpoints that ``build_densepose`` reads unchanged.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from human3d.densepose.rcnn.checkpoint import read_state_dict, write_state_dict
from human3d.densepose.rcnn.config import DensePoseConfig, get_config
from human3d.densepose.rcnn.layers import Conv2dNorm, FrozenBatchNorm2d
from human3d.densepose.rcnn.model import DensePoseRCNN, load_weights
from human3d.densepose.rcnn.rpn import LEVELS
from human3d.densepose.train.augment import AugmentationConfig, TrainingItems
from human3d.densepose.train.config import FINAL_CHECKPOINT, DensePoseTrainConfig
from human3d.densepose.train.dataset import DensePoseDataset, collate_list
from human3d.densepose.train.losses import DensePoseRCNNObjective, RCNNLossConfig
from human3d.errors import Human3DError
from human3d.io.atomic import write_text_atomic
from human3d.training.data import infinite_batches
from human3d.training.loop import fit
from human3d.training.runtime import setup_runtime, teardown

STAGE = "densepose_rcnn"
GRAD_CLIP = 10.0


def init_from_scratch(model: DensePoseRCNN) -> None:
    """detectron2's initialisations (MSRA fill for ResNet, decoder and DensePose convs, Xavier fill for
    the FPN and box fc layers, N(0, 0.01) for the RPN and the class logits, N(0, 0.001) for box deltas),
    except the chart predictor: N(0, 0.001) too, so that charts start near 0 on an untrained backbone."""
    for name, module in model.named_modules():
        if not isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            continue
        if name.startswith("proposal_generator.") or name.endswith("cls_score"):
            nn.init.normal_(module.weight, std=0.01)
        elif name.endswith("bbox_pred") or name.startswith("roi_heads.densepose_predictor."):
            nn.init.normal_(module.weight, std=0.001)
        elif name.startswith(("backbone.fpn_", "roi_heads.box_head.")):
            nn.init.kaiming_uniform_(module.weight, a=1)
        else:
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
        if module.bias is not None:
            nn.init.zeros_(module.bias)


_OUTPUT_LAYERS = ("proposal_generator.rpn_head.objectness_logits", "proposal_generator.rpn_head.anchor_deltas",
                  "roi_heads.box_predictor.", "roi_heads.densepose_predictor.")


@torch.no_grad()
def calibrate_from_data(model: DensePoseRCNN, items: list[dict]) -> None:
    """Data-dependent start of a from-scratch model: one forward pass over ``items`` (training items).

    A from-scratch network has no batch-norm statistics to freeze: each frozen batch norm divides its
    convolution's output by that output's root mean square on this batch (per channel, at least the
    layer's mean; layer by layer, each seeing the already scaled outputs of the previous ones) and
    keeps it frozen afterwards. The mean is left at 0 on purpose: subtracting means measured on a
    few images makes a deep frozen network chaotic (features 100x larger on other images), while a
    pure scale keeps it positively homogeneous. The other hidden layers (FPN, RPN conv, box fc,
    decoder, DensePose head) get their weights divided by their output's standard deviation (LSUV),
    so that features stay near unit scale; the output layers keep their small initialisation.
    """
    done: set[int] = set()

    def normalise_bn(module: Conv2dNorm, inputs: tuple[torch.Tensor]) -> None:
        out = F.conv2d(inputs[0], module.weight, module.bias, module.stride, module.padding, module.dilation,
                       module.groups)
        power = out.square().mean(dim=(0, 2, 3))
        module.norm.running_mean.zero_()
        module.norm.running_var.copy_(power.clamp(min=float(power.mean())))  # no huge gain on quiet channels
        module.norm.weight.fill_(1.0)
        module.norm.bias.zero_()

    def unit_variance(module: nn.Module, inputs: tuple[torch.Tensor], out: torch.Tensor) -> torch.Tensor:
        if id(module) in done or out.numel() < 2:  # a shared layer (the RPN conv) is scaled once
            return out
        done.add(id(module))
        std = float(out.std()) or 1.0
        module.weight.div_(std)
        if module.bias is not None:
            module.bias.div_(std)
        return out / std

    handles = []
    for name, module in model.named_modules():
        if isinstance(module, Conv2dNorm) and isinstance(module.norm, FrozenBatchNorm2d):
            handles.append(module.register_forward_pre_hook(normalise_bn))
        elif (isinstance(module, (nn.Conv2d, nn.Linear)) and getattr(module, "norm", None) is None
              and not name.startswith(_OUTPUT_LAYERS)):
            handles.append(module.register_forward_hook(unit_variance))
    try:
        images, _ = model.normalize([item["image"] for item in items])
        features = model.backbone(images)
        model.proposal_generator.rpn_head([features[name] for name in LEVELS])
        boxes = [item["boxes"].to(images.dtype) for item in items]
        model.roi_heads.box_outputs(features, boxes)
        if sum(len(b) for b in boxes):
            model.roi_heads.densepose(features, boxes)
    finally:
        for handle in handles:
            handle.remove()


def freeze_backbone(model: DensePoseRCNN, freeze_at: int) -> None:
    """detectron2's ``FREEZE_AT``: 1 freezes the stem, 2 the stem and res2, ... 5 the whole ResNet."""
    bottom_up = model.backbone.bottom_up
    for module in [bottom_up.stem, bottom_up.res2, bottom_up.res3, bottom_up.res4, bottom_up.res5][:freeze_at]:
        module.requires_grad_(False)


def build_training_model(config: DensePoseConfig, init: Path | None, freeze_at: int | None = None
                         ) -> tuple[DensePoseRCNN, bool]:
    """The model to train and whether it still needs :func:`calibrate_from_data` (from scratch).

    With ``init`` every tensor of that ``.pkl`` whose name and shape fit ``config`` is loaded (the
    rest, e.g. another variant's predictor, keeps its fresh initialisation; a note says how many).
    ``freeze_at`` (default: 2 when fine-tuning, 0 from scratch) is detectron2's ``FREEZE_AT``.
    """
    model = DensePoseRCNN(config)
    init_from_scratch(model)
    freeze_backbone(model, freeze_at if freeze_at is not None else (0 if init is None else 2))
    if init is None:
        return model, True
    left = load_weights(model, read_state_dict(init), str(init), strict=False)
    if len(left) == len(model.state_dict()):
        raise Human3DError.for_path(init, f"no tensor of this checkpoint fits {config.name}")
    if left:
        print(f"human3d: {init}: {len(left)} tensors do not fit {config.name} and start fresh "
              f"(first: {left[0]})", file=sys.stderr)
    return model, False


def lr_schedule(steps: int, warmup: int = 1000, warmup_factor: float = 0.001) -> Callable[[int], float]:
    """detectron2's schedule as a LambdaLR factor: linear warm-up, then x0.1 at 2/3 and 8/9 of the run."""
    warmup = min(warmup, max(1, steps // 10))
    milestones = (int(steps * 2 / 3), int(steps * 8 / 9))

    def factor(step: int) -> float:
        decay = 0.1 ** sum(step >= m for m in milestones)
        if step < warmup:
            alpha = step / warmup
            return decay * (warmup_factor * (1 - alpha) + alpha)
        return decay

    return factor


def train_rcnn(options: DensePoseTrainConfig, config: DensePoseConfig | None = None,
               settings: RCNNLossConfig = RCNNLossConfig(), freeze_at: int | None = None) -> Path:
    """Train DensePose R-CNN (``options.model``, or ``config`` when given) and return the final ``.pkl``.

    ``settings``: sampling sizes and loss weights; ``freeze_at``: see :func:`build_training_model`.
    Gradients are clipped at norm 10 (from-scratch runs are otherwise fragile in the first steps).
    Checkpoints ``model_NNNNNNN.pkl`` every ``checkpoint_every`` steps and ``model_final.pkl`` at the
    end, in the model-zoo layout. A run folder holding a training state continues from it.
    """
    config = config or get_config(options.model)
    runtime = setup_runtime(options.device)
    try:
        torch.manual_seed(options.seed + runtime.rank)
        out = Path(options.out)
        augmentation = AugmentationConfig(options.min_size)
        dataset = TrainingItems(DensePoseDataset(options.data, options.image_root), augmentation)
        batches = infinite_batches(dataset, options.batch_size, runtime, options.seed, options.workers, collate_list)
        model, needs_calibration = build_training_model(config, options.init, freeze_at)
        if needs_calibration:
            calibrate_from_data(model, next(batches))
        if runtime.is_main:
            out.mkdir(parents=True, exist_ok=True)
            record = {**{k: str(v) if isinstance(v, Path) else v for k, v in asdict(options).items()},
                      "config": config.name}
            write_text_atomic(out / "train_options.json", json.dumps(record, indent=2) + "\n")
        objective = DensePoseRCNNObjective(model, settings)
        parameters = [p for p in objective.parameters() if p.requires_grad]
        optimizer = torch.optim.SGD(parameters, lr=options.lr, momentum=0.9, weight_decay=1e-4)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_schedule(options.steps))

        def save_checkpoint(step: int) -> None:
            name = FINAL_CHECKPOINT if step == options.steps else f"model_{step:07d}.pkl"
            write_state_dict(model.state_dict(), out / name)

        fit(objective, batches, optimizer, runtime, options.steps, out, STAGE, save_checkpoint,
            checkpoint_every=options.checkpoint_every, log_every=1 if options.steps <= 200 else 20,
            scheduler=scheduler, amp=options.amp, grad_clip=GRAD_CLIP, batch_size=options.batch_size)
    finally:
        teardown(runtime)
    return out / FINAL_CHECKPOINT
