"""Placeholder written by the lead so the CLI imports; the owning engineer replaces this whole file."""

import argparse

from human3d.errors import Human3DError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No options yet."""


def run(args: argparse.Namespace) -> int:
    """Not written yet."""
    raise Human3DError("not written yet")
