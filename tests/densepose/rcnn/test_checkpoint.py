"""Checkpoint reading: unsafe pickles refused, corrupt / wrong files named in one-line errors."""

from __future__ import annotations

import os
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch

from human3d.densepose.predictor import build_densepose
from human3d.densepose.rcnn.checkpoint import read_state_dict
from human3d.densepose.rcnn.config import CONFIGS
from human3d.densepose.rcnn.model import DensePoseRCNN, load_weights
from human3d.errors import Human3DError


class _RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_pickle_that_runs_code_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"model": {"w": np.zeros(2, np.float32), "x": _RunsCode(marker)},
                                   "__author__": "x"}, protocol=2))
    refused = r"evil\.pkl: unsafe checkpoint, not loaded \(refusing to load (posix|os)\.system;"
    with pytest.raises(Human3DError, match=refused):
        read_state_dict(path)
    assert not marker.exists()


def test_pickle_with_eval_is_refused(tmp_path):
    class Evaluates:
        def __reduce__(self):
            return (eval, ("1 + 1",))

    path = tmp_path / "eval.pkl"
    path.write_bytes(pickle.dumps(Evaluates()))
    with pytest.raises(Human3DError, match="refusing to load builtins.eval"):
        read_state_dict(path)


def test_reads_model_zoo_container_and_strips_module_prefix(tmp_path):
    path = tmp_path / "m.pkl"
    arrays = OrderedDict([("module.a.weight", np.arange(6, dtype=np.float32).reshape(2, 3)),
                          ("b", np.ones(2, np.float64))])
    path.write_bytes(pickle.dumps({"model": arrays, "__author__": "Detectron2 Model Zoo", "iteration": 5}, protocol=5))
    state = read_state_dict(path)
    assert sorted(state) == ["a.weight", "b"]
    np.testing.assert_array_equal(state["a.weight"].numpy(), arrays["module.a.weight"])
    assert state["b"].dtype == torch.float32


@pytest.mark.parametrize("content, problem", [
    (b"", "corrupt checkpoint"),
    (b"this is not a pickle at all", "corrupt checkpoint"),
    (pickle.dumps({"blobs": {"conv1_w": np.zeros(2)}}), "Caffe2/Detectron1 blob file"),
    (pickle.dumps([1, 2, 3]), "holds no parameter dictionary"),
])
def test_bad_files_give_one_line_errors(tmp_path, content, problem):
    path = tmp_path / "bad.pkl"
    path.write_bytes(content)
    with pytest.raises(Human3DError, match=problem) as info:
        build_densepose(path)
    assert str(info.value).startswith(str(path)) and "\n" not in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(Human3DError, match="checkpoint not found"):
        build_densepose(tmp_path / "none.pkl")


def test_truncated_checkpoint(checkpoints, tmp_path):
    path = tmp_path / "cut.pkl"
    with open(checkpoints["densepose_rcnn_R_50_FPN_s1x"], "rb") as f:
        path.write_bytes(f.read(3_000_000))
    with pytest.raises(Human3DError, match="cut.pkl: corrupt checkpoint"):
        build_densepose(path)


def test_not_a_densepose_checkpoint(tmp_path):
    path = tmp_path / "other.pkl"
    path.write_bytes(pickle.dumps({"model": {"conv.weight": np.zeros((2, 2), np.float32)}, "__author__": "x"}))
    with pytest.raises(Human3DError, match="other.pkl: not a DensePose R-CNN checkpoint"):
        build_densepose(path)


def test_forced_wrong_config_and_missing_tensors_are_refused():
    state = DensePoseRCNN(CONFIGS["densepose_rcnn_R_50_FPN_s1x"]).state_dict()
    with pytest.raises(Human3DError, match="does not match densepose_rcnn_R_50_FPN_s1x_legacy: 16 tensors unexpected"):
        build_densepose(state, "R_50_FPN_s1x_legacy")
    with pytest.raises(Human3DError, match="does not match densepose_rcnn_R_101_FPN_s1x: 153 tensors missing"):
        build_densepose(state, "R_101_FPN_s1x")
    partial = dict(state)
    del partial["roi_heads.box_head.fc2.bias"]
    with pytest.raises(Human3DError, match=r"1 tensors missing \(first: roi_heads.box_head.fc2.bias\)"):
        build_densepose(partial)
    wrong = dict(state)
    wrong["roi_heads.box_head.fc2.bias"] = torch.zeros(3)
    with pytest.raises(Human3DError, match="wrong shape for"):
        build_densepose(wrong)


def test_frozen_bn_statistics_default_to_zero_mean_unit_variance():
    model = DensePoseRCNN(CONFIGS["densepose_rcnn_R_50_FPN_s1x_legacy"])
    state = {k: torch.full_like(v, 3.0) for k, v in model.state_dict().items()
             if not k.endswith(("running_mean", "running_var"))}
    load_weights(model, state)
    norm = model.backbone.bottom_up.res3[1].conv2.norm
    assert torch.equal(norm.running_mean, torch.zeros(128)) and torch.equal(norm.running_var, torch.ones(128))
    assert torch.equal(norm.weight, torch.full((128,), 3.0))


def test_reads_pth_state_dict(tmp_path):
    path = tmp_path / "m.pth"
    torch.save({"model": {"module.a": torch.arange(3.0)}}, path)
    state = read_state_dict(path)
    assert list(state) == ["a"] and torch.equal(state["a"], torch.arange(3.0))
