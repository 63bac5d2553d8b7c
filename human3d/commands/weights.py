"""``human3d weights``: every model human3d can load, where it comes from, its licence, which are present."""

from __future__ import annotations

import argparse

from human3d.commands import Subparsers
from human3d.weights.registry import describe


def register(subparsers: Subparsers) -> None:
    """Add the ``weights`` subcommand."""
    parser = subparsers.add_parser("weights", help="show where model weights come from and which are installed")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the weights report."""
    print(describe())
    return 0
