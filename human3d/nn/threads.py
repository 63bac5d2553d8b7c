"""How many threads torch uses for a block: one beside a background thread that runs another library.

The people finder (MediaPipe) works in a background thread while torch runs this frame's model
(:func:`human3d.io.read_ahead.read_ahead`). On two cores, torch with two threads beside it slows down more
than the overlap gains; its many small operations gain little from a second thread anyway.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import torch


@contextlib.contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run the block with ``count`` torch threads (at most as many as before), then restore the number."""
    before = torch.get_num_threads()
    torch.set_num_threads(max(1, min(count, before)))
    try:
        yield
    finally:
        torch.set_num_threads(before)
