"""The pose guide: limb ridges from COCO-17 keypoints, the mask, and what a guided network is given."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from human3d.densepose.light.model import LightConfig, LightDensePose
from human3d.densepose.light.person_crops import PersonCropPredictor, crop_keypoints, crop_square, cut_square
from human3d.densepose.light.pose_guide import (
    DRAW_STRIDE,
    GUIDE_CHANNELS,
    GUIDE_SIGMA,
    LIMBS,
    MIN_SCORE,
    limb_ridges,
    pose_guide,
)
from human3d.densepose.predictor import predictor_for
from human3d.errors import Human3DError
from human3d.people.finder import Person

LEFT_FOREARM, RIGHT_FOREARM, HEAD = 1, 3, len(LIMBS) - 1


def _keypoints(score: float = 1.0) -> np.ndarray:
    """A standing person in a 128 crop: arms hanging, legs straight."""
    xy = {0: (64, 14), 1: (60, 12), 2: (68, 12), 3: (56, 14), 4: (72, 14), 5: (50, 30), 6: (78, 30),
          7: (46, 50), 8: (82, 50), 9: (44, 70), 10: (84, 70), 11: (54, 70), 12: (74, 70),
          13: (54, 95), 14: (74, 95), 15: (54, 120), 16: (74, 120)}
    return np.array([[*xy[k], score] for k in range(17)], np.float32)


def test_a_limb_is_a_ridge_along_its_segment_on_its_own_side():
    ridges = limb_ridges(_keypoints(), 128)
    assert ridges.shape == (128, 128, len(LIMBS)) and ridges.dtype == np.float32
    left, right = ridges[..., LEFT_FOREARM], ridges[..., RIGHT_FOREARM]
    assert left[60, 45] > 0.8 and left[60, 84] < 0.01  # on the left forearm, not on the right one
    assert right[60, 83] > 0.8 and right[60, 45] < 0.01
    assert left[60, 64] < 0.05  # the middle of the body is far from both forearms
    assert ridges[13, 64, HEAD] > 0.9


def test_ridges_are_the_gaussian_of_the_distance_to_their_segment_and_never_subnormal():
    size = 256
    keypoints = _keypoints() * np.array([2, 2, 1], np.float32)
    ridges = limb_ridges(keypoints, size)
    cells = (np.arange(size // DRAW_STRIDE) + 0.5) * DRAW_STRIDE  # where the ridges are drawn, before enlarging
    (ax, ay), (bx, by) = keypoints[7, :2], keypoints[9, :2]  # the left forearm: elbow to wrist
    px, py = np.meshgrid(cells, cells)
    t = np.clip(((px - ax) * (bx - ax) + (py - ay) * (by - ay)) / ((bx - ax) ** 2 + (by - ay) ** 2), 0, 1)
    exact = np.exp(-((px - ax - t * (bx - ax)) ** 2 + (py - ay - t * (by - ay)) ** 2) / (2 * (GUIDE_SIGMA * size) ** 2))
    enlarged = cv2.resize(exact.astype(np.float32), (size, size), interpolation=cv2.INTER_LINEAR)
    np.testing.assert_allclose(ridges[..., LEFT_FOREARM], enlarged, atol=1e-6)
    tiny = np.finfo(np.float32).tiny  # the smallest normal float32
    assert not ((ridges > 0) & (ridges < tiny)).any()
    assert (ridges == 0).mean() > 0.5  # far from every limb: exactly 0


def test_keypoints_under_the_score_are_not_drawn_and_the_mask_is_the_last_channel():
    keypoints = _keypoints()
    keypoints[9, 2] = MIN_SCORE - 0.01  # the left wrist is not seen: no left forearm
    mask = np.zeros((128, 128), bool)
    mask[10:120, 40:90] = True
    guide = pose_guide(keypoints, mask)
    assert guide.shape == (128, 128, GUIDE_CHANNELS)
    assert guide[..., LEFT_FOREARM].max() == 0 and guide[..., RIGHT_FOREARM].max() > 0.9
    np.testing.assert_array_equal(guide[..., -1], mask.astype(np.float32))
    assert not pose_guide(np.zeros((17, 3), np.float32), mask)[..., :-1].any()


def test_crop_keypoints_follow_the_crop():
    keypoints = np.array([[100.0, 60.0, 0.9]] * 17, np.float32)
    moved = crop_keypoints(keypoints, 80.0, 40.0, 40.0, size=80)  # a 40 px square shown at 80 px
    np.testing.assert_allclose(moved[0], [40.0, 40.0, 0.9])


class RecordingNetwork:
    """A guided network stand-in: keeps what it is given, answers background everywhere."""

    guide_channels = GUIDE_CHANNELS

    def __init__(self) -> None:
        self.inputs: list[torch.Tensor] = []

    def __call__(self, images: torch.Tensor, guide: torch.Tensor | None = None) -> torch.Tensor:
        self.inputs = [images, guide]
        output = torch.zeros(images.shape[0], 80, images.shape[2] // 4, images.shape[3] // 4)
        output[:, 5] = 10.0  # the background part logit
        return output


class FixedPeople:
    def __init__(self, people: list[Person]) -> None:
        self.people = people

    def find(self, image: np.ndarray) -> list[Person]:
        return list(self.people)


def test_the_crop_predictor_hands_a_guided_network_each_persons_guide():
    mask = np.zeros((300, 200), bool)
    mask[40:260, 60:140] = True
    keypoints = np.zeros((33, 4), np.float32)
    person = Person(np.array([60, 40, 140, 260], np.float32), 0.9, keypoints, mask, np.zeros(4, np.float32))
    network = RecordingNetwork()
    result = PersonCropPredictor(network, FixedPeople([person]))(np.zeros((300, 200, 3), np.uint8))
    images, guide = network.inputs
    assert images.shape == (1, 3, 256, 256) and guide.shape == (1, GUIDE_CHANNELS, 256, 256)
    expected_mask = cut_square(mask.view(np.uint8), *crop_square(person.box_xyxy), 256, fill=0)
    np.testing.assert_array_equal(guide[0, -1].numpy(), expected_mask)
    assert set(np.unique(expected_mask)) == {0, 1}  # rounded to 0 or 1, as the training's mask
    assert len(result) == 1 and not result.labels[0].any()  # background everywhere: no part


def test_a_guided_model_needs_its_guide_and_the_people_finder():
    model = LightDensePose(LightConfig(widths=(8, 16, 24, 32, 48), depths=(1, 1, 1, 1), decoder=16,
                                       guide=GUIDE_CHANNELS)).eval()
    assert model.guide_channels == GUIDE_CHANNELS
    image = torch.zeros(1, 3, 64, 64)
    assert model(image, torch.zeros(1, GUIDE_CHANNELS, 64, 64)).shape == (1, 80, 16, 16)
    with pytest.raises(Human3DError, match="reads a pose guide of 14 channels"):
        model(image)
    with pytest.raises(Human3DError, match="cannot run without the people finder"):
        predictor_for(model)
