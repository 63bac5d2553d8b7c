"""Landmarks smoothed over a person's track: exact on quadratic motion, jitter removed, gaps and order kept."""

from __future__ import annotations

import numpy as np
import pytest

from human3d.people.finder import Person
from human3d.people.smoothing import centre_weights, half_window, smooth_people


def _person(person_id: int, x: float, y: float = 0.0) -> Person:
    landmarks = np.zeros((33, 4), np.float32)
    landmarks[:, 0], landmarks[:, 1] = x, y
    landmarks[:, 2], landmarks[:, 3] = 7.0, 0.9  # depth and visibility: left as found
    return Person(np.array([0, 0, 10, 20], np.float32), 0.8, landmarks, np.zeros((4, 4), bool),
                  np.zeros(4, np.float32), id=person_id)


def test_centre_weights_give_the_fitted_polynomial_at_the_centre():
    offsets = np.arange(-4, 5)
    np.testing.assert_allclose(centre_weights(offsets) @ (3.0 + 2.0 * offsets + 0.5 * offsets ** 2), 3.0)
    np.testing.assert_allclose(centre_weights(offsets).sum(), 1.0)
    edge = np.arange(0, 6)  # the first frame of a track: only frames after it
    np.testing.assert_allclose(centre_weights(edge) @ (1.0 - edge + edge ** 2), 1.0)
    np.testing.assert_allclose(centre_weights(np.array([0])), [1.0])
    np.testing.assert_allclose(centre_weights(np.array([0, 1])), [1.0, 0.0], atol=1e-12)  # a line through 2 points


def test_half_window_is_half_the_seconds_each_side_and_zero_turns_it_off():
    assert [half_window(fps) for fps in (24, 30, 60, 1)] == [9, 11, 22, 1]  # 0.75 s by default
    assert half_window(24, 0.5) == 6 and half_window(24, 0.0) == 0


def test_steady_acceleration_is_kept_and_jitter_removed():
    frames = np.arange(48)
    true_x = 100 + 4.0 * frames + 0.05 * frames ** 2  # a person speeding up across the image
    jitter = np.random.default_rng(0).normal(0, 2.0, len(frames))
    exact = [p[0].landmarks[0, 0] for _, p in smooth_people([(i, [_person(0, x)]) for i, x in enumerate(true_x)], 6)]
    np.testing.assert_allclose(exact, true_x, rtol=1e-5)  # no lag, no shrinking of the motion
    noisy = [(i, [_person(0, x + e)]) for i, (x, e) in enumerate(zip(true_x, jitter))]
    smoothed = np.array([p[0].landmarks[0, 0] for _, p in smooth_people(noisy, 6)])
    inner = slice(6, -6)
    assert np.abs(smoothed - true_x)[inner].mean() < 0.6 * np.abs(jitter)[inner].mean()  # about half the jitter
    first = noisy[10][1][0]
    assert first.landmarks[0, 0] == pytest.approx(true_x[10] + jitter[10])  # the input is not changed


def test_every_frame_comes_out_in_order_and_each_person_is_smoothed_on_their_own_track():
    stream = []
    for i in range(20):
        people = [_person(0, 10.0 * i)]
        if 5 <= i < 9 or 12 <= i < 15:  # person 1 is seen twice, with a gap between
            people.append(_person(1, 1000.0 + (50.0 if i >= 12 else 0.0), 3.0))
        stream.append((f"frame {i}", people))
    out = list(smooth_people(stream, 3))
    assert [name for name, _ in out] == [name for name, _ in stream]
    assert [len(p) for _, p in out] == [len(p) for _, p in stream]
    for (_, people), (_, before) in zip(out, stream):
        for person, original in zip(people, before):
            assert person.id == original.id
            np.testing.assert_allclose(person.landmarks[:, 2:], original.landmarks[:, 2:])
            np.testing.assert_allclose(person.landmarks[:, :2], original.landmarks[:, :2], atol=1e-3)  # linear or
            # constant motion is kept exactly, and the gap keeps person 1's two stretches apart
    assert list(smooth_people([], 3)) == [] and len(list(smooth_people(stream[:2], 3))) == 2
    assert [name for name, _ in smooth_people(stream, 0)] == [name for name, _ in stream]
