"""CLI subcommands. Each module here defines ``register(subparsers)`` and is found automatically.

``register`` adds one or more subparsers and sets ``func`` on each to a callable taking the parsed
``argparse.Namespace`` and returning an exit code. Keep these modules thin: parse arguments, call
the library, print. Checks they share (``check_device``) live here.

Building the parser imports no torch: a command whose options need a heavy module adds them through
``populate`` (see :class:`DeferredParser`), run only when that command is parsed or its help shown, and
command modules import the library inside their ``run`` functions.
"""

from __future__ import annotations

import argparse
import importlib
import re
from typing import Any, Callable, Protocol

from human3d.errors import Human3DError


class Subparsers(Protocol):
    """What ``register`` receives: the object returned by ``ArgumentParser.add_subparsers``."""

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        """Add a subcommand's parser (``help``, ``description``, ``populate``, ... as keywords)."""
        ...


class DeferredParser(argparse.ArgumentParser):
    """An argument parser whose arguments may be added late, by ``populate(parser)``.

    ``populate`` runs once, the first time the parser parses or formats its help or usage, so a command
    whose options come from a torch-importing module costs nothing until it is used.
    """

    def __init__(self, *args: Any, populate: Callable[[argparse.ArgumentParser], None] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.populate = populate

    def populated(self) -> DeferredParser:
        """This parser with its ``populate`` step done."""
        if self.populate is not None:
            populate, self.populate = self.populate, None
            populate(self)
        return self

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> tuple[argparse.Namespace, list[str]]:
        """As :meth:`argparse.ArgumentParser.parse_known_args`, after ``populate``."""
        self.populated()
        return super().parse_known_args(args, namespace)

    def format_help(self) -> str:
        """As :meth:`argparse.ArgumentParser.format_help`, after ``populate``."""
        self.populated()
        return super().format_help()

    def format_usage(self) -> str:
        """As :meth:`argparse.ArgumentParser.format_usage`, after ``populate``."""
        self.populated()
        return super().format_usage()


def check_device(name: str) -> str:
    """``name`` if it is ``cpu``, ``cuda`` or ``cuda:N`` and usable here, else a one-line error."""
    if name != "cpu" and not re.fullmatch(r"cuda(:\d+)?", name):
        raise Human3DError(f"unknown device {name!r} (use cpu, cuda or cuda:N)")
    if name != "cpu":
        import torch

        if not torch.cuda.is_available():
            raise Human3DError(f"--device {name}: CUDA is not available on this machine (use --device cpu)")
    return name


def add_densepose_people_options(parser: argparse.ArgumentParser) -> None:
    """``--no-people-finder`` and ``--no-small-people``: who the light DensePose model is run on."""
    parser.add_argument("--no-people-finder", action="store_true",
                        help="let the light network find the people itself instead of running it on the people "
                             "finder's (faster; but it has only seen synthetic people, and on real photos it takes "
                             "trees for people and misses people)")
    parser.add_argument("--no-small-people", action="store_true",
                        help="skip the people finder's pass for small people (tiles and HOG seeds; much faster)")


def add_depth_bound_options(parser: argparse.ArgumentParser) -> None:
    """``--depth-bound`` and ``--depth-margin``: whether and how closely the fitted body bounds a PIFuHD
    reconstruction's depth (:mod:`human3d.pifuhd.body_band`; imported, with torch, when the options are added)."""
    from human3d.pifuhd.body_band import BOUND_CHOICES, MARGIN_CM

    parser.add_argument("--depth-bound", choices=BOUND_CHOICES, default="auto",
                        help="bound the surface's depth by the body fitted to the person (a single image does not "
                             "show depth; without it a person can come out as a slab from the side). auto: on with "
                             "human3d's weights, off with the official checkpoint (default auto)")
    default = ",".join(f"{cm:g}" for cm in MARGIN_CM)
    parser.add_argument("--depth-margin", default=default, metavar="CM[,CM]",
                        help=f"how far the surface may lie in front of and behind the fitted body, in cm of a "
                             f"standing adult; one number for both (default {default}: clothing, hair)")


def depth_margin_cm(args: argparse.Namespace) -> tuple[float, float]:
    """``--depth-margin`` as cm in front of and behind the body; a one-line error unless it is one or two
    positive numbers."""
    text = str(args.depth_margin)
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        values = []
    if not 1 <= len(values) <= 2:
        raise Human3DError(f"--depth-margin must be one or two numbers of cm, as 6,12 (got {text!r})")
    if not all(value > 0 for value in values):
        raise Human3DError(f"--depth-margin must be more than 0 cm (got {text})")
    return values[0], values[-1]


class _TaskModule:
    """Adds a task module's options and runs it, importing the module only when the task is used."""

    def __init__(self, module_name: str) -> None:
        self.module_name = module_name

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """The module's ``add_arguments(parser)``, and ``func`` set to the module's ``run``."""
        module = importlib.import_module(self.module_name)
        module.add_arguments(parser)
        parser.set_defaults(func=module.run)


def add_task_subcommands(parser: argparse.ArgumentParser, tasks: dict[str, tuple[str, str]]) -> None:
    """Sub-subcommands of ``parser``: each task's module defines ``add_arguments(parser)`` and ``run(args)``.

    A task's module is imported only when that task is parsed (or its help shown).
    """
    subparsers = parser.add_subparsers(dest="task", metavar="TASK", required=True, parser_class=DeferredParser)
    for name, (module_name, help_text) in tasks.items():
        subparsers.add_parser(name, help=help_text, description=help_text,
                              populate=_TaskModule(module_name).add_arguments)
