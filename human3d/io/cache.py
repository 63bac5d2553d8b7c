"""Where human3d keeps what it builds once per machine: ``$HUMAN3D_CACHE`` (default ``~/.cache/human3d``)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir(name: str) -> Path:
    """The cache folder of one part of human3d: ``$HUMAN3D_CACHE/<name>`` (not created here)."""
    return Path(os.environ.get("HUMAN3D_CACHE", Path.home() / ".cache" / "human3d")) / name
