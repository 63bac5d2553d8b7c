"""Training targets and losses of DensePose R-CNN, checked against independent computations."""

from __future__ import annotations

import pickle

import numpy as np
import torch
import torch.nn.functional as F

from human3d.densepose.rcnn.boxes import apply_deltas
from human3d.densepose.train.losses import sample_at_points
from human3d.densepose.train.targets import (
    anchor_targets,
    coarse_targets,
    encode_deltas,
    match,
    pairwise_iou,
    point_targets,
    sample_rois,
)


def test_encode_deltas_inverts_apply_deltas() -> None:
    generator = torch.Generator().manual_seed(0)
    boxes = torch.rand(50, 2, generator=generator) * 100
    boxes = torch.cat([boxes, boxes + 5 + torch.rand(50, 2, generator=generator) * 80], dim=1)
    targets = torch.rand(50, 2, generator=generator) * 100
    targets = torch.cat([targets, targets + 5 + torch.rand(50, 2, generator=generator) * 80], dim=1)
    for weights in ((1.0, 1.0, 1.0, 1.0), (10.0, 10.0, 5.0, 5.0)):
        deltas = encode_deltas(boxes, targets, weights)
        torch.testing.assert_close(apply_deltas(deltas, boxes, weights, 10.0), targets, atol=1e-3, rtol=1e-5)


def test_pairwise_iou_by_hand() -> None:
    a = torch.tensor([[0.0, 0.0, 10.0, 10.0]])
    b = torch.tensor([[5.0, 0.0, 15.0, 10.0], [20.0, 20.0, 30.0, 30.0], [0.0, 0.0, 10.0, 10.0]])
    torch.testing.assert_close(pairwise_iou(a, b), torch.tensor([[50.0 / 150.0, 0.0, 1.0]]))


def test_match_thresholds_and_low_quality_matches() -> None:
    iou = torch.tensor([[0.1, 0.5, 0.8, 0.2],
                        [0.0, 0.0, 0.1, 0.25]])
    index, labels = match(iou, 0.3, 0.7, allow_low_quality=False)
    assert labels.tolist() == [0, -1, 1, 0] and index.tolist() == [0, 0, 0, 1]
    _, labels = match(iou, 0.3, 0.7, allow_low_quality=True)
    assert labels.tolist() == [0, -1, 1, 1]  # the second box's best anchor (0.25) becomes positive
    index, labels = match(torch.zeros((0, 3)), 0.3, 0.7, allow_low_quality=True)
    assert labels.tolist() == [0, 0, 0]


def test_anchor_targets_sample_sizes_and_deltas() -> None:
    torch.manual_seed(0)
    xy = torch.rand(2000, 2) * 200
    anchors = torch.cat([xy, xy + 20 + torch.rand(2000, 2) * 60], dim=1)
    gt = torch.tensor([[10.0, 10.0, 70.0, 90.0], [100.0, 50.0, 160.0, 150.0]])
    targets = anchor_targets(anchors, gt, batch_per_image=64, positive_fraction=0.5)
    positive = targets.labels == 1
    assert 2 <= int(positive.sum()) <= 32 and int((targets.labels >= 0).sum()) == 64
    best = pairwise_iou(gt, anchors).argmax(dim=0)
    decoded = apply_deltas(targets.deltas[positive], anchors[positive], (1.0, 1.0, 1.0, 1.0), 10.0)
    torch.testing.assert_close(decoded, gt[best[positive]], atol=1e-3, rtol=1e-5)


def test_sample_rois_includes_ground_truth_as_foreground() -> None:
    torch.manual_seed(0)
    proposals = torch.tensor([[0.0, 0.0, 5.0, 5.0], [50.0, 50.0, 60.0, 60.0], [11.0, 10.0, 40.0, 41.0]])
    gt = torch.tensor([[10.0, 10.0, 40.0, 40.0]])
    sample = sample_rois(proposals, gt, batch_per_image=16, positive_fraction=0.5)
    assert len(sample.boxes) == 4 and int(sample.foreground.sum()) == 2  # the near proposal and the box itself
    fg = sample.boxes[sample.foreground]
    assert any(torch.equal(b, gt[0]) for b in fg)
    assert (sample.iou[sample.foreground] >= 0.5).all() and (sample.iou[~sample.foreground] < 0.5).all()


def test_point_targets_in_roi_coordinates() -> None:
    rois = torch.tensor([[10.0, 20.0, 110.0, 220.0], [60.0, 20.0, 110.0, 120.0]])
    points = {"xy": torch.tensor([[10.0, 20.0], [60.0, 120.0], [109.0, 219.0]]), "person": torch.tensor([0, 0, 1]),
              "I": torch.tensor([3, 4, 5]), "U": torch.tensor([0.1, 0.2, 0.3]), "V": torch.tensor([0.4, 0.5, 0.6])}
    targets = point_targets(rois, torch.tensor([0, 0]), points)
    # ROI 0 sees both of person 0's points; ROI 1 only the one inside it ((60, 120) is its corner)
    assert targets.roi.tolist() == [0, 0, 1]
    torch.testing.assert_close(targets.x, torch.tensor([0.0, 0.5, 0.0]))
    torch.testing.assert_close(targets.y, torch.tensor([0.0, 0.5, 1.0]))
    assert targets.part.tolist() == [3, 4, 4]


def test_coarse_targets_read_the_part_map_at_cell_centres() -> None:
    segm = torch.from_numpy(np.random.default_rng(0).integers(0, 15, (1, 256, 256)).astype(np.uint8))
    box = torch.tensor([[0.0, 0.0, 256.0, 256.0]])
    labels = coarse_targets(box, box, segm, 16, foreground_only=False)
    centres = (np.arange(16) + 0.5) * 16
    np.testing.assert_array_equal(labels[0].numpy(), segm[0].numpy()[np.ix_(centres.astype(int), centres.astype(int))])
    # a ROI three times the person's box: the outer ring of cells lies outside the annotation -> background
    wide = torch.tensor([[-256.0, -256.0, 512.0, 512.0]])
    outside = coarse_targets(wide, box, torch.ones_like(segm), 6, foreground_only=True)
    assert outside[0].tolist() == [[0] * 6] * 2 + [[0, 0, 1, 1, 0, 0]] * 2 + [[0] * 6] * 2


def test_sample_at_points_matches_grid_sample() -> None:
    maps = torch.randn(3, 5, 8, 8)
    roi = torch.tensor([0, 2, 1, 2])
    x = torch.tensor([0.3, 0.07, 0.5, 0.99])
    y = torch.tensor([0.6, 0.5, 0.01, 0.93])
    grid = torch.stack([2 * x - 1, 2 * y - 1], dim=1)[:, None, None, :]
    expected = F.grid_sample(maps[roi], grid, mode="bilinear", padding_mode="border", align_corners=False)[:, :, 0, 0]
    torch.testing.assert_close(sample_at_points(maps, roi, x, y), expected)


def test_written_checkpoint_round_trips(tmp_path) -> None:
    from human3d.densepose.predictor import build_densepose
    from human3d.densepose.rcnn.checkpoint import read_state_dict, write_state_dict
    from human3d.densepose.rcnn.config import get_config
    from human3d.densepose.rcnn.model import DensePoseRCNN
    from human3d.densepose.train.rcnn import init_from_scratch

    model = DensePoseRCNN(get_config("R_50_FPN_s1x_legacy"))
    init_from_scratch(model)
    path = write_state_dict(model.state_dict(), tmp_path / "model.pkl")
    with open(path, "rb") as f:
        raw = pickle.load(f)
    assert set(raw) == {"model", "__author__"} and all(v.dtype == np.float32 for v in raw["model"].values())
    state = read_state_dict(path)
    assert list(state) == list(model.state_dict())
    rebuilt = build_densepose(path)
    assert rebuilt.config.name == "densepose_rcnn_R_50_FPN_s1x_legacy"
    for name, tensor in model.state_dict().items():
        assert torch.equal(rebuilt.state_dict()[name], tensor), name
