"""The light network on onnxruntime: the same outputs as torch, its threads, exported once per machine,
and the back end each predictor picks."""

from __future__ import annotations

import pytest
import torch

from human3d.densepose.light.model import LightConfig, LightDensePose
from human3d.densepose.light.onnx import OnnxLightNetwork, export_onnx, onnx_network
from human3d.densepose.light.pose_guide import GUIDE_CHANNELS
from human3d.densepose.predictor import light_network, predictor_for
from human3d.errors import Human3DError
from human3d.nn.threads import torch_threads


def _guided(seed: int = 0) -> LightDensePose:
    """A tiny guided light model with random weights."""
    torch.manual_seed(seed)
    return LightDensePose(LightConfig(widths=(8, 16, 24, 32, 48), depths=(1, 1, 1, 1), decoder=16,
                                      guide=GUIDE_CHANNELS)).eval()


def test_onnxruntime_gives_a_guided_models_outputs(tmp_path):
    model = _guided()
    network = OnnxLightNetwork(export_onnx(model, tmp_path / "guided.onnx"), threads=1)
    assert network.guide_channels == GUIDE_CHANNELS
    images, guide = torch.rand(2, 3, 64, 96) * 255, torch.rand(2, GUIDE_CHANNELS, 64, 96)
    with torch.no_grad():
        expected = model(images, guide)
    torch.testing.assert_close(network(images, guide), expected, atol=1e-3, rtol=1e-3)
    with pytest.raises(Human3DError, match="reads a pose guide"):
        network(images)


def test_onnxruntime_follows_torchs_thread_count_and_names_a_bad_file(tmp_path):
    model = _guided()
    network = OnnxLightNetwork(export_onnx(model, tmp_path / "guided.onnx"))
    images, guide = torch.rand(1, 3, 64, 64) * 255, torch.rand(1, GUIDE_CHANNELS, 64, 64)
    with torch_threads(1):
        one = network(images, guide)
    assert 1 in network.sessions  # a video's network thread: one onnxruntime thread, as torch's
    with torch_threads(2):
        torch.testing.assert_close(network(images, guide), one, atol=1e-5, rtol=1e-5)
    with pytest.raises(Human3DError, match="missing.onnx.*cannot be read"):
        OnnxLightNetwork(tmp_path / "missing.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    with pytest.raises(Human3DError, match="junk.onnx.*not a loadable ONNX model"):
        OnnxLightNetwork(tmp_path / "junk.onnx")


def test_a_model_is_exported_once_per_machine_and_again_when_its_weights_change(tmp_path, monkeypatch):
    import human3d.densepose.light.onnx as onnx_module

    monkeypatch.setenv("HUMAN3D_CACHE", str(tmp_path / "cache"))
    exports = []
    counted = lambda model, path: exports.append(path) or export_onnx(model, path)  # noqa: E731
    monkeypatch.setattr(onnx_module, "export_onnx", counted)
    model = _guided()
    first, again = onnx_network(model), onnx_network(model)
    assert len(exports) == 1 and first.path == again.path == exports[0]
    assert first.path.parent == tmp_path / "cache" / "onnx" and first.path.suffix == ".onnx"
    other = onnx_network(_guided(seed=1))
    assert len(exports) == 2 and other.path != first.path
    images, guide = torch.rand(1, 3, 64, 64) * 255, torch.rand(1, GUIDE_CHANNELS, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(again(images, guide), model(images, guide), atol=1e-3, rtol=1e-3)


def test_onnxruntime_is_the_cpu_default_and_torch_runs_elsewhere(tmp_path, monkeypatch):
    monkeypatch.setenv("HUMAN3D_CACHE", str(tmp_path))
    model = _guided()
    assert isinstance(light_network(model), OnnxLightNetwork)
    assert isinstance(light_network(model, backend="onnxruntime"), OnnxLightNetwork)
    assert light_network(model, backend="torch") is model
    assert light_network(model, "cuda") is model  # a GPU runs torch (nothing runs on it here)
    with pytest.raises(Human3DError, match="--backend onnxruntime runs on the CPU"):
        light_network(model, "cuda", "onnxruntime")
    with pytest.raises(Human3DError, match="unknown back end 'tensorrt' \\(choose from auto, torch, onnxruntime\\)"):
        predictor_for(model, backend="tensorrt")


def test_an_unwritable_cache_gives_a_temporary_export(tmp_path, monkeypatch):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the cache folder would be")
    monkeypatch.setenv("HUMAN3D_CACHE", str(blocker))
    model = _guided()
    network = onnx_network(model)
    assert not network.path.exists() and blocker.read_text().startswith("a file")
    images, guide = torch.rand(1, 3, 64, 64) * 255, torch.rand(1, GUIDE_CHANNELS, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(network(images, guide), model(images, guide), atol=1e-3, rtol=1e-3)
