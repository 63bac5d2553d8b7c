"""``human3d train pifuhd``: train PIFuHD (normal generators, coarse level, fine level) on synth data."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from human3d.commands import check_device
from human3d.errors import Human3DError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``human3d train pifuhd``."""
    from human3d.pifuhd.train import CHECKPOINT_NAME, STAGES
    from human3d.pifuhd.train_config import CONFIGS

    parser.add_argument("--data", type=Path, required=True, metavar="DIR",
                        help="training data: a `human3d synth` folder (orthographic, square images, "
                             "points.npy or mesh.ply)")
    parser.add_argument("--out", type=Path, required=True, metavar="RUN_DIR",
                        help=f"run folder: {CHECKPOINT_NAME} (official format), <stage>.state.pt (resume), "
                             "metrics.jsonl/.csv")
    parser.add_argument("--stage", choices=(*STAGES, "all"), default="all",
                        help="which stage to train (all: normals, coarse, fine in turn)")
    parser.add_argument("--config", choices=tuple(CONFIGS), default="small",
                        help="network size for a new run: released (official), small (our default weights), "
                             "tiny (tests)")
    parser.add_argument("--steps", default="1000", metavar="N|normals=N,coarse=N,fine=N",
                        help="optimizer steps per stage (one number for every stage, or per stage); "
                             "a re-run continues up to it")
    parser.add_argument("--batch-size", type=int, default=2, help="images per step and process")
    parser.add_argument("--lr", type=float, default=1e-4, help="Adam learning rate")
    parser.add_argument("--points", type=int, default=4000, help="labelled points per image and step")
    parser.add_argument("--workers", type=int, default=0, help="DataLoader worker processes per training process")
    parser.add_argument("--device", default="cpu",
                        help="cpu, cuda or cuda:N (under torchrun each rank uses cuda:LOCAL_RANK)")
    parser.add_argument("--amp", action="store_true",
                        help="mixed precision (bfloat16 autocast; CUDA only, ignored on CPU)")
    parser.add_argument("--init", type=Path, metavar="CHECKPOINT",
                        help="start from this official-format checkpoint (fine-tuning); its sizes replace --config")
    parser.add_argument("--body-guided", action="store_true",
                        help="read each person's body: anny fitted to the photo (fitted once per sample, stored as "
                             "fitted_body.npz) or their true anny body perturbed as fits err (needs synth data with "
                             "the pose in meta.json); grows --init into a body-guided network that starts out equal "
                             "to it")
    parser.add_argument("--gt-normals", action="store_true",
                        help="condition the coarse/fine levels on the rendered normal maps instead of the "
                             "generators' output")
    parser.add_argument("--no-augment", action="store_true", help="train on the plain inference framing over grey")
    parser.add_argument("--background-points", type=float, default=0.25, metavar="F",
                        help="fraction of the points drawn in the crop cube's free space: off the person, or in front "
                             "of / behind it along the camera rays (outside for certain)")
    parser.add_argument("--checkpoint-every", type=int, default=200,
                        help="write the checkpoint and resume state every N steps")
    parser.add_argument("--log-every", type=int, default=10, help="log a metrics row every N steps")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--heldout", type=Path, metavar="DIR",
                        help="after training, occupancy IoU/accuracy on this synth folder -> RUN_DIR/heldout.json")
    parser.add_argument("--heldout-limit", type=int, default=20, help="samples of --heldout to evaluate")
    parser.add_argument("--export", type=Path, metavar="PATH",
                        help="afterwards, also write the run's model in float16 to PATH (half the size; "
                             "how the bundled default is made)")


def parse_steps(text: str, stages: tuple[str, ...]) -> dict[str, int]:
    """``"500"`` -> 500 for every stage; ``"normals=100,coarse=300,fine=200"`` -> per stage."""
    from human3d.pifuhd.train import STAGES

    try:
        if "=" not in text:
            steps = {stage: int(text) for stage in stages}
        else:
            steps = {name.strip(): int(value) for name, value in (part.split("=") for part in text.split(","))}
    except ValueError:
        raise Human3DError(f"--steps {text!r}: expected N or stage=N,... (stages {', '.join(STAGES)})") from None
    unknown = set(steps) - set(STAGES)
    missing = [stage for stage in stages if stage not in steps]
    if unknown or missing or any(value < 0 for value in steps.values()):
        raise Human3DError(f"--steps {text!r}: give a step count >= 0 for each of {', '.join(stages)}")
    return steps


def run(args: argparse.Namespace) -> int:
    """Train, then optionally evaluate on held-out data; the final model is ``RUN_DIR/checkpoint.pt``."""
    from human3d.pifuhd.augment import AugmentationConfig, PifuhdTrainingSet
    from human3d.pifuhd.train import (
        CHECKPOINT_NAME,
        STAGES,
        PifuhdTrainConfig,
        evaluate_occupancy,
        train_pifuhd,
        write_model,
    )
    from human3d.pifuhd.train_config import named_options

    device = check_device(args.device)
    stages = STAGES if args.stage == "all" else (args.stage,)
    if not args.data.is_dir():
        raise Human3DError.for_path(args.data, "training data folder not found")
    if not 0 <= args.background_points < 1:
        raise Human3DError(f"--background-points must be in [0, 1), got {args.background_points}")
    settings = PifuhdTrainConfig(
        data=args.data, out=args.out, options=named_options(args.config), stages=stages,
        steps=parse_steps(args.steps, stages), batch_size=args.batch_size, lr=args.lr, points=args.points,
        workers=args.workers, device=device, amp=args.amp, init=args.init, body_guided=args.body_guided,
        ground_truth_normals=args.gt_normals,
        checkpoint_every=args.checkpoint_every, log_every=args.log_every, seed=args.seed,
        augmentation=None if args.no_augment else AugmentationConfig(), background_points=args.background_points,
    )
    train_pifuhd(settings)
    if os.environ.get("RANK", "0") != "0":
        return 0
    from human3d.pifuhd.model import load_pifuhd

    net = load_pifuhd(args.out / CHECKPOINT_NAME)
    if args.export is not None:
        write_model(net, args.export, half=True)
        print(f"{args.export}: float16 copy of {args.out / CHECKPOINT_NAME}")
    if args.heldout is not None:
        heldout = PifuhdTrainingSet(args.heldout, net.options, args.points, augmentation=None, whole_big=True)
        scores = evaluate_occupancy(net, heldout, args.heldout_limit)
        (args.out / "heldout.json").write_text(json.dumps(scores, indent=1))
        print(" ".join(f"{name} {value:.4f}" for name, value in scores.items()))
    return 0
