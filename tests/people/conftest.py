"""The people finder needs mediapipe (the wheel that ships the models): these tests skip without it."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def finder():
    """One finder for the session, with the small-people pass."""
    pytest.importorskip("mediapipe")
    from human3d.people.finder import PeopleFinder

    people_finder = PeopleFinder()
    yield people_finder
    people_finder.close()
