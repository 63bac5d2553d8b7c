"""The weights registry and ``human3d weights``: every model, its licence, location and presence, by task."""

from __future__ import annotations

import subprocess
import sys

import pytest

from human3d.cli import main
from human3d.densepose.rcnn.config import CONFIGS
from human3d.errors import Human3DError
from human3d.weights import registry
from human3d.weights.registry import BUNDLED, OFFICIAL, TASKS, get_weights, list_weights, weights_dir

CC_BY_NC = "CC BY-NC 4.0"
CC_BY_SA = "CC BY-SA 3.0"


@pytest.fixture()
def weights_folder(tmp_path, monkeypatch):
    folder = tmp_path / "weights"
    monkeypatch.setenv("HUMAN3D_WEIGHTS", str(folder))
    return folder


def test_the_registry_holds_every_loadable_model():
    names = {entry.name: entry for entry in list_weights()}
    people = {"mediapipe_pose_detector", "mediapipe_pose_landmarker_full", "mediapipe_face_detector_full_range",
              "mediapipe_selfie_segmentation"}
    assert set(names) == {"pifuhd", "human3d_pifuhd_small", "human3d_densepose_light", "human3d_densepose_light_people",
                          "human3d_depth_lifter", *CONFIGS, *people}
    assert [entry.name for entry in list_weights("pifuhd")] == ["pifuhd", "human3d_pifuhd_small"]
    assert {entry.name for entry in list_weights("densepose-rcnn")} == set(CONFIGS)
    official = names["pifuhd"]
    assert (official.kind, official.filename, official.non_commercial) == (OFFICIAL, "pifuhd.pt", True)
    assert official.licence.startswith(CC_BY_NC) and official.location == "weights folder"
    for name in ("human3d_pifuhd_small", "human3d_densepose_light", "human3d_densepose_light_people",
                 "human3d_depth_lifter"):
        entry = names[name]
        assert entry.kind == BUNDLED and entry.location == "package" and entry.licence.startswith("Apache-2.0")
        assert not entry.non_commercial and entry.present, f"{entry.path} is missing from this checkout"
    assert names["human3d_pifuhd_small"].path.parts[-3:] == ("pifuhd", "default_weights", "human3d_pifuhd_small.pt")
    assert names["human3d_depth_lifter"].path.parts[-3:] == ("fit", "default_weights", "human3d_depth_lifter.pt")
    assert [entry.name for entry in list_weights("depth-lifter")] == ["human3d_depth_lifter"]
    for name, config in CONFIGS.items():
        entry = names[name]
        assert entry.task == "densepose-rcnn" and entry.url == config.model_zoo_url
        assert entry.licence.startswith(CC_BY_SA) and not entry.non_commercial
        assert entry.filename == f"{name}.pkl" and entry.location == "weights folder"
    for name in people:
        entry = names[name]
        assert entry.task == "people" and entry.location == "package mediapipe"
        assert entry.licence.startswith("Apache-2.0") and entry.path.suffix == ".tflite"


def test_models_shipped_in_a_dependency_are_found_without_importing_it():
    code = ("import sys; from human3d.weights.registry import get_weights; "
            "entry = get_weights('mediapipe_pose_landmarker_full'); print(entry.present, 'mediapipe' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    pytest.importorskip("mediapipe")
    assert done.stdout.split() == ["True", "False"]


def test_lookups_and_one_line_errors(weights_folder):
    assert weights_dir() == weights_folder
    assert get_weights("pifuhd").path == weights_folder / "pifuhd.pt"
    with pytest.raises(Human3DError, match=r"^unknown weights 'nope' \(known: pifuhd, "):
        get_weights("nope")
    with pytest.raises(Human3DError, match=r"^unknown weights task 'smpl' \(known: pifuhd, densepose-rcnn"):
        list_weights("smpl")


def test_default_weights_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("HUMAN3D_WEIGHTS", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert weights_dir() == tmp_path / ".cache" / "human3d" / "weights"


def test_weights_command_lists_every_entry_with_its_licence_by_task(weights_folder, capsys):
    weights_folder.mkdir()
    (weights_folder / "densepose_rcnn_R_101_FPN_DL_s1x.pkl").write_bytes(b"x")
    assert main(["weights"]) == 0
    report = capsys.readouterr().out
    assert report.startswith(f"weights folder: {weights_folder}  (set HUMAN3D_WEIGHTS to use another folder)")
    headers = [report.index(f"== {registry.TASK_TITLES[task]} ==") for task in TASKS]
    assert headers == sorted(headers)  # grouped by task, in order
    blocks = {entry.name: report[report.index(f"\n{entry.name}: "):] for entry in list_weights()}
    for entry in list_weights():
        block = blocks[entry.name].split("\n\n")[0]
        assert f"  licence:  {entry.licence}" in block, entry.name
        assert f"({entry.path})" in block
        if entry.kind == OFFICIAL:
            assert f"curl -L -o '{entry.path}' {entry.url}" in block
        group = TASKS.index(entry.task)
        assert headers[group] < report.index(f"\n{entry.name}: ") < (headers + [len(report)])[group + 1], entry.name
    assert "status:   installed (" in blocks["densepose_rcnn_R_101_FPN_DL_s1x"].split("\n\n")[0]
    assert "status:   not installed (" in blocks["pifuhd"].split("\n\n")[0]
    assert "status:   bundled (" in blocks["human3d_densepose_light"].split("\n\n")[0]
    assert "used when no --checkpoint is given" in blocks["human3d_densepose_light"].split("\n\n")[0]
    assert "always used (no option replaces it)" in blocks["human3d_depth_lifter"].split("\n\n")[0]


def test_a_missing_bundled_file_is_reported(weights_folder, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(registry, "PACKAGE_DIR", tmp_path / "elsewhere")
    assert not get_weights("human3d_pifuhd_small").present
    assert main(["weights"]) == 0
    assert "missing from this installation" in capsys.readouterr().out
