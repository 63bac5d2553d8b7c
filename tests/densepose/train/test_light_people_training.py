"""Training the light people model: person crops with their pose guide, the realism augmentations, a start
from the network-alone weights, and a short run that learns and loads as a guided model."""

from __future__ import annotations

import json

import numpy as np
import torch

from human3d.densepose.light.model import LightConfig, LightDensePose, checkpoint_state
from human3d.densepose.light.pose_guide import GUIDE_CHANNELS
from human3d.densepose.predictor import build_densepose
from human3d.densepose.rcnn.checkpoint import write_state_dict
from human3d.densepose.train.config import DensePoseTrainConfig
from human3d.densepose.train.dataset import DensePoseDataset
from human3d.densepose.train.light_people import (
    PersonCropItems,
    changed_edge,
    collate_crops,
    guide_keypoints,
    guided_model,
    hidden_region,
    train_light_people,
)
from human3d.nn.threads import torch_threads

TINY = LightConfig(widths=(8, 16, 24, 32, 48), depths=(1, 1, 1, 1), decoder=16)
STEPS = 60


def test_items_are_one_person_each_with_their_guide_and_dense_labels(light_data):
    dataset = DensePoseDataset(light_data)
    items = PersonCropItems(dataset, size=128)
    assert len(items) == sum(len(dataset.annotations[int(i["id"])]) for i in dataset.images) >= 6
    torch.manual_seed(1)
    item = items[0]
    assert item["image"].shape == (3, 128, 128) and item["guide"].shape == (GUIDE_CHANNELS, 128, 128)
    labelled = item["I"] > 0
    assert labelled.sum() > 200 and (item["I"] == 0).sum() > 200
    assert ((item["U"][labelled] >= 0) & (item["U"][labelled] <= 1)).all()
    # the person's labelled points lie on the mask channel (grown or shrunk by at most a few pixels)
    xy = item["xy"][labelled].long()
    assert item["guide"][-1][xy[:, 1], xy[:, 0]].float().mean() > 0.8
    assert item["guide"][:-1].amax() > 0.5  # some limbs drawn
    batch = collate_crops([items[0], items[1]])
    assert batch["image"].shape == (2, 3, 128, 128) and len(batch["points_batch"]) == len(batch["I"])


def test_guide_keypoints_drop_unseen_ones_and_keep_visible_ones_near():
    keypoints = np.zeros((17, 3), np.float32)
    keypoints[:, :2] = 100.0
    keypoints[:8, 2] = 2
    rng = np.random.default_rng(0)
    kept = np.mean([guide_keypoints(keypoints, 200.0, rng)[:, 2] for _ in range(200)], axis=0)
    assert (kept[8:] == 0).all() and (kept[:8] > 0.9).all()
    moved = guide_keypoints(keypoints, 200.0, rng)
    assert np.abs(moved[:8, :2] - 100).max() < 15


def test_occluders_and_border_cuts_hide_parts_of_the_crop():
    rng = np.random.default_rng(0)
    hidden_fractions = []
    for _ in range(200):
        crop = np.random.default_rng(1).random((64, 64, 3)).astype(np.float32)
        hidden, cut = hidden_region(64, rng, crop)
        assert not (cut & ~hidden).any()
        hidden_fractions.append(hidden.mean())
    hidden_fractions = np.array(hidden_fractions)
    assert 0.2 < (hidden_fractions > 0).mean() < 0.7 and hidden_fractions.max() < 0.9
    mask = np.zeros((40, 40), bool)
    mask[10:30, 10:30] = True
    sizes = {int(changed_edge(mask, rng).sum()) for _ in range(60)}
    assert min(sizes) < 400 < max(sizes)


def test_a_guided_start_from_network_alone_weights_answers_as_they_do_with_an_empty_guide(tmp_path):
    torch.manual_seed(0)
    alone = LightDensePose(TINY).eval()
    path = tmp_path / "alone.pkl"
    write_state_dict(checkpoint_state(alone), path)
    guided = guided_model(path).eval()
    assert guided.guide_channels == GUIDE_CHANNELS
    image = torch.rand(1, 3, 64, 64) * 255
    with torch.no_grad():
        torch.testing.assert_close(guided(image, torch.rand(1, GUIDE_CHANNELS, 64, 64) * 0), alone(image))


def test_a_short_run_learns_and_its_checkpoints_are_guided_models(light_data, tmp_path):
    torch.manual_seed(0)
    options = DensePoseTrainConfig(data=light_data, out=tmp_path / "run", model="light-people", steps=STEPS,
                                    batch_size=4, lr=4e-3, checkpoint_every=STEPS, seed=0)
    with torch_threads(1):
        final = train_light_people(options, TINY, progress=False)
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    first, last = np.mean([r["parts"] for r in rows[:2]]), np.mean([r["parts"] for r in rows[-2:]])
    assert rows[-1]["step"] == STEPS and last < 0.8 * first
    model = build_densepose(final)
    assert isinstance(model, LightDensePose) and model.guide_channels == GUIDE_CHANNELS


def test_real_photos_replace_the_background_and_leave_the_person(light_data, monkeypatch):
    from human3d.densepose.train import light_people

    items = PersonCropItems(DensePoseDataset(light_data), size=128)
    crops = {}
    for chance in (0.0, 1.0):
        monkeypatch.setattr(light_people, "PHOTO_BACKGROUND_CHANCE", chance)
        monkeypatch.setattr(light_people, "BORDER_CUT_CHANCE", 0.0)
        monkeypatch.setattr(light_people, "OCCLUDER_CHANCE", 0.0)
        monkeypatch.setattr(light_people, "jitter_colour", lambda image, augmentation, rng: image)
        torch.manual_seed(5)
        crops[chance] = items[2]
    plain, photo = crops[0.0], crops[1.0]
    xy = plain["xy"].long()
    person, background = plain["I"] > 0, plain["I"] == 0
    changed = (plain["image"] - photo["image"]).abs().amax(dim=0)[xy[:, 1], xy[:, 0]] > 1.0
    assert changed[background].float().mean() > 0.5 and changed[person].float().mean() < 0.25  # edges blend
