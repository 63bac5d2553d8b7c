"""``human3d weights``: where the official weights come from, where to put them, which are present."""

from __future__ import annotations

import argparse

from human3d.pifuhd.weights import describe


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``weights`` subcommand."""
    parser = subparsers.add_parser("weights", help="show where model weights come from and which are installed")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the weights report."""
    print(describe())
    return 0
