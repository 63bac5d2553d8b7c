"""The fitted body as a bound on a reconstruction's depth: the body's depth range per pixel (widened past its
outline), the occupancy cut beyond the margin, filled deep inside the body and left alone elsewhere, which
weights it applies to by default, and the reconstruction and the command lines that use it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import trimesh

from human3d.cli import main
from human3d.pifuhd.body_band import (
    BARE_HEAD_BACK_CM,
    BETWEEN_GAP,
    FILL,
    GRADE,
    HEAD_MARGIN_CM,
    RAMP,
    WIDEN,
    BoundedOccupancy,
    DepthMargin,
    chosen_depth_margin,
    depth_band,
    hair_seen,
)
from human3d.pifuhd.body_guide import BodyGuide

HALF = np.array([0.2, 0.5, 0.1])  # a box body: 0.4 wide, 1.0 tall, 0.2 deep, centred on the origin
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "person.png"


@pytest.fixture(scope="module")
def box() -> BodyGuide:
    mesh = trimesh.creation.box(extents=2 * HALF)
    return BodyGuide.of_mesh(mesh.vertices, mesh.faces)


def test_the_band_is_the_bodys_depth_range_widened_past_its_outline(box):
    band = depth_band(box, 256)
    points = np.array([[0.0, 0.0, 0.0], [0.15, -0.4, 0.0], [HALF[0] + WIDEN / 2, 0.0, 0.0],
                       [HALF[0] + 3 * WIDEN, 0.0, 0.0], [0.0, 0.9, 0.0]])
    front, back, _, _ = band.sample(points)
    np.testing.assert_allclose(front[:3], HALF[2], atol=2e-3)
    np.testing.assert_allclose(back[:3], -HALF[2], atol=2e-3)
    assert np.isnan(front[3:]).all() and np.isnan(back[3:]).all()  # beyond the widened outline: no bound
    covered = np.isfinite(band.front)
    assert covered.mean() == pytest.approx((2 * (HALF[0] + WIDEN)) * (2 * (HALF[1] + WIDEN)) / 4, rel=0.05)


def test_over_the_body_the_band_is_its_own_depth_range_and_past_its_outline_the_widest_within_reach():
    """A head standing forward of a torso: over the torso the torso's range, beside the head the head's."""
    torso = trimesh.creation.box(extents=2 * HALF)  # front at z = 0.1
    head = trimesh.creation.box(extents=(0.2, 0.2, 0.2))
    head.apply_translation((0.0, HALF[1] + 0.1, 0.1))  # standing forward of the torso: front at z = 0.2
    body = trimesh.util.concatenate([torso, head])
    band = depth_band(BodyGuide.of_mesh(body.vertices, body.faces), 256)
    below_the_head = [0.0, HALF[1] - 0.8 * WIDEN, 0.0]  # on the torso, within reach of the head
    beside_the_head = [0.1 + WIDEN / 2, HALF[1] + 0.1, 0.0]  # past the head's side, above the torso's top
    front, back, _, _ = band.sample(np.array([below_the_head, beside_the_head]))
    assert HALF[2] - 1e-3 < front[0] < HALF[2] + 0.01  # the torso's front (a little of the head's smoothed in)
    assert front[1] == pytest.approx(0.2, abs=2e-3)  # the widest within reach: the head's, not the torso's 0.1
    assert -HALF[2] - 1e-3 < back[0] < -HALF[2] + 0.01 and -0.05 < back[1] < 1e-3  # the torso's; the head's
    near_the_outline = [0.1 + WIDEN / 3, HALF[1] - GRADE / 3, 0.0]  # on the torso, just below its top edge
    front = band.sample(np.array([near_the_outline])).front[0]
    assert HALF[2] + 0.01 < front < 0.2 - 0.01  # blended: no seam where the widest range takes over


def _torso_and_head(parts: bool) -> BodyGuide:
    """A torso box (front at z = 0.1) and a head box on it set back (front at z = 0.05, back at -0.05); with
    ``parts``: the faces labelled torso front (2) and head (23)."""
    torso = trimesh.creation.box(extents=2 * HALF)
    head = trimesh.creation.box(extents=(0.16, 0.2, 0.1))
    head.apply_translation((0.0, HALF[1] + 0.1, 0.0))
    body = trimesh.util.concatenate([torso, head])
    face_parts = np.repeat([2, 23], [len(torso.faces), len(head.faces)]) if parts else None
    return BodyGuide.of_mesh(body.vertices, body.faces, face_parts)


def test_over_the_head_the_band_is_the_nearest_head_pixels_own_range_with_the_head_margin():
    beside_the_head = [0.08 + 0.02, HALF[1] + 0.04, 0.0]  # past the head's side, 4 cm above the torso's top
    over_the_head = [0.0, HALF[1] + 0.1, 0.0]
    without, with_parts = (depth_band(_torso_and_head(parts), 256) for parts in (False, True))
    assert without.head is None and not without.sample(np.array([over_the_head])).head.any()
    widest = without.sample(np.array([beside_the_head])).front[0]
    assert widest == pytest.approx(HALF[2], abs=2e-3)  # the torso's, widest
    front, back, _, _ = with_parts.sample(np.array([beside_the_head, over_the_head]))
    assert 0.05 - 1e-3 < front[0] < 0.06 and -0.06 < back[0] < -0.05 + 1e-3  # the head's own, as at its side
    np.testing.assert_allclose([front[1], back[1]], [0.05, -0.05], atol=2e-3)
    over = with_parts.sample(np.array([beside_the_head, over_the_head, [0.0, 0.0, 0.0]])).head
    assert over.tolist() == [True, True, False]
    network = lambda points: np.full(len(points), 0.2, np.float32)  # noqa: E731
    head_front, head_back = HEAD_MARGIN_CM[0] / 100, HEAD_MARGIN_CM[1] / 100
    y = HALF[1] + 0.1
    beyond = RAMP + 0.005  # past the margin and its ramp
    points = np.array([[0.0, y, 0.05 + head_front + beyond], [0.0, y, -0.05 - head_back + 0.01],
                       [0.0, y, -0.05 - head_back - beyond], [0.0, 0.0, HALF[2] + head_front + beyond]], np.float32)
    np.testing.assert_allclose(BoundedOccupancy(network, _torso_and_head(True), (0.06, 0.12))(points),
                               [0.0, 0.2, 0.0, 0.2], atol=1e-6)  # the head's margins; the torso keeps its own
    np.testing.assert_allclose(BoundedOccupancy(network, _torso_and_head(False), (0.06, 0.12))(points), 0.2, atol=1e-6)
    tight = BoundedOccupancy(network, _torso_and_head(True), 0.01)  # never looser than the body's margin
    assert tight.head_margin == DepthMargin(0.01, 0.01)


def test_a_head_with_no_hair_seen_around_it_gets_the_bare_margin_behind():
    guide = _torso_and_head(True)
    band = depth_band(guide, 256)
    skin = band.body.copy()  # a mask that hugs the body: a bald head
    hair = skin.copy()
    rows, cols = np.nonzero(band.head & band.body)
    hair[max(rows.min() - 8, 0):rows.max(), cols.min() - 8:cols.max() + 9] = True  # 6 cm of hair around the head
    assert hair_seen(band, skin) == 0.0 and hair_seen(band, hair) > 0.3
    assert hair_seen(band, np.kron(hair, np.ones((2, 2), bool))) == pytest.approx(hair_seen(band, hair), abs=0.02)
    assert hair_seen(depth_band(_torso_and_head(False), 256), hair) == 0.0  # no parts: no head known
    network = lambda points: np.full(len(points), 0.2, np.float32)  # noqa: E731
    bare = BoundedOccupancy(network, guide, (0.06, 0.12), person_mask=skin)
    haired = BoundedOccupancy(network, guide, (0.06, 0.12), person_mask=hair)
    assert bare.head_margin == pytest.approx((HEAD_MARGIN_CM[0] / 100, BARE_HEAD_BACK_CM / 100))
    assert haired.head_margin == pytest.approx((HEAD_MARGIN_CM[0] / 100, HEAD_MARGIN_CM[1] / 100))
    behind = np.array([[0.0, HALF[1] + 0.1, -0.05 - BARE_HEAD_BACK_CM / 100 - RAMP - 0.005]], np.float32)
    assert bare(behind)[0] == 0.0 and haired(behind)[0] == pytest.approx(0.2)


def test_occupancy_is_cut_beyond_the_margin_in_depth_filled_deep_inside_and_left_alone_elsewhere(box):
    margin = 0.05
    bounded = BoundedOccupancy(lambda points: np.full(len(points), 0.2, np.float32), box, margin)
    z = HALF[2] + margin
    inside_half = HALF[2] - FILL - RAMP / 2  # FILL + RAMP / 2 inside the box's front: half filled
    points = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, inside_half], [0.0, 0.0, HALF[2] + 0.005], [0.0, 0.0, z - 0.01],
                       [0.0, 0.0, z + RAMP / 2], [0.0, 0.0, z + 0.05], [0.0, 0.0, -z - 0.05], [0.1, 0.3, -z - RAMP],
                       [0.8, 0.0, 0.6], [0.0, 0.9, -0.9]], np.float32)
    values = bounded(points)
    assert values.dtype == np.float32
    np.testing.assert_allclose(values, [1.0, 0.6, 0.2, 0.2, 0.1, 0.0, 0.0, 0.0, 0.2, 0.2], atol=0.03)


def test_the_margins_in_front_of_and_behind_the_body_may_differ(box):
    network = lambda points: np.full(len(points), 0.2, np.float32)  # noqa: E731
    bounded = BoundedOccupancy(network, box, (0.03, 0.08))
    assert bounded.margin == DepthMargin(0.03, 0.08)
    in_front, behind = HALF[2] + 0.05, -HALF[2] - 0.05  # 5 cm before the body's front, 5 cm behind its back
    points = np.array([[0.0, 0.0, in_front], [0.0, 0.0, behind], [0.0, 0.0, HALF[2] + 0.02]], np.float32)
    np.testing.assert_allclose(bounded(points), [0.0, 0.2, 0.2], atol=1e-6)
    assert DepthMargin.of(0.05) == DepthMargin(0.05, 0.05) and DepthMargin.of((1, 2)) == DepthMargin(1.0, 2.0)


def test_between_two_parts_of_the_body_along_a_ray_only_the_body_is_inside():
    """Two legs seen end on, one 20 cm behind the other: the network's slab between them is cut, not its surface
    in front of the near one, beside them or just off their skin."""
    near, far = (trimesh.creation.box(extents=(0.2, 0.6, 0.1)) for _ in range(2))
    near.apply_translation((0.0, 0.0, 0.15))  # z 0.1 to 0.2
    far.apply_translation((0.0, 0.0, -0.15))  # z -0.2 to -0.1
    legs = trimesh.util.concatenate([near, far])
    bounded = BoundedOccupancy(lambda points: np.full(len(points), 0.8, np.float32),
                               BodyGuide.of_mesh(legs.vertices, legs.faces), (0.06, 0.12))
    points = np.array([[0.0, 0.0, 0.0], [0.05, 0.2, -0.05], [0.0, 0.0, 0.1 - BETWEEN_GAP / 2], [0.0, 0.0, 0.23],
                       [0.0, 0.0, 0.15], [0.14, 0.0, 0.0]], np.float32)
    assert bounded.band.sample(points).between(points[:, 2]).tolist() == [True, True, True, False, True, False]
    # the gap (10 cm from either leg): cut; half the gap off the skin: the network's; in front: the network's
    np.testing.assert_allclose(bounded(points), [0.0, 0.0, 0.8, 0.8, 1.0, 0.8], atol=1e-6)


def test_the_body_fills_only_the_persons_pixels_when_their_mask_is_known(box):
    person_mask = np.zeros((256, 256), bool)
    person_mask[:, :128] = True  # the crop's left half (x < 0)
    network = lambda points: np.full(len(points), 0.2, np.float32)  # noqa: E731
    deep_inside = np.array([[-0.1, 0.0, 0.0], [0.1, 0.0, 0.0], [-0.1, 0.3, -0.05], [0.1, -0.3, 0.05]], np.float32)
    np.testing.assert_allclose(BoundedOccupancy(network, box, 0.05)(deep_inside), 1.0, atol=1e-6)
    masked = BoundedOccupancy(network, box, 0.05, person_mask=person_mask)
    np.testing.assert_allclose(masked(deep_inside), [1.0, 0.2, 1.0, 0.2], atol=1e-6)  # right of x = 0: the network's
    assert masked.person_mask.shape == masked.band.front.shape  # looked up with the band's own pixels
    finer = BoundedOccupancy(network, box, 0.05, person_mask=np.kron(person_mask, np.ones((4, 4), bool)))
    np.testing.assert_array_equal(finer.person_mask, masked.person_mask)  # the same mask at any size


def test_the_bound_applies_by_default_to_human3ds_weights_and_not_the_official_ones():
    assert chosen_depth_margin("auto", "human3d_default_weights") == pytest.approx((0.06, 0.12))
    assert chosen_depth_margin("auto", "human3d_run", 5.0) == pytest.approx((0.05, 0.05))
    assert chosen_depth_margin("auto", "human3d_run", (4.0, 9.0)) == pytest.approx((0.04, 0.09))
    assert chosen_depth_margin("auto", "pifuhd_final") is None and chosen_depth_margin("auto", None) is None
    assert chosen_depth_margin("on", "pifuhd_final") == pytest.approx((0.06, 0.12))
    assert chosen_depth_margin("off", "human3d_default_weights") is None
    with pytest.raises(ValueError, match="bound must be one of"):
        chosen_depth_margin("sometimes", None)


def test_the_bundled_weights_know_their_run_name():
    from human3d.pifuhd.model import load_pifuhd
    from human3d.weights.resolve import resolve_weights

    assert load_pifuhd(resolve_weights("pifuhd", None)).run_name == "human3d_default_weights"


@pytest.fixture(scope="module")
def example_meshes():
    """The bundled weights on the bundled example, with the fitted body bounding depth and without, and the
    bounds whose fields went through :func:`human3d.pifuhd.solid_off_body.solid_off_body`."""
    pytest.importorskip("mediapipe")
    from human3d.people.finder import find_people
    from human3d.pifuhd import pipeline
    from human3d.pifuhd.model import load_pifuhd
    from human3d.pifuhd.pipeline import prepare_image, reconstruct
    from human3d.pifuhd.predictor import PifuhdPredictor
    from human3d.weights.resolve import resolve_weights

    predictor = PifuhdPredictor(load_pifuhd(resolve_weights("pifuhd", None)))
    prepared = prepare_image(EXAMPLE, find_people=find_people)
    made_solid = []  # the bounds whose fields went through solid_off_body (the real one, recorded)
    real_solid = pipeline.solid_off_body
    pipeline.solid_off_body = lambda values, grid, bound: made_solid.append(bound) or real_solid(values, grid, bound)
    try:
        meshes = {margin: reconstruct(predictor, prepared, 64, depth_margin=margin) for margin in (None, 0.05)}
    finally:
        pipeline.solid_off_body = real_solid
    return meshes, prepared, made_solid


def test_a_bounded_reconstruction_lies_within_the_margin_of_the_fitted_body(example_meshes):
    from scipy import ndimage

    from human3d.pifuhd.body_band import crop_pixels
    from human3d.pifuhd.photo_body import mask_in_crop

    meshes, prepared, made_solid = example_meshes
    free, bounded = meshes[None], meshes[0.05]
    assert free.body is None and not free.bounded
    assert bounded.bounded and bounded.body.present
    # only the bounded field is made solid off the body, with the person's mask the bound knows
    assert len(made_solid) == 1 and made_solid[0].person_mask is not None
    band = depth_band(bounded.body)
    over = np.isfinite(band.sample(bounded.vertices).front)
    assert over.mean() > 0.9  # the body lies under almost all of the person
    # a vertex lies on a grid edge between two nodes (grid 64: 2/64 apart), each bounded by its own pixel's band:
    # it is bounded by the widest band within a cell of it (where the band steps, at a leg's edge, it steps there)
    cell = 2 / 64
    around = [band.sample(bounded.vertices + [dx, dy, 0.0]) for dx, dy in
              ((0, 0), (cell, 0), (-cell, 0), (0, cell), (0, -cell))]
    front, back = np.fmax.reduce([s.front for s in around]), np.fmin.reduce([s.back for s in around])
    z = bounded.vertices[over, 2]
    slack = RAMP + 0.01  # and the field ramps to the cut over RAMP
    assert (z <= front[over] + 0.05 + slack).all() and (z >= back[over] - 0.05 - slack).all()
    head = band.sample(bounded.vertices[over]).head  # the fitted body knows its parts: the head's margin is tighter
    assert 0.03 < head.mean() < 0.2 and bounded.vertices[over][head, 1].min() > 0.4  # the head, above the shoulders
    assert (z[head] <= front[over][head] + HEAD_MARGIN_CM[0] / 100 + slack).all()
    # the outline: the network's, and the body's only where the person's mask is (a cell of the grid 64 allowed)
    person = ndimage.binary_dilation(mask_in_crop(prepared.mask > 0.5, prepared.rect, 256), iterations=8)
    assert person[crop_pixels(bounded.vertices, 256)].all()
    assert (bounded.vertices[:, :2].min(0) <= free.vertices[:, :2].min(0) + 0.04).all()
    assert (bounded.vertices[:, :2].max(0) >= free.vertices[:, :2].max(0) - 0.04).all()


def test_the_command_lines_take_the_bound_and_check_the_margin(tmp_path, capsys):
    target = tmp_path / "person.ply"
    for command in (["reconstruct", str(EXAMPLE), "-o", str(target)],
                    ["eval", "reconstruction", "--data", str(tmp_path)]):
        assert main(command + ["--depth-margin", "0"]) == 1
        assert capsys.readouterr().err.strip() == "human3d: error: --depth-margin must be more than 0 cm (got 0)"
        assert main(command + ["--depth-margin", "6,-1"]) == 1
        assert capsys.readouterr().err.strip() == "human3d: error: --depth-margin must be more than 0 cm (got 6,-1)"
        for bad in ("6,12,3", "six"):
            assert main(command + ["--depth-margin", bad]) == 1
            assert capsys.readouterr().err.strip() == (
                f"human3d: error: --depth-margin must be one or two numbers of cm, as 6,12 (got '{bad}')")
    assert not target.exists()

