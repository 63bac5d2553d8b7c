"""``human3d eval densepose``: GPS, GPSm and box AP of a DensePose checkpoint on a DensePose-COCO JSON."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from human3d.commands import add_densepose_people_options, check_device
from human3d.densepose.predictor import light_weights
from human3d.errors import Human3DError

if TYPE_CHECKING:
    from human3d.people.finder import PeopleFinder


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {text})")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``human3d eval densepose``."""
    parser.add_argument("--data", type=Path, required=True,
                        help="DensePose-COCO JSON (e.g. OUT/densepose_coco.json of human3d synth)")
    parser.add_argument("--checkpoint", type=Path,
                        help="DensePose checkpoint (default: the bundled default model; "
                             "or a detectron2 model-zoo .pkl)")
    parser.add_argument("--image-root", type=Path,
                        help="folder holding the JSON's file_name paths (default: the JSON's folder)")
    parser.add_argument("--limit", type=_positive, help="evaluate only the first N images (by id)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument("--min-score", type=float,
                        help="score threshold of a person (default: the people finder's, or the model's own)")
    add_densepose_people_options(parser)
    parser.add_argument("--kappa", choices=("ours", "smpl"), default="ours",
                        help="GPS normalisation distances: measured on our body (default) or SMPL's official values")
    parser.add_argument("--batch-size", type=_positive, default=1, help="images per forward pass (default 1)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")


def run(args: argparse.Namespace) -> int:
    """Predict every image of ``--data``, score the results, print the table (and write ``--json``)."""
    if not args.data.is_file():
        raise Human3DError.for_path(args.data, "DensePose-COCO JSON not found")
    if args.json is not None and args.json.suffix.lower() != ".json":
        raise Human3DError.for_path(args.json, "the report file must end in .json")
    checkpoint = light_weights(not args.no_people_finder, args.checkpoint)
    check_device(args.device)
    from human3d.densepose.predictor import densepose_predictor
    from human3d.eval.densepose_metrics import evaluate_densepose
    from human3d.eval.densepose_run import coco_images, predict_coco_images
    from human3d.people.finder import build_people_finder

    coco_images(args.data, args.limit)  # a bad JSON fails before the model is built

    def finder() -> PeopleFinder:  # the light model runs on the people finder's people, as human3d densepose
        return build_people_finder(args.min_score, small_people=not args.no_small_people)

    predictor = densepose_predictor(checkpoint, device=args.device, min_score=args.min_score,
                                    finder=None if args.no_people_finder else finder)
    predictions = predict_coco_images(predictor.predict, args.data, args.image_root, args.limit, args.batch_size)
    report = evaluate_densepose(predictions.results, args.data, kappa=args.kappa)
    count = max(1, len(predictions.results))
    print(f"checkpoint: {checkpoint}")
    print(report.format())
    print(f"time per image: {predictions.seconds / count:.2f} s predicting, {report.seconds / count:.2f} s scoring")
    if args.json is not None:
        report.write_json(args.json, {"checkpoint": str(checkpoint), "data": str(args.data),
                                      "predict_seconds_per_image": predictions.seconds / count})
        print(f"wrote {args.json}")
    return 0
