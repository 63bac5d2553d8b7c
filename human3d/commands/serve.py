"""``human3d serve``: the web page, on this machine, for people who never open a terminal."""

from __future__ import annotations

import argparse

from human3d.commands import Subparsers, check_device
from human3d.errors import Human3DError


def register(subparsers: Subparsers) -> None:
    """Add the ``serve`` subcommand."""
    parser = subparsers.add_parser(
        "serve", help="a web page on this machine: drop a photo or a video, get the 3D person and more",
        description="Serve human3d's web page (Gradio) on this machine: photos to a 3D person, DensePose and "
                    "the fitted body; videos to DensePose and animated bodies. Nothing leaves the machine; "
                    "results are deleted when it stops. Needs pip install 'human3d[serve]'.")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 lets others in)")
    parser.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    parser.add_argument("--open", action="store_true", help="open the page in the default browser")
    parser.add_argument("--resolution", type=int, default=256, help="3D reconstruction grid per axis (default 256)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument("--max-upload-mb", type=float, default=200.0, help="largest file accepted (default 200)")
    parser.add_argument("--max-megapixels", type=float, default=40.0,
                        help="largest photo or video frame accepted (default 40)")
    parser.add_argument("--max-video-seconds", type=float, default=60.0, help="longest video accepted (default 60)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Check the options and serve until interrupted."""
    from human3d.webapp.models import Models
    from human3d.webapp.server import serve
    from human3d.webapp.uploads import UploadLimits

    if args.resolution < 8:
        raise Human3DError(f"--resolution {args.resolution} is too small (need >= 8)")
    limits = UploadLimits(args.max_upload_mb, args.max_megapixels, args.max_video_seconds)
    if min(limits.megabytes, limits.megapixels, limits.video_seconds) <= 0:
        raise Human3DError("--max-upload-mb, --max-megapixels and --max-video-seconds must be above 0")
    serve(Models(args.resolution, check_device(args.device)), limits, args.host, args.port, args.open)
    return 0
