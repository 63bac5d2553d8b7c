"""The one rule every command uses to choose weights, and the licence notice for non-commercial ones.

:func:`resolve_weights`: an explicit ``--checkpoint`` path wins; else the installed official file of the
task (in the weights folder); else the file bundled in the package; else a one-line
:class:`~human3d.errors.Human3DError` saying where weights come from. Imports no torch.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from human3d.errors import Human3DError
from human3d.weights.registry import BUNDLED, OFFICIAL, WEIGHTS, WeightsEntry, get_weights, list_weights, weights_dir

_announced: set[str] = set()


def existing_checkpoint(path: str | Path) -> Path:
    """``path`` when it is a file; else the one-line error ``<path>: checkpoint not found``."""
    path = Path(path)
    if not path.is_file():
        raise Human3DError.for_path(path, "checkpoint not found")
    return path


def no_weights_message(task: str) -> str:
    """One line for ``task``: no weights are present, where official files come from, how to pass one."""
    if task == "pifuhd":
        return (f"no PIFuHD weights are installed (looked in {weights_dir()}); run `human3d weights` to see where to "
                "get them, or pass --checkpoint PATH")
    if task in ("densepose-light", "densepose-light-people"):
        url = get_weights("densepose_rcnn_R_50_FPN_s1x").url
        return ("no DensePose weights are installed (the bundled light model's file is missing); download an official "
                f"detectron2 DensePose model-zoo checkpoint, e.g. {url} (other configs: see docs; licence as stated by "
                "the DensePose model zoo) and pass it with --checkpoint FILE.pkl")
    list_weights(task)  # an unknown task is a one-line error
    return (f"no {task} weights are installed (looked in {weights_dir()}); run `human3d weights` to see where to "
            "get them, or pass --checkpoint PATH")


def resolve_weights(task: str, checkpoint: str | Path | None = None) -> Path:
    """The weights file to load for ``task`` (one of :data:`~human3d.weights.registry.TASKS`).

    ``checkpoint`` (an explicit path) wins and must exist; else the first installed official file of
    ``task`` in the weights folder; else the task's bundled file; else a one-line ``Human3DError``.
    """
    if checkpoint is not None:
        return existing_checkpoint(checkpoint)
    entries = list_weights(task)
    for kind in (OFFICIAL, BUNDLED):
        for entry in entries:
            if entry.kind == kind and entry.present:
                return entry.path
    raise Human3DError(no_weights_message(task))


def identify(path: str | Path, task: str | None = None, run_name: str | None = None) -> WeightsEntry | None:
    """The registered model a file is (by its file name, or by the run name stored in it), else None."""
    name = Path(path).name
    for entry in WEIGHTS:
        if task is not None and entry.task != task:
            continue
        if entry.filename == name or (run_name is not None and run_name in entry.run_names):
            return entry
    return None


def announce_licence(entry: WeightsEntry, stream: TextIO | None = None) -> None:
    """Print ``entry``'s licence once per process (to stderr)."""
    if entry.name in _announced:
        return
    _announced.add(entry.name)
    print(f"note: using the {entry.description}; licence {entry.licence}; source {entry.upstream}",
          file=stream or sys.stderr)


def announce_if_non_commercial(path: str | Path, task: str, run_name: str | None = None) -> None:
    """Show the licence (once per process) when ``path`` is a registered non-commercial model of ``task``."""
    entry = identify(path, task, run_name)
    if entry is not None and entry.non_commercial:
        announce_licence(entry)
