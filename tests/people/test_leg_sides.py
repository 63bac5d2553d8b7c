"""Naming a followed person's legs from the spots their feet stand on."""

from __future__ import annotations

import numpy as np

from human3d.people.finder import Person
from human3d.people.landmarks import LANDMARK_NAMES
from human3d.people.leg_sides import (
    LEGS,
    SideWindow,
    exchanged_frames,
    foot_points,
    name_leg_sides,
    planted_feet,
    stance_sides,
    with_legs_exchanged,
)
from human3d.people.windows import centred_windows

GROUND, HEIGHT = 200.0, 180.0
CYCLE, STANCE, STRIDE = 24, 14, 120.0  # frames of one gait cycle, of them on the ground; pixels of one stride


def foot_x(frame: int, start: float, offset: int) -> tuple[float, float]:
    """A walking foot's x and lift (pixels): planted for ``STANCE`` frames of each cycle, then swung a stride."""
    cycle, phase = divmod(frame + offset, CYCLE)
    if phase < STANCE:
        return start + cycle * STRIDE, 0.0
    swing = (phase - STANCE) / (CYCLE - STANCE)
    return start + cycle * STRIDE + STRIDE * swing, 12.0 * np.sin(np.pi * swing)


def person(left: tuple[float, float], right: tuple[float, float], rng: np.random.Generator, identity: int = 1
           ) -> Person:
    """A person seen from the side whose feet are at ``left`` and ``right`` (x, lift), with 1 pixel of noise."""
    landmarks = np.zeros((33, 4), np.float32)
    landmarks[:, 3] = 0.9
    centre = (left[0] + right[0]) / 2
    landmarks[:, :2] = (centre, GROUND - 0.6 * HEIGHT)  # everything above the legs stays at the hips
    for leg, (x, lift) in zip(LEGS, (left, right)):
        y = GROUND - 6.0 - lift
        landmarks[list(leg)] = [[(x + centre) / 2 + 6, GROUND - 0.3 * HEIGHT, 0, 0.9], [x, y, 0, 0.9],
                                [x - 6, y + 4, 0, 0.9], [x + 14, y + 4, 0, 0.9]]  # knee, ankle, heel, toe
    landmarks[:, :2] += rng.normal(0.0, 1.0, (33, 2))
    box = np.array([centre - 50, GROUND - HEIGHT, centre + 50, GROUND], np.float32)
    return Person(box, 0.9, landmarks, np.zeros((1, 1), bool), np.zeros(4, np.float32), identity)


def walk(frames: int, wrong: set[int], seed: int = 0) -> list[Person]:
    """A walker's frames, the legs exchanged (as the people finder does) in the frames ``wrong``."""
    rng = np.random.default_rng(seed)
    track = [person(foot_x(t, 100.0, 0), foot_x(t, 160.0, CYCLE // 2), rng) for t in range(frames)]
    return [with_legs_exchanged(p) if t in wrong else p for t, p in enumerate(track)]


def landing_runs(frames: int, length: int = 7) -> set[int]:
    """The first ``length`` frames after every other landing of a foot: where the finder tends to be wrong."""
    landings = [t for t in range(1, frames) if (t + CYCLE // 2) % CYCLE == 0]  # the right foot lands
    return {t + k for t in landings for k in range(length) if t + k < frames}


def test_legs_exchanged_for_whole_steps_are_named_back():
    wrong = landing_runs(96)
    assert 10 < len(wrong) < 30
    found = exchanged_frames(walk(96, wrong), SideWindow.for_fps(24).stance)
    assert set(np.flatnonzero(found)) == wrong


def test_the_planted_spots_alternate_feet_and_follow_the_finder_where_it_is_right():
    track = walk(72, set())
    stances = planted_feet([foot_points(p.landmarks) for p in track], [HEIGHT] * len(track), 9)
    feet = stance_sides(stances)
    assert len(stances) >= 5 and all(a != b for a, b in zip(feet, feet[1:]))
    assert all(set(stance.sides.values()) == {foot} for stance, foot in zip(stances, feet))


def test_a_standing_person_and_feet_that_never_rest_keep_the_finder_sides():
    rng = np.random.default_rng(1)
    standing = [person((100.0, 0.0), (150.0, 0.0), rng) for _ in range(40)]
    assert not exchanged_frames(standing, 9).any()
    assert set(np.flatnonzero(exchanged_frames(standing[:5] + [with_legs_exchanged(p) for p in standing[5:8]]
                                               + standing[8:], 9))) == {5, 6, 7}
    sliding = [person((100.0 + 9 * t, 0.0), (150.0 + 9 * t, 0.0), rng) for t in range(40)]  # a panning camera
    sliding[10:20] = [with_legs_exchanged(p) for p in sliding[10:20]]
    assert not exchanged_frames(sliding, 9).any()


def test_exchanging_legs_moves_knees_to_toes_and_leaves_the_hips():
    walker = walk(1, set())[0]
    exchanged = with_legs_exchanged(walker)
    left_knee, right_knee = LANDMARK_NAMES.index("left_knee"), LANDMARK_NAMES.index("right_knee")
    left_hip = LANDMARK_NAMES.index("left_hip")
    assert np.array_equal(exchanged.landmarks[left_knee], walker.landmarks[right_knee])
    assert np.array_equal(exchanged.landmarks[left_hip], walker.landmarks[left_hip])
    assert np.array_equal(with_legs_exchanged(exchanged).landmarks, walker.landmarks)


def test_a_video_stream_comes_out_in_order_with_the_legs_named():
    wrong = landing_runs(96)
    track = walk(96, wrong)
    stream = [(t, [p] if t not in (40, 41) else []) for t, p in enumerate(track)]  # a 2-frame gap
    window = SideWindow.for_fps(24)
    out = list(name_leg_sides(iter(stream), window))
    assert [item for item, _ in out] == list(range(96)) and [len(people) for _, people in out] == [
        len(people) for _, people in stream]
    truth = walk(96, set())
    for t, people in out:
        if people and t not in range(36, 46):  # beside the gap the track is too short to name the sides
            assert np.allclose(people[0].landmarks, truth[t].landmarks), t


def test_centred_windows_hold_the_frames_before_and_after_each_one():
    seen = [(list(window), centre) for window, centre in centred_windows(iter(range(6)), 2, 1)]
    assert [window[centre] for window, centre in seen] == list(range(6))
    assert [(window[0], window[-1]) for window, _ in seen] == [(0, 1), (0, 2), (0, 3), (1, 4), (2, 5), (3, 5)]
