"""DensePose results as fitting targets: the person's instance, its pixels, the skin points they name."""

from __future__ import annotations

import numpy as np
import pytest

from human3d.densepose.result import DensePoseResult
from human3d.fit.dense_correspondences import person_correspondences, surface_weights


def a_result() -> DensePoseResult:
    """Two people: one at (10, 20)-(30, 60) with every pixel labelled, one far to the right."""
    labels = np.zeros((40, 20), np.uint8)
    labels[5:35, 4:16] = 2
    uv = np.stack([np.full((40, 20), 0.25), np.full((40, 20), 0.75)]).astype(np.float32) * (labels > 0)
    return DensePoseResult(np.array([[10, 20, 30, 60], [200, 20, 220, 60]], np.float32), np.array([0.9, 0.8]),
                           [labels, labels.copy()], [uv, uv.copy()])


def test_the_overlapping_instance_gives_evenly_spread_labelled_pixels():
    found = person_correspondences(a_result(), np.array([8.0, 18.0, 32.0, 62.0]), count=24)
    assert len(found.pixels) == 24 and set(found.parts.tolist()) == {2}
    assert np.allclose(found.u, 0.25) and np.allclose(found.v, 0.75)
    columns, rows = found.pixels[:, 0] - 10.5, found.pixels[:, 1] - 20.5  # pixel centres in the instance's box
    assert columns.min() >= 4 and columns.max() <= 15 and rows.min() == 5 and rows.max() == 34
    assert person_correspondences(a_result(), np.array([100.0, 20.0, 120.0, 60.0]), count=24) is None


def test_a_chart_point_is_weights_over_three_of_annys_vertices():
    from human3d.body.charts import iuv_to_points
    from human3d.body.model import get_body_model
    from human3d.fit.dense_correspondences import Correspondences

    body = get_body_model()
    rest = body.pose(body.rest_params())
    rng = np.random.default_rng(0)
    parts = rng.integers(1, 25, size=30)
    found = Correspondences(np.zeros((30, 2)), parts, rng.uniform(0.1, 0.9, 30), rng.uniform(0.1, 0.9, 30))
    weights = surface_weights(rest, body.skin_vertices, body.coco17_weights.shape[1], found)
    assert np.allclose(weights.sum(axis=1), 1.0) and ((weights != 0).sum(axis=1) <= 3).all()
    points = weights[:, body.skin_vertices] @ rest.vertices
    assert np.abs(points - iuv_to_points(rest, parts, found.u, found.v)).max() < 1e-5


@pytest.fixture(scope="module")
def sample_and_people():
    pytest.importorskip("mediapipe")
    from human3d.body.model import get_body_model
    from human3d.people.finder import build_people_finder
    from human3d.synth.scene import SceneConfig, make_sample

    sample = make_sample(0, 3, SceneConfig(size=512, people=1, camera="perspective"), get_body_model())
    return sample, build_people_finder(small_people=False).find(sample.rgb)


def test_a_fit_to_true_correspondences_brings_the_skin_onto_them(sample_and_people):
    from human3d.fit.body_fit import BODY_JOINTS, BodyFitter, procrustes_aligned

    sample, people = sample_and_people
    from human3d.synth.densepose_truth import sample_densepose

    fitter, densepose = BodyFitter(), sample_densepose(sample)
    found = person_correspondences(densepose, people[0].box_xyxy, fitter.config.densepose_points)
    weights = surface_weights(fitter.rest_body, fitter.body.skin_vertices, fitter.body.coco17_weights.shape[1], found)

    def dense_error(fit) -> float:
        points = weights[:, fitter.body.skin_vertices] @ fit.vertices
        pixels = points[:, :2] / points[:, 2:] * fit.intrinsics.focal + [fit.intrinsics.cx, fit.intrinsics.cy]
        return float(np.median(np.linalg.norm(pixels - found.pixels, axis=1)))

    plain, dense = (fitter.fit(people[:1], 512, 512, densepose=d)[0] for d in (None, densepose))
    assert dense_error(dense) < dense_error(plain) - 0.3
    truth = sample.people[0].keypoints[list(BODY_JOINTS)]
    aligned = procrustes_aligned(dense.joints_coco17[list(BODY_JOINTS)], truth)
    assert np.linalg.norm(aligned - truth, axis=1).mean() < 0.060
