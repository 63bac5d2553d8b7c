"""The one exception type the CLI turns into a one-line message and a non-zero exit."""

from __future__ import annotations

from pathlib import Path


class Human3DError(Exception):
    """A user-facing error: bad input, a wrong checkpoint, a missing file.

    The message is one line and names the file it is about, e.g.
    ``Human3DError.for_path("a.png", "not an image")`` -> ``a.png: not an image``.
    """

    @classmethod
    def for_path(cls, path: str | Path, problem: str) -> "Human3DError":
        """Build the error ``<path>: <problem>``."""
        return cls(f"{path}: {problem}")
