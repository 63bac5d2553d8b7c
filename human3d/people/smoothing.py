"""Steadier landmarks of people followed through a video: a centred least-squares quadratic per landmark.

The people finder's landmarks jitter from frame to frame by 1 to 2 % of a person's height, about as much
as a foot moves in a frame. For each tracked person and each frame, :func:`smooth_people` fits a
quadratic in time to each landmark's pixel position over the frames within ``half`` before and after
(a Savitzky-Golay filter) and keeps its value at that frame. A centred quadratic follows steady motion
and acceleration, so it removes jitter without the lag of a moving average; the price is that a frame
leaves ``half`` frames late (the frames waiting are all it keeps). At the start or end of a person's
track, and around a gap in it, the window holds only the frames the person is seen in without a break.
Visibility, depth, mask and box are left as found.
"""

from __future__ import annotations

import dataclasses
from typing import Iterable, Iterator, Sequence

import numpy as np

from human3d.people.windows import Pair, centred_windows, people_by_id, seen_around

SMOOTH_SECONDS = 0.75  # the window's length: 0.375 s before and after the frame (9 frames each side at 24 fps)
ORDER = 2  # the fitted polynomial's degree (quadratic)


def half_window(fps: float, seconds: float = SMOOTH_SECONDS) -> int:
    """Frames on each side of the smoothed frame for a window of ``seconds`` in a video of ``fps`` frames
    per second (0 when ``seconds`` is 0: no smoothing; else at least 1)."""
    return max(1, int(round(seconds * fps / 2))) if seconds > 0 else 0


def centre_weights(offsets: np.ndarray, order: int = ORDER) -> np.ndarray:
    """Weights ``w`` (len(offsets),) such that ``w @ values`` is the value at offset 0 of the least-squares
    polynomial of degree ``order`` (lowered to fit the number of samples) through ``values`` at ``offsets``."""
    degree = min(order, len(offsets) - 1)
    basis = np.vander(np.asarray(offsets, dtype=np.float64), degree + 1, increasing=True)
    return np.linalg.pinv(basis)[0]


def smooth_people(stream: Iterable[Pair], half: int) -> Iterator[Pair]:
    """The ``(item, people)`` pairs of ``stream`` (consecutive frames, people with their tracker ids), each
    person's landmark pixels smoothed over ``half`` frames on each side; every pair comes out ``half``
    pairs late (all of them by the end). ``half`` 0 passes the stream through."""
    for window, centre in centred_windows(stream, half, half):
        yield smoothed_pair(window, centre)


def smoothed_pair(window: Sequence[Pair], centre: int) -> Pair:
    """The pair at ``centre`` of ``window`` with each person's landmarks smoothed over the window's frames
    in which that person is seen without a break around the centre."""
    item, people = window[centre]
    by_frame = people_by_id(window)
    out = []
    for person in people:
        first, last = seen_around(by_frame, centre, person.id)
        if last == first:
            out.append(person)
            continue
        weights = centre_weights(np.arange(first, last + 1) - centre)
        pixels = np.stack([by_frame[i][person.id].landmarks[:, :2] for i in range(first, last + 1)])
        landmarks = np.array(person.landmarks, dtype=np.float32, copy=True)
        landmarks[:, :2] = np.tensordot(weights, pixels, axes=1)
        out.append(dataclasses.replace(person, landmarks=landmarks))
    return item, out
