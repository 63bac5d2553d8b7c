"""Windows of frames around each frame of a stream of tracked people: what the video stages that look
before and after a frame (:mod:`human3d.people.smoothing`, :mod:`human3d.people.leg_sides`) walk through.

A stage reads ``(item, people)`` pairs (one per frame, people with their tracker ids) and gives each pair out
once the frames it looks at after it have come in, so it holds only a window of frames: memory stays flat in
the video's length.
"""

from __future__ import annotations

import collections
from typing import Iterable, Iterator, Sequence, TypeVar

from human3d.people.finder import Person

Item = TypeVar("Item")
Pair = tuple[Item, list[Person]]


def centred_windows(stream: Iterable[Pair], before: int, after: int
                    ) -> Iterator[tuple[collections.deque[Pair], int]]:
    """For each pair of ``stream`` in order, ``(window, centre)``: the window holds that pair at ``centre`` with
    up to ``before`` pairs before it and ``after`` after it (fewer at the stream's ends). Each is yielded once
    its ``after`` pairs have come in (all by the end); the window is only valid until the next one."""
    window: collections.deque[Pair] = collections.deque()
    start = done = 0  # the index of the window's first pair; the number of pairs given out
    for pair in stream:
        window.append(pair)
        while done + after < start + len(window):  # the pair ``done`` has its ``after`` pairs after it
            yield window, done - start
            done += 1
            while start < done - before:  # no longer in any window to come
                window.popleft()
                start += 1
    while done < start + len(window):
        yield window, done - start
        done += 1


def seen_around(by_frame: Sequence[dict[int, Person]], centre: int, identity: int) -> tuple[int, int]:
    """The first and last index of the run of frames of ``by_frame`` (each frame's people by id) around
    ``centre`` in which the person ``identity`` is seen without a break."""
    first = last = centre
    while first > 0 and identity in by_frame[first - 1]:
        first -= 1
    while last < len(by_frame) - 1 and identity in by_frame[last + 1]:
        last += 1
    return first, last


def people_by_id(window: Iterable[Pair]) -> list[dict[int, Person]]:
    """Each frame of ``window``: its people by tracker id."""
    return [{person.id: person for person in people} for _, people in window]
