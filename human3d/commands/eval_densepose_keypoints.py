"""``human3d eval densepose-keypoints IMAGES...``: keypoint-part agreement of DensePose on real photos."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from human3d.commands import add_densepose_people_options, check_device
from human3d.densepose.predictor import light_weights
from human3d.errors import Human3DError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``human3d eval densepose-keypoints``."""
    parser.add_argument("images", type=Path, nargs="+", help="photos, or folders of photos")
    parser.add_argument("--checkpoint", type=Path,
                        help="DensePose checkpoint (default: the bundled light model; or a detectron2 model-zoo .pkl)")
    add_densepose_people_options(parser)
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")


def image_paths(arguments: list[Path]) -> list[Path]:
    """The photos named, folders expanded to their images; a one-line error for a missing one or none."""
    from human3d.io.images import image_files

    paths: list[Path] = []
    for argument in arguments:
        if argument.is_dir():
            paths += image_files(argument)
        elif argument.is_file():
            paths.append(argument)
        else:
            raise Human3DError.for_path(argument, "not found")
    if not paths:
        raise Human3DError.for_path(arguments[0], "holds no images")
    return paths


def run(args: argparse.Namespace) -> int:
    """Find the people of every photo, run DensePose, score the labels at their keypoints; print the table."""
    if args.json is not None and args.json.suffix.lower() != ".json":
        raise Human3DError.for_path(args.json, "the report file must end in .json")
    paths = image_paths(args.images)
    checkpoint = light_weights(not args.no_people_finder, args.checkpoint)
    check_device(args.device)
    from human3d.densepose.light.person_crops import PersonCropPredictor
    from human3d.densepose.predictor import build_densepose, predictor_for
    from human3d.densepose.rcnn.image import read_image_bgr
    from human3d.eval.densepose_keypoints import MIN_KEYPOINT_SCORE, RADIUS, KeypointAgreement, keypoint_agreement
    from human3d.io.atomic import write_text_atomic
    from human3d.people.finder import build_people_finder

    finder = build_people_finder(small_people=not args.no_small_people)
    predictor = predictor_for(build_densepose(checkpoint), args.device,
                              finder=None if args.no_people_finder else finder)
    print(f"checkpoint: {checkpoint}")
    print("| photo | people | keypoints | agreement | no label near |")
    print("|---|---|---|---|---|")
    total, rows = KeypointAgreement(), []
    for path in paths:
        image = read_image_bgr(path)
        people = finder.find(image[..., ::-1].copy())
        result = (predictor.predict_people([image], [people])[0] if isinstance(predictor, PersonCropPredictor)
                  else predictor(image))
        counts = keypoint_agreement(result, [person.keypoints_coco17 for person in people], *image.shape[:2])
        total.add(counts)
        rows.append({"photo": str(path), **counts.as_dict()})
        agreement = f"{counts.fraction:.1%}" if counts.scored else "-"
        print(f"| {path.name} | {counts.people} | {counts.scored} | {agreement} | {counts.unlabelled} |",
              flush=True)
    print(f"| **all ({len(paths)} photos)** | {total.people} | {total.scored} | {total.fraction:.1%} | "
          f"{total.unlabelled} |")
    print(f"keypoints the people finder sees (score at least {MIN_KEYPOINT_SCORE}) whose nearest DensePose label "
          f"within {RADIUS:.0f} pixels is one of the keypoint's parts")
    if args.json is not None:
        document = {"checkpoint": str(checkpoint), "people_finder": not args.no_people_finder,
                    "photos": rows, "overall": total.as_dict()}
        write_text_atomic(args.json, json.dumps(document, indent=1) + "\n")
        print(f"wrote {args.json}")
    return 0
