"""The reconstruction benchmark: frame mapping (checked with a perfect depth-map oracle), reports, CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import trimesh

from human3d.cli import main
from human3d.errors import Human3DError
from human3d.eval.reconstruction import (
    ReconstructionReport,
    SampleScore,
    evaluate_sample,
    format_table,
    write_report_json,
)
from human3d.formats.synth_sample import read_calib, read_camera, read_depth, sample_dirs
from human3d.geometry.crop import Crop, crop_to_world
from human3d.io.meshes import read_mesh
from human3d.pifuhd.pipeline import pifuhd_grid
from human3d.surface import extract_mesh, sparse_field
from human3d.synth.scene import SceneConfig
from human3d.synth.writer import generate, write_ply

IMAGE_SIZE = 384
ORACLE_RESOLUTION = 128


def figure_mesh() -> trimesh.Trimesh:
    """A closed, lopsided 1 m figure: an upright ellipsoid with a ball stuck on its front-left side."""
    body = trimesh.creation.icosphere(4, 1.0)
    body.apply_scale([0.22, 0.5, 0.15])
    ball = trimesh.creation.icosphere(3, 0.09)
    ball.apply_translation([0.12, 0.15, 0.14])
    return trimesh.util.concatenate([body, ball])


@pytest.fixture(scope="session")
def figure_dataset(tmp_path_factory) -> Path:
    """Two samples of the figure at random yaws, written by ``human3d synth --scans`` (orthographic)."""
    scans = tmp_path_factory.mktemp("figure_scans")
    mesh = figure_mesh()
    write_ply(scans / "figure.ply", np.asarray(mesh.vertices, dtype=np.float32), np.asarray(mesh.faces, dtype=np.int32))
    out = tmp_path_factory.mktemp("figure_run")
    generate(out, 2, 3, SceneConfig(size=IMAGE_SIZE, scans=(scans / "figure.ply",)), progress=False)
    return out


def depth_oracle(sample_dir: Path, full_image_crop: bool = False, shell: float | None = None):
    """A perfect "network" built from the rendered depth maps, independently of ``crop_to_world``.

    A crop-frame point (x, y, z) falls on crop pixel ((x + 1) / 2, (1 - y) / 2) x rect size, i.e.
    image pixel rect origin + that; it is inside when its depth lies between the front and back depth
    there. Depth = the median camera distance of the mesh's vertices (the depth of z = 0) - z x metres
    per crop unit. ``full_image_crop`` pretends the crop was the whole image (a wrong mapping, for the
    negative check); ``shell`` (metres) keeps only that much behind the front: the seen surface, no back.
    """
    camera, _ = read_camera(sample_dir)
    front, back = read_depth(sample_dir, "front"), read_depth(sample_dir, "back")
    height, width = front.shape
    half_width = 1.0 / camera.projection[0, 0]
    origin_depth = float(np.median(camera.to_pixels(read_mesh(sample_dir / "mesh.ply").vertices)[:, 2]))

    def mesher(prepared):
        x0, y0, w, h = (0, 0, width, height) if full_image_crop else prepared.rect.xywh
        metres_per_unit = half_width * w / width

        def occupancy(points: np.ndarray) -> np.ndarray:
            cols = np.floor(x0 + (points[:, 0] + 1.0) * 0.5 * w).astype(np.int64)
            rows = np.floor(y0 + (1.0 - points[:, 1]) * 0.5 * h).astype(np.int64)
            inside_image = (cols >= 0) & (cols < width) & (rows >= 0) & (rows < height)
            cols, rows = np.clip(cols, 0, width - 1), np.clip(rows, 0, height - 1)
            depth = origin_depth - points[:, 2] * metres_per_unit
            near, far = front[rows, cols], back[rows, cols]
            far = far if shell is None else np.minimum(far, near + shell)
            return (inside_image & (near > 0) & (depth >= near) & (depth <= far)).astype(np.float32)

        grid = pifuhd_grid(ORACLE_RESOLUTION)
        return extract_mesh(sparse_field(occupancy, grid).values, grid, 0.5)

    return mesher


def oracle_report(dataset: Path, full_image_crop: bool = False, shell: float | None = None) -> ReconstructionReport:
    rows = [evaluate_sample(folder, depth_oracle(folder, full_image_crop, shell)) for folder in sample_dirs(dataset)]
    return ReconstructionReport(str(dataset), rows)


def test_perfect_occupancy_lands_on_the_ground_truth(figure_dataset):
    report = oracle_report(figure_dataset)
    assert report.failed == 0 and len(report.rows) == 2
    for row in report.rows:
        # 1 m figure, 384 px image (3 mm pixels), 128^3 grid over the crop: measured 2.2 mm Chamfer.
        assert row.chamfer_cm < 0.4 and row.p2s_cm < 0.4, row
        assert row.normal < 0.05, row
        # right seen or not (unseen 4 mm: the oracle fills what the ball hides, between the front and the back);
        # P2S is the two parts weighed by their shares
        assert row.p2s_seen_cm < 0.25 and row.p2s_unseen_cm < 0.6 and 0.3 < row.seen_share < 0.7, row
        assert row.p2s_cm == pytest.approx(row.seen_share * row.p2s_seen_cm
                                           + (1 - row.seen_share) * row.p2s_unseen_cm, rel=1e-6)


def test_p2s_is_split_into_the_surface_the_camera_sees_and_the_rest(figure_dataset):
    # the front 3 cm of the figure alone: what the camera sees is right, the back (30 cm deep figure) is missing
    report = oracle_report(figure_dataset, shell=0.03)
    assert report.failed == 0
    for row in report.rows:
        assert row.p2s_seen_cm < 0.4 and row.p2s_unseen_cm > 3.0, row
    table = format_table(report)
    assert table.splitlines()[0].split() == ["sample", "Chamfer", "cm", "P2S", "cm", "seen", "unseen", "Normal",
                                             "seconds"]
    assert f"{report.means['p2s_unseen_cm']:6.2f}" in table.splitlines()[-2]


def test_a_wrong_crop_mapping_is_caught(figure_dataset):
    # The mask's rect is only ~10% larger than the image here; ignoring it already costs > 1 cm.
    report = oracle_report(figure_dataset, full_image_crop=True)
    assert all(row.chamfer_cm > 1.0 for row in report.rows), report.rows


def test_crop_to_world_maps_the_rect_corners_onto_the_image_corners_in_world(figure_dataset):
    folder = sample_dirs(figure_dataset)[0]
    calib, size = read_calib(folder)
    camera, _ = read_camera(folder)
    rect = Crop.from_xywh(40, -10, 300, 300)
    matrix = crop_to_world(rect, size, calib)
    corners = np.array([[-1.0, 1.0, 0.0, 1.0], [1.0, -1.0, 0.25, 1.0]]) @ matrix.T
    pixels = camera.to_pixels(corners[:, :3])
    np.testing.assert_allclose(pixels[:, :2], [[40, -10], [340, 290]], atol=1e-6)
    # z has x's scale: 0.25 crop units toward the camera is 0.25 * 150 pixels' worth of metres nearer
    metres_per_pixel = 2.0 / camera.projection[0, 0] / size[0]
    target_depth = camera.projection[2, 3] / camera.projection[2, 2]
    np.testing.assert_allclose(pixels[:, 2], [target_depth, target_depth - 0.25 * 150 * metres_per_pixel], atol=1e-9)
    # z_origin (a z of the image's frame, one unit = half the image width) moves z = 0 toward the camera
    shifted = np.array([[-1.0, 1.0, 0.0, 1.0]]) @ crop_to_world(rect, size, calib, z_origin=0.1).T
    depth = camera.to_pixels(shifted[:, :3])[0, 2]
    assert depth == pytest.approx(target_depth - 0.1 * size[0] / 2 * metres_per_pixel, abs=1e-9)


def test_report_json_table_and_failures(tmp_path):
    rows = [SampleScore("000000", 1.0, 2.0, 0.1, 3.0, 4.0), SampleScore("000001", 3.0, 4.0, 0.3, 5.0, 6.0),
            SampleScore("000002", error="x: no surface found")]  # fmt: skip
    report = ReconstructionReport("data", rows, {"resolution": 64})
    assert report.failed == 1
    assert report.means["chamfer_cm"] == pytest.approx(2.0) and report.means["normal"] == pytest.approx(0.2)
    table = format_table(report)
    assert "000002       failed: x: no surface found" in table and "2 of 3 samples scored; 1 failed" in table
    data = json.loads(write_report_json(report, tmp_path / "r.json").read_text())
    assert data["mean"]["p2s_cm"] == pytest.approx(3.0)
    assert data["rows"][2]["chamfer_cm"] is None and data["rows"][2]["error"] == "x: no surface found"
    assert data["settings"] == {"resolution": 64} and data["failed"] == 1
    # rows without a front depth map have no seen / unseen split: NaN in the table, null in the JSON
    assert data["mean"]["p2s_seen_cm"] is None and data["rows"][0]["seen_share"] is None
    assert "nan" in table.splitlines()[2]


def test_bad_data_folders(tmp_path, figure_dataset):
    with pytest.raises(Human3DError, match="data folder not found"):
        sample_dirs(tmp_path / "nothing")
    with pytest.raises(Human3DError, match="no samples"):
        sample_dirs(tmp_path)
    broken = tmp_path / "samples" / "000000"
    broken.mkdir(parents=True)
    (broken / "rgb.png").write_bytes((sample_dirs(figure_dataset)[0] / "rgb.png").read_bytes())
    being_written = tmp_path / "samples" / ".000001.tmp"  # the data engine's temporary folder
    being_written.mkdir()
    (being_written / "rgb.png").write_bytes((broken / "rgb.png").read_bytes())
    assert sample_dirs(tmp_path) == [broken]
    row = evaluate_sample(broken, lambda prepared: (np.zeros((0, 3)), np.zeros((0, 3), int)))
    assert math.isnan(row.chamfer_cm) and "incomplete sample (missing mask.png, camera.json, mesh.ply)" in row.error


def test_cli_runs_the_model_and_reports_a_sample_with_no_surface(figure_dataset, blind_checkpoint, tmp_path, capsys):
    out = tmp_path / "report" / "eval.json"
    args = ["eval", "reconstruction", "--data", str(figure_dataset), "--checkpoint", str(blind_checkpoint),
            "--limit", "1", "--resolution", "16", "--json", str(out)]  # fmt: skip
    assert main(args) == 1  # a sample that could not be scored makes the exit status 1
    printed = capsys.readouterr().out
    assert "000000       failed:" in printed and "no surface found" in printed
    assert "0 of 1 samples scored; 1 failed" in printed
    data = json.loads(out.read_text())
    assert data["samples"] == 1 and data["failed"] == 1 and data["mean"]["chamfer_cm"] is None
    assert data["settings"] == {"resolution": 16, "device": "cpu", "body_guided": False, "depth_margin": None,
                                "body": "fitted", "checkpoint": str(blind_checkpoint)}
    assert data["rows"][0]["name"] == "000000" and "no surface found" in data["rows"][0]["error"]


def test_cli_refuses_bad_input_before_loading_anything(figure_dataset, tmp_path, capsys):
    missing = tmp_path / "none"
    assert main(["eval", "reconstruction", "--data", str(missing), "--checkpoint", "x.pt"]) == 1
    assert capsys.readouterr().err.strip() == f"human3d: error: {missing}: data folder not found"
    args = ["eval", "reconstruction", "--data", str(figure_dataset), "--resolution", "4", "--checkpoint", "x.pt"]
    assert main(args) == 1
    assert "--resolution 4 is too small" in capsys.readouterr().err
    assert main(["eval", "reconstruction", "--data", str(figure_dataset), "--checkpoint", str(tmp_path / "x.pt")]) == 1
    assert f"{tmp_path / 'x.pt'}" in capsys.readouterr().err


def test_perspective_samples_are_refused(tmp_path):
    folder = tmp_path / "000000"
    folder.mkdir()
    (folder / "camera.json").write_text(json.dumps({"kind": "perspective", "width": 8, "height": 8}))
    with pytest.raises(Human3DError, match="needs a square orthographic camera \\(found 'perspective'\\)"):
        read_calib(folder)
