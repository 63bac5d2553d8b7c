"""Training DensePose R-CNN on a few synthetic images: learning, checkpoints, resume, DDP, the CLI."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from human3d.densepose.predictor import build_densepose
from human3d.densepose.rcnn.config import get_config
from human3d.densepose.train.augment import AugmentationConfig, TrainingItems
from human3d.densepose.train.config import DensePoseTrainConfig
from human3d.densepose.train.dataset import DensePoseDataset
from human3d.densepose.train.losses import RCNNLossConfig
from human3d.densepose.train.rcnn import train_rcnn

# A tiny R-CNN: ResNet-50 frozen after its data-dependent start (FREEZE_AT 5), a 2-conv 64-channel
# DensePose head, short sides of 96 px and few ROIs, so that about a minute on 2 CPU cores trains it.
TINY = dataclasses.replace(get_config("R_50_FPN_s1x"), head_channels=64, head_convs=2, min_size=96, max_size=160)
TINY_SETTINGS = RCNNLossConfig(rpn_pre_nms_topk=200, rpn_post_nms_topk=100, roi_batch_per_image=32,
                                 densepose_rois_per_image=4)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One intra-op thread: on a shared 2-core machine, two spinning threads per process thrash."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def synth_data(tmp_path_factory) -> Path:
    """Four 128 px images of one person each (the data engine's DensePose-COCO JSON)."""
    from human3d.synth.scene import SceneConfig
    from human3d.synth.writer import generate

    out = tmp_path_factory.mktemp("dp_train_data")
    generate(out, 4, 21, SceneConfig(size=128, people=1, camera="perspective"), progress=False)
    return out / "densepose_coco.json"


def _options(data: Path, out: Path, **changes) -> DensePoseTrainConfig:
    options = DensePoseTrainConfig(data=data, out=out, batch_size=1, lr=0.003, min_size=96)
    return dataclasses.replace(options, **changes)


def _metrics(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def _evaluate(model, data: Path):
    """GPS / GPSm / box AP of ``model`` on the images of ``data`` (the DensePose-COCO evaluator)."""
    from human3d.densepose.rcnn.predictor import RCNNDensePosePredictor
    from human3d.eval.densepose_metrics import evaluate_densepose
    from human3d.eval.densepose_run import predict_coco_images

    results = predict_coco_images(RCNNDensePosePredictor(model).predict, data, progress=False).results
    return evaluate_densepose(results, data)


def _point_accuracy(model, data: Path) -> float:
    """Fraction of annotated points whose fine part (read on the ground-truth boxes) is right."""
    from human3d.densepose.train.losses import sample_at_points
    from human3d.densepose.train.targets import point_targets

    correct = total = 0
    with torch.no_grad():
        for item in TrainingItems(DensePoseDataset(data), AugmentationConfig(96, enabled=False)):
            images, _ = model.normalize([item["image"]])
            charts = model.roi_heads.densepose(model.backbone(images), [item["boxes"]])
            points = point_targets(item["boxes"], torch.arange(len(item["boxes"])), item)
            predicted = sample_at_points(charts.fine_segm, points.roi, points.x, points.y).argmax(dim=1)
            correct += int((predicted == points.part).sum())
            total += len(points.part)
    return correct / total


def test_tiny_training_learns(synth_data: Path, tmp_path: Path) -> None:
    torch.manual_seed(0)
    run = tmp_path / "run"
    steps = 60
    final = train_rcnn(_options(synth_data, run, steps=steps, checkpoint_every=steps // 2), TINY, TINY_SETTINGS,
                       freeze_at=5)
    assert final == run / "model_final.pkl" and (run / "model_0000030.pkl").is_file()
    rows = _metrics(run)
    assert [r["step"] for r in rows] == list(range(1, steps + 1))
    first, last = rows[:15], rows[-15:]
    for key in ("loss", "loss_rpn_cls", "loss_cls", "loss_densepose_I"):
        assert np.mean([r[key] for r in last]) < np.mean([r[key] for r in first]), key
    trained = build_densepose(final, TINY)
    untrained = _untrained(synth_data)
    after, before = _evaluate(trained, synth_data), _evaluate(untrained, synth_data)
    # a minute of CPU training finds the people (box AP) and starts to label them (mean GPS > 0);
    # GPS AP itself stays 0 at this budget (it needs GPS >= 0.5 on a person)
    assert after.box.ap > before.box.ap + 0.05, (after.format(), before.format())
    assert after.mean_gps > before.mean_gps, (after.format(), before.format())
    assert after.gps.ap >= before.gps.ap
    assert _point_accuracy(trained, synth_data) > _point_accuracy(untrained, synth_data)


def _untrained(data: Path):
    """The tiny model before training: the same seed and initialisation, started on one training item."""
    from human3d.densepose.train.rcnn import build_training_model, calibrate_from_data

    torch.manual_seed(0)
    model, _ = build_training_model(TINY, None, freeze_at=5)
    calibrate_from_data(model, [TrainingItems(DensePoseDataset(data), AugmentationConfig(96))[0]])
    return model.eval().requires_grad_(False)


def test_resume_continues_the_run(synth_data: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    train_rcnn(_options(synth_data, run, steps=2, checkpoint_every=1), TINY, TINY_SETTINGS, freeze_at=5)
    before = _metrics(run)
    assert [r["step"] for r in before] == [1, 2]
    assert (run / "model_0000001.pkl").is_file() and (run / "densepose_rcnn.state.pt").is_file()
    final = train_rcnn(_options(synth_data, run, steps=3, checkpoint_every=1), TINY, TINY_SETTINGS, freeze_at=5)
    after = _metrics(run)
    assert [r["step"] for r in after] == [1, 2, 3] and after[:2] == before  # steps 1-2 were not run again
    state = torch.load(run / "densepose_rcnn.state.pt", weights_only=True)
    assert state["step"] == 3
    model = build_densepose(final, TINY)
    for name, tensor in model.state_dict().items():
        torch.testing.assert_close(tensor, state["model"][f"model.{name}"], rtol=0, atol=0)


def test_fine_tuning_starts_from_the_given_weights(synth_data: Path, tmp_path: Path) -> None:
    torch.manual_seed(0)
    first = train_rcnn(_options(synth_data, tmp_path / "a", steps=1), TINY, TINY_SETTINGS, freeze_at=5)
    tuned = train_rcnn(_options(synth_data, tmp_path / "b", steps=1, init=first), TINY, TINY_SETTINGS)
    start, end = build_densepose(first, TINY).state_dict(), build_densepose(tuned, TINY).state_dict()
    # FREEZE_AT 2 when fine-tuning: the stem and res2 keep the initial weights, trained layers move
    assert all(torch.equal(end[k], start[k]) for k in start if k.startswith(("backbone.bottom_up.stem.",
                                                                            "backbone.bottom_up.res2.")))
    trained = "roi_heads.box_predictor.cls_score.weight"
    assert not torch.equal(end[trained], start[trained])


def _torchrun(*args: str) -> subprocess.CompletedProcess:
    """``torchrun --standalone --nproc_per_node 2 -m human3d train densepose ARGS``."""
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               "-m", "human3d", "train", "densepose", *args]
    return subprocess.run(command, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"},
                          timeout=600)


def test_torchrun_two_processes_write_a_loadable_checkpoint(synth_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "ddp"
    done = _torchrun("--data", str(synth_data), "--out", str(out), "--model", "R_50_FPN_s1x_legacy", "--steps", "2",
                     "--batch-size", "1", "--min-size", "64", "--lr", "0.001")
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == str(out / "model_final.pkl")
    assert done.stdout.count("model_final.pkl") == 1  # printed by rank 0 only
    model = build_densepose(out / "model_final.pkl")  # recognised from the file like an official one
    assert model.config.name == "densepose_rcnn_R_50_FPN_s1x_legacy"
    rows = _metrics(out)
    assert [r["step"] for r in rows] == [1, 2] and all(np.isfinite(r["loss"]) for r in rows)
    assert json.loads((out / "train_options.json").read_text())["config"] == "densepose_rcnn_R_50_FPN_s1x_legacy"


@pytest.mark.parametrize("args, message", [
    (["--data", "missing.json", "--out", "o"], "missing.json: training data not found"),
    (["--data", "{data}", "--out", "o", "--model", "R_77"], "unknown DensePose config 'R_77'"),
    (["--data", "{data}", "--out", "o", "--steps", "0"], "--steps must be at least 1"),
    (["--data", "{data}", "--out", "o", "--init", "nope.pkl"], "nope.pkl: checkpoint not found"),
])
def test_cli_refuses_bad_options(synth_data: Path, tmp_path: Path, monkeypatch, capsys, args: list[str],
                                 message: str) -> None:
    from human3d.cli import main

    monkeypatch.chdir(tmp_path)
    status = main(["train", "densepose", *[a.replace("{data}", str(synth_data)) for a in args]])
    assert status == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("human3d: error: ") and message in lines[0], lines
    assert not (tmp_path / "o").exists()


def test_augmentation_moves_image_boxes_and_points_together(synth_data: Path) -> None:
    dataset = DensePoseDataset(synth_data)
    original = TrainingItems(dataset, AugmentationConfig(128, enabled=False))[0]
    shifted_aug = AugmentationConfig(128, scale_jitter=(1.0, 1.0), shift=0.2, brightness=0.0, contrast=0.0,
                                     saturation=0.0)
    torch.manual_seed(3)
    shifted = TrainingItems(dataset, shifted_aug)[0]
    offset = shifted["dp_boxes"][0, :2] - original["dp_boxes"][0, :2]
    assert offset.abs().max() > 0 and torch.equal(offset, offset.round())
    torch.testing.assert_close(shifted["dp_boxes"], original["dp_boxes"] + offset.repeat(2))
    moved = original["xy"] + offset
    kept = ((moved >= 0) & (moved < 128)).all(dim=1)  # points shifted out of the image are dropped
    assert 0 < int(kept.sum()) <= len(kept)
    torch.testing.assert_close(shifted["xy"], moved[kept])
    assert torch.equal(shifted["I"], original["I"][kept]) and torch.equal(shifted["dp_segm"], original["dp_segm"])
    # the pixels under the points moved with them (no colour change here)
    before = original["xy"][kept].floor().long()
    after = shifted["xy"].floor().long()
    torch.testing.assert_close(shifted["image"][:, after[:, 1], after[:, 0]],
                               original["image"][:, before[:, 1], before[:, 0]], atol=1e-3, rtol=0)
    # a half-size short side halves every coordinate
    half = TrainingItems(dataset, AugmentationConfig(64, enabled=False))[0]
    assert half["image"].shape[1:] == (64, 64)
    torch.testing.assert_close(half["dp_boxes"], original["dp_boxes"] / 2)
    torch.testing.assert_close(half["xy"], original["xy"] / 2)


def test_from_scratch_start_gives_unit_scale_features_on_any_image(synth_data: Path) -> None:
    from human3d.densepose.train.rcnn import build_training_model, calibrate_from_data

    items = TrainingItems(DensePoseDataset(synth_data), AugmentationConfig(96, enabled=False))
    torch.manual_seed(0)
    model, needs_calibration = build_training_model(TINY, None)
    assert needs_calibration and all(p.requires_grad for p in model.parameters())  # from scratch: nothing frozen
    calibrate_from_data(model, [items[0]])
    with torch.no_grad():
        for index in range(len(items)):
            features = model.backbone(model.normalize([items[index]["image"]])[0])
            stds = [float(features[f"p{level}"].std()) for level in range(2, 6)]
            if index == 0:  # the calibration image: each FPN output was scaled to unit deviation
                np.testing.assert_allclose(stds, 1.0, rtol=1e-3)
            assert all(0.2 < s < 5.0 for s in stds), (index, stds)  # other images: the same scale
