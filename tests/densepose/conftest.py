"""Session fixtures: the reference folder, rebuilt random-weight checkpoints, one staged run per record."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch

RECORDS = {
    "densepose_rcnn_R_50_FPN_s1x__ryota": "densepose_rcnn_R_50_FPN_s1x",
    "densepose_rcnn_R_50_FPN_s1x_legacy__icon_22097467": "densepose_rcnn_R_50_FPN_s1x_legacy",
}


@pytest.fixture(scope="session")
def densepose_ref(shared_dir: Path) -> Path:
    """``../shared/reference/densepose``."""
    return shared_dir / "reference" / "densepose"


@pytest.fixture(scope="session")
def checkpoints(densepose_ref: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The public random-weight ``.pkl`` files, rebuilt by the reference's own ``make_weights.py``."""
    folder = tmp_path_factory.mktemp("densepose_weights")
    paths = {}
    for config in sorted(set(RECORDS.values())):
        out = folder / f"{config}_seed0.pkl"
        overrides = densepose_ref / "public" / f"{config}_weight_overrides.npz"
        subprocess.run([sys.executable, str(densepose_ref / "make_weights.py"), config, "0", str(overrides), str(out)],
                       check=True, capture_output=True)
        paths[config] = out
    return paths


@dataclass
class StagedRun:
    """Every intermediate of one record's run through our model, beside the reference arrays."""

    ref: dict
    meta: dict
    model: torch.nn.Module
    out: dict


@pytest.fixture(scope="session", params=sorted(RECORDS))
def staged(request: pytest.FixtureRequest, densepose_ref: Path, checkpoints: dict[str, Path]) -> StagedRun:
    """Run one public record stage by stage (through ``build_densepose`` on the user's ``.pkl`` path)."""
    from human3d.densepose.model import build_densepose
    from human3d.densepose.predictor import DensePosePredictor

    record = request.param
    with np.load(densepose_ref / "public" / f"{record}.npz") as data:
        ref = {k: data[k] for k in data.files}
    meta = json.loads((densepose_ref / "public" / f"{record}.json").read_text())
    model = build_densepose(checkpoints[RECORDS[record]])
    predictor = DensePosePredictor(model)
    out: dict = {"record": record, "config": model.config.name, "resized": predictor.prepare(ref["image_bgr_orig_u8"])}
    with torch.inference_mode():
        batch, sizes = model.normalize([torch.from_numpy(out["resized"].transpose(2, 0, 1).copy())])
        features = model.backbone(batch)
        logits, deltas = model.proposal_generator.rpn_head([features[f"p{i}"] for i in range(2, 7)])
        proposals, proposal_logits = model.proposal_generator(features, sizes)[0]
        ref_proposals = torch.from_numpy(ref["rpn_proposals_xyxy_all"])
        box_logits, box_deltas = model.roi_heads.box_outputs(features, [ref_proposals])
        detections = model.roi_heads.detect(features, [proposals], sizes)[0]
        maps, _ = model.roi_heads.densepose_features(features)
        pooled = model.roi_heads.densepose_pooled(features, [detections.boxes])
        head = model.roi_heads.densepose_head(pooled)
        lowres = model.roi_heads.densepose_predictor.forward_lowres(head)
        charts = model.roi_heads.densepose_predictor(head)
    out.update(batch=batch[0], features=features, rpn_logits=logits, rpn_deltas=deltas, proposals=proposals,
               proposal_logits=proposal_logits, box_logits=box_logits, box_deltas=box_deltas, detections=detections,
               maps=maps, pooled=pooled, head=head, lowres=lowres, charts=charts,
               result=predictor(ref["image_bgr_orig_u8"]))
    return StagedRun(ref, meta, model, out)
