"""``human3d train depth-lifter``: the network that reads a person's keypoint depths from BlazePose's landmarks."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from human3d.errors import Human3DError

if TYPE_CHECKING:
    from human3d.fit.depth_lifter_training import LifterExamples


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``human3d train depth-lifter``."""
    parser.add_argument("--data", type=Path, nargs="+", required=True, metavar="DIR|EXAMPLES.npz",
                        help="`human3d synth` folders (their people are found in their images: about 0.3 s an "
                             "image), or example files written by --save-examples")
    parser.add_argument("--out", type=Path, required=True, metavar="FILE.pt", help="the lifter's checkpoint")
    parser.add_argument("--steps", type=int, default=6000, help="optimizer steps (256 people each)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save-examples", type=Path, metavar="EXAMPLES.npz",
                        help="also write the found people and their truth, to train on again without finding them")
    parser.add_argument("--heldout", type=Path, nargs="+", metavar="DIR|EXAMPLES.npz",
                        help="after training, depth errors on these, the lifter's beside BlazePose's")


def examples_of(sources: list[Path]) -> LifterExamples:
    """Every source's examples, joined: an examples file is read, a synth folder's people are found."""
    from human3d.fit.depth_lifter_training import LifterExamples, lifter_examples

    parts = []
    for source in sources:
        if source.is_dir():
            parts.append(lifter_examples(source))
        elif source.is_file():
            parts.append(LifterExamples.load(source))
        else:
            raise Human3DError.for_path(source, "no such folder or examples file")
    return LifterExamples.joined(parts)


def run(args: argparse.Namespace) -> int:
    """Find the people, train, write the checkpoint (atomically), print the held-out scores."""
    from human3d.fit.depth_lifter import save_depth_lifter
    from human3d.fit.depth_lifter_training import lifter_scores, train_depth_lifter
    from human3d.io.atomic import atomic_path

    if args.steps < 1:
        raise Human3DError(f"--steps must be at least 1, got {args.steps}")
    heldout = {str(source): examples_of([source]) for source in args.heldout or []}
    examples = examples_of(args.data)
    if args.save_examples is not None:
        with atomic_path(args.save_examples) as tmp:
            examples.save(tmp)
    lifter = train_depth_lifter(examples, steps=args.steps, seed=args.seed)
    scores = {name: lifter_scores(lifter, part) for name, part in heldout.items()}
    trained = {"data": [str(source) for source in args.data], "people": len(examples), "steps": args.steps,
               "seed": args.seed, "heldout": scores}
    with atomic_path(args.out) as tmp:
        save_depth_lifter(lifter, tmp, trained)
    print(f"wrote {args.out} (trained on {len(examples)} people, {args.steps} steps)")
    for name, score in scores.items():
        print(f"{name}: {score['people']:.0f} people; depth error (rms, % of the box height): lifter "
              f"{score['lifter']:.1f}, BlazePose {score['blazepose']:.1f}; knees and ankles {score['lifter_legs']:.1f}"
              f" against {score['blazepose_legs']:.1f}")
    print(json.dumps(scores))
    return 0
