"""CLI subcommands. Each module here defines ``register(subparsers)`` and is found automatically.

``register`` adds one or more subparsers and sets ``func`` on each to a callable taking the parsed
``argparse.Namespace`` and returning an exit code. Keep these modules thin: parse arguments, call
the library, print. Checks they share (``check_device``) live here.
"""

from __future__ import annotations

import argparse
import importlib
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


def add_task_subcommands(parser: argparse.ArgumentParser, tasks: dict[str, tuple[str, str]]) -> None:
    """Sub-subcommands of ``parser``: each task's module defines ``add_arguments(parser)`` and ``run(args)``."""
    subparsers = parser.add_subparsers(dest="task", metavar="TASK", required=True)
    for name, (module_name, help_text) in tasks.items():
        module = importlib.import_module(module_name)
        task_parser = subparsers.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(task_parser)
        task_parser.set_defaults(func=module.run)
