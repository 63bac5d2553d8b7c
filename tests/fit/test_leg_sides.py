"""Which leg is which: the finder overruled for a few frames, then the fit's legs exchanged, mirrored."""

from __future__ import annotations

import numpy as np
import torch

from human3d.fit.leg_sides import leg_sides, legs_swapped, mirrored_legs, seen_sideways, swap_leg_targets
from human3d.fit.priors import FITTED_BONES


def sideways_keypoints(seed: int) -> np.ndarray:
    """Random keypoints (17, 2) of a person 200 pixels tall whose hips are 5 pixels apart (seen from the side)."""
    last = np.random.default_rng(seed).uniform(0, 200, size=(17, 2))
    last[12] = last[11] + [3.0, 4.0]
    return last


def targets_near(last: np.ndarray, seed: int = 2):
    rng = np.random.default_rng(seed)
    return last + rng.normal(0, 1.0, size=(17, 2)), np.ones(17), np.arange(17.0)


def test_exchanged_knees_and_ankles_are_seen_and_put_back():
    last = sideways_keypoints(2)
    targets = targets_near(last)
    exchanged = swap_leg_targets(targets)
    assert np.array_equal(exchanged[0][[13, 14, 15, 16]], targets[0][[14, 13, 16, 15]])
    assert np.array_equal(exchanged[2][[13, 15]], [14.0, 16.0]) and np.array_equal(exchanged[0][:13], targets[0][:13])
    assert legs_swapped(exchanged, last) and not legs_swapped(targets, last)
    put_back, doubts, exchange = leg_sides(exchanged, last, 200.0, doubts=0, patience=3)
    assert np.array_equal(put_back[0], targets[0]) and doubts == 1 and not exchange
    kept, doubts, exchange = leg_sides(targets, last, 200.0, doubts=2, patience=3)  # agreeing again: doubts forgotten
    assert np.array_equal(kept[0], targets[0]) and doubts == 0 and not exchange


def test_a_finder_that_insists_wins_and_the_fit_gives_way():
    last = sideways_keypoints(3)
    exchanged = swap_leg_targets(targets_near(last))
    doubts = 0
    for _ in range(3):  # overruled for as many frames as the patience
        put_back, doubts, exchange = leg_sides(exchanged, last, 200.0, doubts, patience=3)
        assert not exchange and legs_swapped(exchanged, last)
    kept, doubts, exchange = leg_sides(exchanged, last, 200.0, doubts, patience=3)
    assert exchange and doubts == 0 and np.array_equal(kept[0], exchanged[0])


def test_facing_the_camera_the_finder_is_always_overruled():
    last = sideways_keypoints(5)
    last[12] = last[11] + [40.0, 0.0]  # hips 20 % of the height apart: facing the camera
    assert seen_sideways(sideways_keypoints(5), 200.0) and not seen_sideways(last, 200.0)
    exchanged = swap_leg_targets(targets_near(last))
    put_back, doubts, exchange = leg_sides(exchanged, last, 200.0, doubts=10, patience=3)
    assert not exchange and doubts == 11 and np.array_equal(put_back[0][[13, 14]], exchanged[0][[14, 13]])


def test_a_knee_hidden_from_view_does_not_count():
    last = sideways_keypoints(4)
    points, weight, depth = swap_leg_targets(targets_near(last))
    weight[[13, 14, 15, 16]] = 0.0  # not seen: no evidence either way
    assert not legs_swapped((points, weight, depth), last)


def test_mirrored_legs_are_the_mirror_image_of_the_other_leg():
    from human3d.fit.body_fit import default_fitter

    rng = np.random.default_rng(0)
    pose = np.zeros((len(FITTED_BONES), 3), np.float32)
    for bone in ("upperleg01.L", "lowerleg01.L", "foot.L", "upperleg01.R", "lowerleg01.R"):
        pose[FITTED_BONES.index(bone)] = rng.normal(0, 0.4, 3)
    mirrored = mirrored_legs(pose, list(FITTED_BONES))
    assert np.array_equal(mirrored_legs(mirrored, list(FITTED_BONES)), pose)  # exchanged twice: as before
    spine = FITTED_BONES.index("spine02")
    turned = pose.copy()
    turned[spine] = 0.3
    assert np.array_equal(mirrored_legs(turned, list(FITTED_BONES))[spine], turned[spine])  # only legs change
    fitter, phenotype = default_fitter(), torch.full((1, 6), 0.5)
    _, original = fitter.forward(phenotype, torch.tensor(pose)[None])
    _, exchanged = fitter.forward(phenotype, torch.tensor(mirrored)[None])
    # anny is symmetric about x = 0 (its root at the origin): the right leg is where the left was, mirrored
    mirror = torch.tensor([-1.0, 1.0, 1.0])
    assert torch.allclose(exchanged[0, [14, 13, 16, 15]] * mirror, original[0, [13, 14, 15, 16]], atol=1e-4)
