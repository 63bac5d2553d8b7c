"""``human3d eval reconstruction``: Chamfer / P2S / normal consistency of a PIFuHD checkpoint on held-out samples."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from human3d.commands import add_depth_bound_options, check_device, depth_margin_cm
from human3d.errors import Human3DError
from human3d.weights.resolve import resolve_weights


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``human3d eval reconstruction``."""
    from human3d.eval.true_bodies import BODY_CHOICES

    parser.add_argument("--data", type=Path, required=True, metavar="DIR",
                        help="a `human3d synth` run (orthographic) of held-out people or rendered scans")  # fmt: skip
    parser.add_argument("--checkpoint", type=Path, help="PIFuHD checkpoint (default: the package's default weights)")
    parser.add_argument("--resolution", type=int, default=256, help="marching-cubes grid per axis (default 256)")
    parser.add_argument("--limit", type=int, help="evaluate only the first N samples")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write the table (every row, the means) as JSON")
    add_depth_bound_options(parser)
    parser.add_argument("--body", choices=BODY_CHOICES, default="fitted",
                        help="the body that bounds depth (and that body-guided weights read): fitted to the photo, as "
                             "human3d reconstruct fits it (default), or the sample's true anny body (synthetic "
                             "people only), to see what the fit costs")


def _writable_folder(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(folder, os.W_OK)


def run(args: argparse.Namespace) -> int:
    """Evaluate, print the table, write the JSON; exit status 1 when a sample could not be scored."""
    from human3d.eval.reconstruction import evaluate_model, format_table, write_report_json
    from human3d.formats.synth_sample import sample_dirs
    from human3d.pifuhd.body_band import chosen_depth_margin
    from human3d.pifuhd.model import load_pifuhd

    if args.resolution < 8:
        raise Human3DError(f"--resolution {args.resolution} is too small (need >= 8)")
    if args.limit is not None and args.limit < 1:
        raise Human3DError(f"--limit must be >= 1, got {args.limit}")
    check_device(args.device)
    margin_cm = depth_margin_cm(args)
    sample_dirs(args.data)  # bad input fails before the (slow) model load and evaluation
    if args.json is not None and not _writable_folder(args.json.parent):
        raise Human3DError.for_path(args.json, "cannot write here (the folder is not writable)")
    checkpoint = resolve_weights("pifuhd", args.checkpoint)
    model = load_pifuhd(checkpoint)
    depth_margin = chosen_depth_margin(args.depth_bound, model.run_name, margin_cm)
    if args.body == "true" and depth_margin is None and not model.options.coarse.body_guided:
        raise Human3DError(f"--body true changes nothing here: {checkpoint} reads no body and the depth bound is off "
                           "(use --depth-bound on)")
    report = evaluate_model(model, args.data, args.resolution, args.device, args.limit, depth_margin=depth_margin,
                            body=args.body)
    report.settings["checkpoint"] = str(checkpoint)
    print(format_table(report))
    if args.json is not None:
        print(f"wrote {write_report_json(report, args.json)}")
    return 1 if report.failed else 0
