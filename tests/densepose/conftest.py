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
def reference_records() -> dict[str, str]:
    """Public record name -> its configuration."""
    return dict(RECORDS)


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
    out: dict


@pytest.fixture(scope="session", params=sorted(RECORDS))
def staged(request: pytest.FixtureRequest, densepose_ref: Path, checkpoints: dict[str, Path]) -> StagedRun:
    """Run one public record stage by stage (through ``build_densepose`` on the user's ``.pkl`` path)."""
    from human3d.densepose.predictor import build_densepose
    from human3d.densepose.rcnn.chart_predictor import ChartOutput
    from human3d.densepose.rcnn.predictor import RCNNDensePosePredictor

    record = request.param
    with np.load(densepose_ref / "public" / f"{record}.npz") as data:
        ref = {k: data[k] for k in data.files}
    meta = json.loads((densepose_ref / "public" / f"{record}.json").read_text())
    model = build_densepose(checkpoints[RECORDS[record]])
    predictor = RCNNDensePosePredictor(model, precision="fp32")  # the reference is float32, whatever the CPU
    out: dict = {"record": record, "config": model.config.name, "resized": predictor.prepare(ref["image_bgr_orig_u8"])}

    def capture(module: torch.nn.Module, key: str, take_input: bool = False) -> None:
        def hook(_module, inputs, output):
            out[key] = inputs[0] if take_input else output
        handles.append(module.register_forward_hook(hook))

    handles: list = []
    heads, predictor_module = model.roi_heads, model.roi_heads.densepose_predictor
    capture(model.backbone, "batch", take_input=True)
    capture(model.backbone, "features")
    capture(model.proposal_generator.rpn_head, "rpn")
    capture(model.proposal_generator, "proposals")
    capture(heads.densepose_head, "pooled", take_input=True)
    capture(heads.densepose_head, "head")
    for name in ("ann_index_lowres", "index_uv_lowres", "u_lowres", "v_lowres"):
        capture(getattr(predictor_module, name), name)
    capture(predictor_module, "charts")
    if model.config.decoder:
        capture(heads.decoder, "decoder")
    try:  # one ordinary prediction, as a user runs it, with the intermediates captured on the way
        out["result"] = predictor(ref["image_bgr_orig_u8"])
    finally:
        for handle in handles:
            handle.remove()
    with torch.inference_mode():  # the box head on the reference's own proposals (their order is not stable)
        out["box_logits"], out["box_deltas"] = heads.box_outputs(
            out["features"], [torch.from_numpy(ref["rpn_proposals_xyxy_all"])])
    out["batch"] = out["batch"][0]
    out["rpn_logits"], out["rpn_deltas"] = out.pop("rpn")
    out["proposals"], out["proposal_logits"] = out["proposals"][0]
    out["lowres"] = ChartOutput(*(out.pop(n) for n in ("ann_index_lowres", "index_uv_lowres", "u_lowres", "v_lowres")))
    return StagedRun(ref, meta, out)
