"""Shared test fixtures: where the reference material in ``../shared`` lives."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` beside the checkout; tests that need it skip cleanly where it is absent."""
    if not (SHARED / "README.md").is_file():
        pytest.skip(f"reference material not found at {SHARED}")
    return SHARED
