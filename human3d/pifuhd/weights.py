"""Where PIFuHD weights come from, where they are kept, and their licence.

Nothing is downloaded by this module: ``human3d weights`` prints the official address and the
folder to put the file in (``$HUMAN3D_WEIGHTS``, default ``~/.cache/human3d/weights``). The package
ships its own small default weights (trained on our licence-free synthetic data), used when no
official checkpoint is installed.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, TextIO

ENV_VAR = "HUMAN3D_WEIGHTS"


@dataclass(frozen=True)
class WeightsInfo:
    """One downloadable checkpoint."""

    name: str
    filename: str
    url: str
    upstream: str
    licence: str
    non_commercial: bool
    description: str


OFFICIAL_PIFUHD = WeightsInfo(
    name="pifuhd",
    filename="pifuhd.pt",
    url="https://dl.fbaipublicfiles.com/pifuhd/checkpoints/pifuhd.pt",
    upstream="https://github.com/facebookresearch/pifuhd",
    licence="CC BY-NC 4.0 (Creative Commons Attribution-NonCommercial 4.0; non-commercial use only)",
    non_commercial=True,
    description="official PIFuHD checkpoint (Saito et al., CVPR 2020), 1.5 GB",
)
BUNDLED_PIFUHD = WeightsInfo(
    name="human3d_pifuhd_small",
    filename="human3d_pifuhd_small.pt",
    url="",
    upstream="shipped inside the human3d package (human3d/pifuhd/default_weights/)",
    licence="Apache-2.0 (trained by human3d on its own synthetic data: no third-party images or weights)",
    non_commercial=False,
    description="human3d's default PIFuHD weights (the 'small' configuration of `human3d train pifuhd`), about 20 MB",
)
BUNDLED_DIR = Path(__file__).resolve().parent / "default_weights"
KNOWN_WEIGHTS = (OFFICIAL_PIFUHD,)
OFFICIAL_RUN_NAMES = {"pifuhd_final"}

_announced: set[str] = set()


def weights_dir() -> Path:
    """The weights folder: ``$HUMAN3D_WEIGHTS`` if set, else ``~/.cache/human3d/weights``."""
    configured = os.environ.get(ENV_VAR)
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "human3d" / "weights"


def installed_path(info: WeightsInfo = OFFICIAL_PIFUHD) -> Path:
    """Where ``info``'s file is expected in the weights folder."""
    return weights_dir() / info.filename


def bundled_path() -> Path:
    """Where the package keeps its own default weights."""
    return BUNDLED_DIR / BUNDLED_PIFUHD.filename


def default_checkpoint() -> Path | None:
    """The first installed known checkpoint, else the bundled default weights, else None."""
    for info in KNOWN_WEIGHTS:
        if installed_path(info).is_file():
            return installed_path(info)
    return bundled_path() if bundled_path().is_file() else None


def is_official(path: str | Path, checkpoint: Mapping[str, Any]) -> bool:
    """True for the official non-commercial weights (by file name or the stored run name)."""
    opt = checkpoint.get("opt")
    run_name = getattr(opt, "name", None)
    return Path(path).name == OFFICIAL_PIFUHD.filename or run_name in OFFICIAL_RUN_NAMES


def announce_licence(info: WeightsInfo = OFFICIAL_PIFUHD, stream: TextIO | None = None) -> None:
    """Print ``info``'s licence once per process (to stderr)."""
    if info.name in _announced:
        return
    _announced.add(info.name)
    print(f"note: using the {info.description}; licence {info.licence}; source {info.upstream}", file=stream or sys.stderr)


def describe() -> str:
    """Human-readable report: each known checkpoint, its source, licence and whether it is installed."""
    lines = [f"weights folder: {weights_dir()}  (set {ENV_VAR} to use another folder)", ""]
    for info in KNOWN_WEIGHTS:
        path = installed_path(info)
        state = "installed" if path.is_file() else "not installed"
        lines += [
            f"{info.name}: {info.description}",
            f"  status:   {state} ({path})",
            f"  upstream: {info.upstream}",
            f"  licence:  {info.licence}",
            f"  get it:   download {info.url}",
            f"            and save it as {path}",
            f"            e.g. mkdir -p '{path.parent}' && curl -L -o '{path}' {info.url}",
        ]
    bundled = bundled_path()
    lines += [
        "",
        f"{BUNDLED_PIFUHD.name}: {BUNDLED_PIFUHD.description}",
        f"  status:   {'bundled' if bundled.is_file() else 'missing from this installation'} ({bundled})",
        f"  licence:  {BUNDLED_PIFUHD.licence}",
        "  used when no official checkpoint is installed and no --checkpoint is given",
        "",
        "human3d never downloads weights by itself; any checkpoint in this format works with --checkpoint PATH.",
    ]
    return "\n".join(lines)
