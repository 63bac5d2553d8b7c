"""CLI subcommands. Each module here defines ``register(subparsers)`` and is found automatically.

``register`` adds one or more subparsers and sets ``func`` on each to a callable taking the parsed
``argparse.Namespace`` and returning an exit code. Keep these modules thin: parse arguments, call
the library, print. Checks they share (``check_device``) live here.
"""

from __future__ import annotations

import re

from human3d.errors import Human3DError


def check_device(name: str) -> str:
    """``name`` if it is ``cpu``, ``cuda`` or ``cuda:N`` and usable here, else a one-line error."""
    if name != "cpu" and not re.fullmatch(r"cuda(:\d+)?", name):
        raise Human3DError(f"unknown device {name!r} (use cpu, cuda or cuda:N)")
    if name != "cpu":
        import torch

        if not torch.cuda.is_available():
            raise Human3DError(f"--device {name}: CUDA is not available on this machine (use --device cpu)")
    return name
