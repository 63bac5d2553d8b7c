"""BlazePose's landmark model on a given square, run with LiteRT: the geometry, the heatmap refinement, and
agreement with MediaPipe's own whole-image landmarker on our example person."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from human3d.io.images import read_image
from human3d.people.roi_landmarks import (
    INPUT_SIZE,
    REFINE_MIN_CONFIDENCE,
    RegionLandmarker,
    refine_with_heatmap,
    region_transform,
    sigmoid,
)
from human3d.people.tiles import Window

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "person.png"


def test_the_region_transform_maps_the_square_onto_the_model_input():
    transform = region_transform((300.0, 200.0), 128.0)
    corners = np.array([[236.0, 136.0, 1.0], [364.0, 264.0, 1.0], [300.0, 200.0, 1.0]])
    np.testing.assert_allclose(corners @ transform.T, [[0, 0], [INPUT_SIZE, INPUT_SIZE], [128, 128]], atol=1e-4)


def test_sigmoid_is_the_logistic_function_without_overflow_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = sigmoid(np.array([-1000.0, 0.0, 2.0, 1000.0]))
    np.testing.assert_allclose(values, [0.0, 0.5, 1 / (1 + np.exp(-2.0)), 1.0], atol=1e-6)


def test_the_heatmap_moves_a_landmark_to_its_confident_peak_and_leaves_the_rest():
    heatmaps = np.full((64, 64, 3), -20.0, np.float32)
    heatmaps[30, 40, 0] = 10.0  # landmark 0: a sharp peak two cells right and one down of where it is
    heatmaps[10, 10, 1] = np.log(REFINE_MIN_CONFIDENCE * 0.9 / (1 - REFINE_MIN_CONFIDENCE * 0.9))  # too weak
    cell = INPUT_SIZE / 64
    xy = np.array([[38.2 * cell, 29.5 * cell], [10.5 * cell, 10.5 * cell], [-5.0, 100.0]], np.float32)
    refined = refine_with_heatmap(xy, heatmaps)
    np.testing.assert_allclose(refined[0], [40 * cell, 30 * cell], atol=0.01)
    np.testing.assert_array_equal(refined[1:], xy[1:])  # not confident; off the map


@pytest.fixture(scope="module")
def example_rgb() -> np.ndarray:
    return read_image(EXAMPLE)[..., :3]


def test_the_landmarks_and_mask_agree_with_mediapipes_own_landmarker(finder, example_rgb):
    """The whole-image pass (MediaPipe's PoseLandmarker: detector, then the same landmark model on a rotated
    square) and ours on an upright square around that person see the same body."""
    height, width = example_rgb.shape[:2]
    people = finder.detect(example_rgb, Window(0, 0, width, height), (width, height))
    assert len(people) == 1
    person = people[0]
    x1, y1, x2, y2 = person.box_xyxy
    regions = RegionLandmarker()
    try:
        centre, side = ((x1 + x2) / 2, (y1 + y2) / 2), 1.25 * max(x2 - x1, y2 - y1)
        landmarks, probability, flag = regions.find(example_rgb, centre, side)
    finally:
        regions.close()
    assert flag > 0.9
    seen = (person.landmarks[:, 3] > 0.5) & (landmarks[:, 3] > 0.5)
    assert seen.sum() >= 25
    error = np.linalg.norm(landmarks[seen, :2] - person.landmarks[seen, :2], axis=1) / (y2 - y1)
    assert np.median(error) < 0.01 and error.max() < 0.04  # measured 0.005 and 0.015 of the body's height
    mask = probability > 0.5
    assert (mask & person.mask).sum() / (mask | person.mask).sum() > 0.95  # measured 0.975


def test_nobody_in_a_flat_square():
    pytest.importorskip("mediapipe")  # the model file ships in its wheel
    regions = RegionLandmarker()
    try:
        assert regions.find(np.full((300, 300, 3), 90, np.uint8), (150.0, 150.0), 200.0) is None
    finally:
        regions.close()


def test_building_the_runner_writes_nothing_to_stderr(capfd):
    pytest.importorskip("mediapipe")
    RegionLandmarker().close()  # LiteRT announces its XNNPACK delegate on stderr unless silenced
    assert capfd.readouterr().err == ""
