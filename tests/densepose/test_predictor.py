"""The predictor protocol and its factories: every model's predictor implements it and returns the one result type."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from human3d.densepose.light.person_crops import PersonCropPredictor
from human3d.densepose.light.pose_guide import GUIDE_CHANNELS
from human3d.densepose.light.predictor import LightDensePosePredictor
from human3d.densepose.predictor import DensePosePredictor, densepose_predictor, light_weights, predictor_for
from human3d.densepose.rcnn.config import get_config
from human3d.densepose.rcnn.model import DensePoseRCNN
from human3d.densepose.rcnn.predictor import RCNNDensePosePredictor
from human3d.densepose.result import DensePoseResult
from human3d.errors import Human3DError
from human3d.people.finder import build_people_finder
from human3d.weights import registry
from human3d.weights.registry import get_weights


def test_default_predictors_are_the_bundled_light_models_and_follow_the_protocol():
    assert light_weights(people_finder=True) == get_weights("human3d_densepose_light_people").path
    assert light_weights(people_finder=False) == get_weights("human3d_densepose_light").path
    on_people = densepose_predictor(finder=build_people_finder())
    assert isinstance(on_people, PersonCropPredictor) and on_people.network.guide_channels == GUIDE_CHANNELS
    predictor = densepose_predictor(min_score=0.99)
    assert isinstance(predictor, LightDensePosePredictor) and isinstance(predictor, DensePosePredictor)
    assert predictor.network.guide_channels == 0
    assert predictor.min_score == 0.99 and predictor.device.type == "cpu"
    image = np.full((64, 48, 3), 128, np.uint8)
    results = predictor.predict([image, image])
    assert len(results) == 2 and all(isinstance(r, DensePoseResult) for r in results)
    assert isinstance(predictor(image), DensePoseResult)


def test_a_finder_factory_is_called_for_a_light_model_only():
    calls = []

    def finder():
        calls.append(1)
        return build_people_finder()

    assert isinstance(densepose_predictor(finder=finder), PersonCropPredictor) and calls == [1]
    rcnn = DensePoseRCNN(get_config("R_50_FPN_s1x")).eval()
    predictor = densepose_predictor(dict(rcnn.state_dict()), config="R_50_FPN_s1x", finder=finder)
    assert isinstance(predictor, RCNNDensePosePredictor)
    assert calls == [1]  # an R-CNN finds its people itself: no finder was built


def test_rcnn_predictor_follows_the_protocol_and_refuses_onnx():
    model = DensePoseRCNN(get_config("R_50_FPN_s1x")).eval()
    predictor = predictor_for(model, min_score=0.5)
    assert isinstance(predictor, RCNNDensePosePredictor) and isinstance(predictor, DensePosePredictor)
    assert model.roi_heads.score_thresh == 0.5
    with pytest.raises(Human3DError, match="--backend onnxruntime runs the light model only"):
        predictor_for(model, backend="onnxruntime")
    assert predictor_for(model, precision="fp32").precision == "fp32"
    with pytest.raises(Human3DError, match="unknown precision 'int8'"):
        predictor_for(model, precision="int8")


def test_precision_is_refused_for_the_light_model():
    with pytest.raises(Human3DError, match="--precision applies to DensePose R-CNN"):
        densepose_predictor(precision="bf16")


def test_missing_bundled_weights_are_one_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(registry, "PACKAGE_DIR", tmp_path / "no_package")  # the bundled light model's file gone
    with pytest.raises(Human3DError, match="no DensePose weights are installed"):
        densepose_predictor()


def test_the_protocol_module_imports_no_torch():
    code = "import sys, human3d.densepose.predictor, human3d.densepose; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
