"""The one weights resolver: explicit path > installed official file > bundled file > a one-line error."""

from __future__ import annotations

import dataclasses
import io

import pytest

from human3d.errors import Human3DError
from human3d.weights import registry, resolve
from human3d.weights.registry import get_weights
from human3d.weights.resolve import announce_licence, existing_checkpoint, identify, resolve_weights


@pytest.fixture()
def weights_folder(tmp_path, monkeypatch):
    folder = tmp_path / "weights"
    folder.mkdir()
    monkeypatch.setenv("HUMAN3D_WEIGHTS", str(folder))
    return folder


def test_explicit_path_wins_then_installed_official_then_bundled(weights_folder, tmp_path):
    bundled = get_weights("human3d_pifuhd_small").path
    assert resolve_weights("pifuhd") == bundled
    (weights_folder / "pifuhd.pt").write_bytes(b"official")
    assert resolve_weights("pifuhd") == weights_folder / "pifuhd.pt"
    mine = tmp_path / "mine.pt"
    mine.write_bytes(b"mine")
    assert resolve_weights("pifuhd", mine) == mine
    assert resolve_weights("pifuhd", str(mine)) == mine
    assert resolve_weights("densepose-light") == get_weights("human3d_densepose_light").path
    assert resolve_weights("densepose-light-people") == get_weights("human3d_densepose_light_people").path


def test_rcnn_files_are_found_in_the_weights_folder(weights_folder):
    with pytest.raises(Human3DError, match=r"^no densepose-rcnn weights are installed \(looked in "):
        resolve_weights("densepose-rcnn")
    (weights_folder / "densepose_rcnn_R_50_FPN_s1x_legacy.pkl").write_bytes(b"x")
    assert resolve_weights("densepose-rcnn") == weights_folder / "densepose_rcnn_R_50_FPN_s1x_legacy.pkl"


def test_a_missing_explicit_path_is_one_line_naming_the_file(weights_folder, tmp_path):
    missing = tmp_path / "nowhere.pt"
    with pytest.raises(Human3DError) as caught:
        resolve_weights("pifuhd", missing)
    assert str(caught.value) == f"{missing}: checkpoint not found"
    with pytest.raises(Human3DError, match="checkpoint not found"):
        existing_checkpoint(tmp_path)  # a folder is no checkpoint


def test_nothing_present_says_where_weights_come_from(weights_folder, monkeypatch, tmp_path):
    monkeypatch.setattr(registry, "PACKAGE_DIR", tmp_path / "no_package")
    with pytest.raises(Human3DError) as caught:
        resolve_weights("pifuhd")
    message = str(caught.value)
    assert "\n" not in message and str(weights_folder) in message and "`human3d weights`" in message
    with pytest.raises(Human3DError) as caught:
        resolve_weights("densepose-light")
    message = str(caught.value)
    assert "\n" not in message and "no DensePose weights are installed" in message
    assert get_weights("densepose_rcnn_R_50_FPN_s1x").url in message
    with pytest.raises(Human3DError, match="unknown weights task"):
        resolve_weights("smpl")


def test_files_are_identified_by_name_or_stored_run_name(tmp_path):
    assert identify(tmp_path / "pifuhd.pt", "pifuhd").name == "pifuhd"
    assert identify(tmp_path / "renamed.pt", "pifuhd", run_name="pifuhd_final").name == "pifuhd"
    assert identify(tmp_path / "renamed.pt", "pifuhd", run_name="human3d") is None
    assert identify(tmp_path / "pifuhd.pt", "densepose-light") is None
    assert identify(tmp_path / "densepose_rcnn_R_50_FPN_s1x.pkl").task == "densepose-rcnn"


def test_the_licence_notice_is_shown_once_per_process(capsys):
    entry = dataclasses.replace(get_weights("pifuhd"), name="test_only_non_commercial", description="test weights")
    stream = io.StringIO()
    announce_licence(entry, stream)
    announce_licence(entry, stream)
    assert stream.getvalue().count("CC BY-NC 4.0") == 1 and "using the test weights" in stream.getvalue()
    resolve.announce_if_non_commercial("x/human3d_pifuhd_small.pt", "pifuhd")  # ours: no notice
    assert capsys.readouterr().err == ""
    for _ in range(2):  # the official weights, renamed: known by the stored run name; shown at most once
        resolve.announce_if_non_commercial("x/model.pt", "pifuhd", run_name="pifuhd_final")
    assert capsys.readouterr().err.count("CC BY-NC 4.0") <= 1
