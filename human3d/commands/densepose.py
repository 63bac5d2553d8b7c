"""``human3d densepose INPUT``: dense body-surface correspondence (part I, chart U,V) for every person."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from human3d.commands import Subparsers, add_densepose_people_options, check_device
from human3d.densepose.predictor import BACKENDS, light_weights
from human3d.densepose.rcnn.config import CONFIGS, get_config
from human3d.errors import Human3DError

if TYPE_CHECKING:
    from human3d.densepose.light.person_crops import PeopleSource


PRECISION_CHOICES = ("fp32", "bf16-head", "bf16")  # human3d.densepose.rcnn.precision.PRECISIONS, without torch


def _layers(text: str) -> set[str]:
    from human3d.densepose.app.visualize import LAYERS

    layers = {part.strip() for part in text.split(",") if part.strip()}
    unknown = layers - set(LAYERS)
    if unknown or not layers:
        raise argparse.ArgumentTypeError(f"choose from {','.join(LAYERS)} (got {text!r})")
    return layers


def register(subparsers: Subparsers) -> None:
    """Add the ``densepose`` subcommand (its options are added when it is used: they need torch modules)."""
    subparsers.add_parser("densepose", help="dense pose (part, U, V per pixel) of people in images or video",
                          description="Find every person in an image, a folder of images or a video and "
                                      "map their pixels to body-surface charts (human3d's light model by default, "
                                      "or DensePose R-CNN with a model-zoo checkpoint).",
                          populate=add_arguments)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``human3d densepose``."""
    from human3d.densepose.app.visualize import DEFAULT_LAYERS, LAYERS

    names = ", ".join(n.removeprefix("densepose_rcnn_") for n in CONFIGS)
    parser.add_argument("input", type=Path, help="image, folder of images, or video (mp4, mov, avi, mkv, webm...)")
    parser.add_argument("--checkpoint", type=Path, help="detectron2 model-zoo DensePose .pkl (or .pth), or a "
                                                       "light-model .pkl; default: human3d's bundled light model")
    parser.add_argument("--backend", choices=BACKENDS, default="auto",
                        help="where the light model's network runs: auto (onnxruntime on the CPU, torch on a GPU), "
                             "torch or onnxruntime (CPU); an R-CNN runs on torch")
    parser.add_argument("--config", help=f"force the configuration instead of recognising it ({names})")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument("--precision", choices=PRECISION_CHOICES,
                        help="R-CNN arithmetic: fp32; bf16-head (bfloat16 in the DensePose head, within float32's "
                             "tolerances; the default on CPUs that multiply bfloat16 natively: AVX512_BF16, AMX); "
                             "bf16 (bfloat16 throughout: fastest, less exact); float16 autocast on CUDA")
    parser.add_argument("--min-score", type=float, default=None,
                        help="score threshold of a person: the people finder's (default 0.5), the R-CNN's "
                             "(default 0.05), or the light network's own (default 0.3, with --no-people-finder)")
    add_densepose_people_options(parser)
    parser.add_argument("--dump", type=Path, help="write boxes, scores, labels and U,V to OUT.npz or OUT.json")
    parser.add_argument("--show", type=_layers, default=set(DEFAULT_LAYERS),
                        help=f"picture layers, comma-separated from {','.join(LAYERS)} (default parts,contours,boxes)")
    parser.add_argument("-o", "--output", type=Path,
                        help="picture (image input), folder (folder input) or video (video input); "
                             "default <name>_densepose.png/.mp4/folder when no --dump is given")
    parser.add_argument("--batch-size", type=int, default=1, help="frames per forward pass (default 1)")
    parser.add_argument("--blur-faces", action="store_true",
                        help="pixelate every face in pictures and videos (found people's and the face detector's)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Build the model, run it over the input, report failures; non-zero exit if any item failed."""
    from human3d.densepose.app.dump import DUMP_SUFFIXES

    checkpoint = light_weights(not args.no_people_finder, args.checkpoint)
    if args.dump is not None and args.dump.suffix.lower() not in DUMP_SUFFIXES:
        raise Human3DError.for_path(args.dump, "dump file must end in .npz or .json")
    check_device(args.device)
    if not args.input.exists():
        raise Human3DError.for_path(args.input, "input not found")
    from human3d.densepose.app.run import SUMMARISED, default_output, people_source
    from human3d.densepose.app.run import run as run_densepose
    from human3d.densepose.predictor import densepose_predictor

    def finder() -> PeopleSource:
        return people_source(args.input, args.min_score, not args.no_small_people)

    predictor = densepose_predictor(checkpoint, config=get_config(args.config) if args.config else None,
                                    device=args.device, min_score=args.min_score, backend=args.backend,
                                    precision=args.precision, finder=None if args.no_people_finder else finder)
    output = args.output if args.output is not None or args.dump is not None else default_output(args.input)
    report = run_densepose(args.input, predictor, output, args.dump, args.show, max(1, args.batch_size),
                           args.blur_faces)
    for name, found in report.scores if report.processed <= SUMMARISED else []:
        scores = ", ".join(f"{s:.2f}" for s in found[:10])
        more = "..." if len(found) > 10 else ""
        print(f"{name}: {len(found)} people" + (f" (scores {scores}{more})" if len(found) else ""))
    written = [str(p) for p in (output, args.dump if report.processed else None) if p is not None]
    wrote = f"; wrote {', '.join(written)}" if written else ""
    print(f"{report.processed} processed, {len(report.failures)} failed" + wrote)
    for failure in report.failures:
        print(f"human3d: failed: {failure}", file=sys.stderr)
    return 1 if report.failures else 0
