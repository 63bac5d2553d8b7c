"""Produce the items of an iterator in a background thread, a bounded number ahead of their consumer.

``human3d motion`` finds the people of the next frames (MediaPipe, which waits outside Python's lock)
while the body fit of this frame runs (torch): on two cores the two overlap. At most ``size`` items wait,
so memory stays bounded whatever the video's length.
"""

from __future__ import annotations

import queue
import threading
from typing import Iterable, Iterator, TypeVar

Item = TypeVar("Item")
_END = object()
_POLL = 0.1  # seconds between checks of whether the consumer stopped


def read_ahead(items: Iterable[Item], size: int) -> Iterator[Item]:
    """The items of ``items`` in order, produced in a background thread at most ``size`` ahead. An exception
    raised while producing is raised here, where its item would have come. Closing the iterator (or leaving
    the loop over it) stops the thread after the item it is producing."""
    if size < 1:
        raise ValueError(f"size must be at least 1, got {size}")
    slots: queue.Queue = queue.Queue(maxsize=size)
    stop = threading.Event()

    def hand_over(entry: tuple) -> bool:
        while not stop.is_set():
            try:
                slots.put(entry, timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not hand_over((item, None)):
                    return
            hand_over((_END, None))
        except BaseException as error:  # handed to the consumer, raised there
            hand_over((_END, error))

    thread = threading.Thread(target=produce, name="read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item, error = slots.get()
            if item is _END:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()
        thread.join()
