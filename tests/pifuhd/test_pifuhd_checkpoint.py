"""Reading and writing the official checkpoint format, and refusing everything else."""

from __future__ import annotations

import argparse
import os
import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
import torch

from human3d.errors import Human3DError
from human3d.pifuhd.checkpoint import LEGACY_MAGIC, load_checkpoint, save_checkpoint
from human3d.pifuhd.model import load_pifuhd


@pytest.fixture(scope="session")
def reference(reference_checkpoint):
    return load_checkpoint(reference_checkpoint)


def test_reference_loads_like_torch(reference, reference_checkpoint):
    with torch.serialization.safe_globals([argparse.Namespace]):
        expected = torch.load(reference_checkpoint, map_location="cpu", weights_only=True)
    assert set(reference) == set(expected)
    assert vars(reference["opt"]) == vars(expected["opt"])
    assert vars(reference["opt_netG"]) == vars(expected["opt_netG"])
    ours, theirs = reference["model_state_dict"], expected["model_state_dict"]
    assert list(ours) == list(theirs)
    for key in theirs:
        assert torch.equal(ours[key], theirs[key]), key
    assert ours._metadata == theirs._metadata
    aliased = [k for k in ours if ".downsample.0." in k]
    assert aliased
    for key in aliased:
        twin = ours[key.replace("downsample.0", "bn4")]
        assert ours[key].untyped_storage().data_ptr() == twin.untyped_storage().data_ptr()


def _pickles(path):
    with open(path, "rb") as stream:
        header = [pickle.load(stream) for _ in range(3)]
        storages = {}

        class Recorder(pickle.Unpickler):
            def find_class(self, module, name):
                known = {("argparse", "Namespace"): argparse.Namespace, ("collections", "OrderedDict"): OrderedDict}
                if (module, name) in known:
                    return known[(module, name)]
                if name.endswith("Storage"):
                    return (module, name)
                assert (module, name) == ("torch._utils", "_rebuild_tensor_v2")
                return lambda *args: None

            def persistent_load(self, pid):
                storages[pid[2]] = pid
                return pid

        Recorder(stream).load()
        keys = pickle.load(stream)
        return header, storages, keys, stream.read()


def test_written_checkpoint_round_trips_and_follows_the_legacy_layout(reference, tmp_path):
    target = tmp_path / "copy.pt"
    save_checkpoint(reference, target)
    again = load_checkpoint(target)
    assert vars(again["opt"]) == vars(reference["opt"])
    assert list(again["model_state_dict"]) == list(reference["model_state_dict"])
    for key, tensor in reference["model_state_dict"].items():
        assert torch.equal(again["model_state_dict"][key], tensor)
    assert again["model_state_dict"]._metadata == reference["model_state_dict"]._metadata
    with torch.serialization.safe_globals([argparse.Namespace]):
        by_torch = torch.load(target, map_location="cpu", weights_only=True)
    assert all(torch.equal(by_torch["model_state_dict"][k], t) for k, t in reference["model_state_dict"].items())

    header, storages, keys, _ = _pickles(target)
    assert header[0] == LEGACY_MAGIC and header[1] == 1001 and header[2]["little_endian"]
    assert keys == sorted(keys) and set(keys) == set(storages)
    distinct = {t.untyped_storage().data_ptr() for t in reference["model_state_dict"].values()}
    assert len(keys) == len(distinct)  # aliased entries share one storage
    assert {pid[3] for pid in storages.values()} == {"cuda:0"}
    assert {pid[1] for pid in storages.values()} == {("torch", "FloatStorage")}

    save_checkpoint(reference, tmp_path / "cpu.pt", location="cpu")
    assert {pid[3] for pid in _pickles(tmp_path / "cpu.pt")[1].values()} == {"cpu"}


class _RunsCode:
    def __init__(self, sentinel):
        self.sentinel = sentinel

    def __reduce__(self):
        return (os.system, (f"touch {self.sentinel}",))


@pytest.mark.parametrize("with_header", [False, True])
def test_pickle_that_would_run_code_is_refused(tmp_path, with_header):
    sentinel = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    with open(path, "wb") as stream:
        if with_header:
            for value in (LEGACY_MAGIC, 1001, {"protocol_version": 1001, "little_endian": True}):
                pickle.dump(value, stream, protocol=2)
        pickle.dump({"model_state_dict": _RunsCode(sentinel)}, stream, protocol=2)
    with pytest.raises(Human3DError, match=r"evil\.pt: refused to load: .*system.*could run code"):
        load_checkpoint(path)
    assert not sentinel.exists()


def test_zip_checkpoint_with_code_is_refused(tmp_path):
    sentinel = tmp_path / "pwned"
    path = tmp_path / "evil_zip.pt"
    torch.save({"x": _RunsCode(sentinel)}, path)
    assert zipfile.is_zipfile(path)
    with pytest.raises(Human3DError, match=r"evil_zip\.pt: refused to load"):
        load_checkpoint(path)
    assert not sentinel.exists()


def test_truncated_and_corrupt_files(reference_checkpoint, tmp_path):
    data = reference_checkpoint.read_bytes()
    cut = tmp_path / "cut.pt"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(Human3DError, match=r"cut\.pt: truncated"):
        load_checkpoint(cut)
    header_only = tmp_path / "header.pt"
    header_only.write_bytes(data[:60])
    with pytest.raises(Human3DError, match=r"header\.pt: truncated or corrupt"):
        load_checkpoint(header_only)
    noise = tmp_path / "noise.pt"
    noise.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(Human3DError, match=r"noise\.pt: not a PyTorch checkpoint"):
        load_checkpoint(noise)
    with pytest.raises(Human3DError, match=r"absent\.pt: checkpoint not found"):
        load_pifuhd(tmp_path / "absent.pt")


def test_checkpoints_of_other_models_are_rejected(tmp_path):
    densepose_like = tmp_path / "model_final.pkl"
    with open(densepose_like, "wb") as stream:
        pickle.dump({"model": {"backbone.conv1.weight": np.zeros((2, 3), np.float32)}, "__author__": "x"}, stream)
    with pytest.raises(Human3DError, match=r"model_final\.pkl: not a PyTorch checkpoint \(a plain pickle of numpy"):
        load_pifuhd(densepose_like)

    other = tmp_path / "other.pt"
    torch.save({"state_dict": {"w": torch.zeros(3)}}, other)
    with pytest.raises(Human3DError, match=r"other\.pt: not a PIFuHD checkpoint"):
        load_pifuhd(other)

    legacy_other = tmp_path / "legacy_other.pt"
    save_checkpoint({"weights": torch.ones(2)}, legacy_other)
    with pytest.raises(Human3DError, match=r"legacy_other\.pt: not a PIFuHD checkpoint"):
        load_pifuhd(legacy_other)


def test_zip_checkpoint_loads_the_same_network_as_the_legacy_file(reference_checkpoint, tmp_path):
    legacy = load_checkpoint(reference_checkpoint)
    zipped = tmp_path / "checkpoint_zip.pt"
    torch.save(legacy, zipped)
    assert zipfile.is_zipfile(zipped)
    expected, got = load_pifuhd(reference_checkpoint).state_dict(), load_pifuhd(zipped).state_dict()
    assert list(got) == list(expected)
    for key, tensor in expected.items():
        assert torch.equal(got[key], tensor), key
