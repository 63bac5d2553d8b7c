"""A person seen from behind whom the fit turned toward the camera: the cues that may turn the fit round, the
network's agreement that decides, and a rendered back view turned the right way."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import trimesh

from human3d.fit.body_fit import FACING_CAMERA, rotation_about
from human3d.people.finder import Person
from human3d.pifuhd.back_view import (
    AGREEMENT_DEPTH,
    HANDS,
    MIN_FACE_PIXELS,
    MIN_GAIN,
    agreement_points,
    facing,
    head_unlike_hands,
    likelier_body,
    maybe_from_behind,
    network_agreement,
)
from human3d.pifuhd.body_guide import BodyGuide

RADIUS = 0.3
SKIN, HAIR = (224, 172, 140), (70, 40, 20)


def ball_at(depth: float) -> BodyGuide:
    sphere = trimesh.creation.icosphere(subdivisions=3, radius=RADIUS)
    return BodyGuide.of_mesh(sphere.vertices + [0.0, 0.0, depth], sphere.faces)


def occupancy_of_ball(depth: float):
    return lambda points: (np.linalg.norm(points - [0.0, 0.0, depth], axis=1) < RADIUS).astype(np.float32)


def disc_mask(size: int = 64) -> np.ndarray:
    rows, columns = np.mgrid[:size, :size]
    return np.hypot((columns + 0.5) / (size / 2) - 1, 1 - (rows + 0.5) / (size / 2)) < RADIUS


def test_agreement_points_lie_over_the_persons_pixels_and_depths():
    mask = np.zeros((64, 64), bool)
    mask[10:20, 40:50] = True
    points = agreement_points(mask, count=5000)
    assert points.shape == (5000, 3) and points.dtype == np.float32
    columns = ((points[:, 0] + 1) * 32).astype(int)
    rows = ((1 - points[:, 1]) * 32).astype(int)
    assert mask[rows, columns].all()
    assert np.abs(points[:, 2]).max() <= AGREEMENT_DEPTH and points[:, 2].std() > 0.3
    np.testing.assert_array_equal(agreement_points(mask, count=5000), points)  # seeded: the same every time
    assert agreement_points(np.zeros((64, 64), bool)).shape == (0, 3)


def test_the_network_agrees_with_the_body_it_holds_inside():
    points = agreement_points(disc_mask())
    inside = occupancy_of_ball(0.2)(points) > 0.5
    assert network_agreement(ball_at(0.2), inside, points) > 0.97
    assert network_agreement(ball_at(-0.2), inside, points) < 0.6
    assert network_agreement(ball_at(5.0), inside, points) == 0.0  # no point inside that body


def test_the_turned_body_is_kept_only_where_the_network_clearly_prefers_it():
    fitted, turned = ball_at(0.2), ball_at(-0.2)
    assert likelier_body(fitted, turned, occupancy_of_ball(-0.2), disc_mask()) is turned
    assert likelier_body(fitted, turned, occupancy_of_ball(0.2), disc_mask()) is fitted
    assert likelier_body(fitted, turned, occupancy_of_ball(0.0), disc_mask()) is fitted  # equally: no clear gain
    assert likelier_body(fitted, turned, occupancy_of_ball(-0.2), np.zeros((64, 64), bool)) is fitted
    assert MIN_GAIN > 0


def drawn_person(head_colour, hands_on_mask: bool = True) -> tuple[np.ndarray, Person]:
    """A flat picture of a person: a skin-coloured body, the face box painted ``head_colour``, hands on the body."""
    image = np.full((200, 120, 3), 30, np.uint8)
    mask = np.zeros((200, 120), bool)
    mask[20:190, 30:90] = True
    image[mask] = SKIN
    image[20:50, 45:75] = head_colour
    landmarks = np.zeros((33, 4), np.float32)
    landmarks[:, 3] = 1.0
    landmarks[list(HANDS), :2] = (35, 120) if hands_on_mask else (5, 5)
    box, face = np.array([30, 20, 90, 190], np.float32), np.array([45, 20, 75, 50], np.float32)
    person = Person(box, 0.9, landmarks, mask, face)
    return image, person


def test_hair_where_the_face_would_be_is_unlike_the_hands():
    assert head_unlike_hands(*drawn_person(HAIR))
    assert not head_unlike_hands(*drawn_person(SKIN))  # a face the detector missed: skin like the hands
    assert not head_unlike_hands(*drawn_person(HAIR, hands_on_mask=False))  # no hand to compare


def test_only_a_fit_squarely_facing_the_camera_may_be_turned():
    towards, away = FACING_CAMERA, FACING_CAMERA @ rotation_about(1, np.pi)
    side_on = FACING_CAMERA @ rotation_about(1, np.pi / 2)
    assert facing(SimpleNamespace(rotation=towards)) == pytest.approx(1.0)
    assert facing(SimpleNamespace(rotation=away)) == pytest.approx(-1.0)
    assert facing(SimpleNamespace(rotation=side_on)) == pytest.approx(0.0, abs=1e-9)
    image, person = drawn_person(HAIR)
    assert not maybe_from_behind(image, person, SimpleNamespace(rotation=away))
    assert not maybe_from_behind(image, person, SimpleNamespace(rotation=side_on))
    assert person.face_box_xyxy[2] - person.face_box_xyxy[0] < MIN_FACE_PIXELS  # too small a head to find a face on
    assert not maybe_from_behind(image, person, SimpleNamespace(rotation=towards))


def test_a_rendered_person_seen_from_behind_gets_a_body_facing_away(tmp_path):
    """Held-out seed 9001's tenth person, seen from behind: BlazePose names her landmarks as if she faced the
    camera and the fit faces it; the reconstruction's body is turned round (depth agreeing with her true body)."""
    pytest.importorskip("anny")
    pytest.importorskip("mediapipe")
    from human3d.body.model import get_body_model
    from human3d.eval.true_bodies import true_body_vertices
    from human3d.formats import synth_sample as layout
    from human3d.pifuhd import preprocess
    from human3d.pifuhd.model import load_pifuhd
    from human3d.pifuhd.photo_body import fit_person, found_person, photo_body
    from human3d.pifuhd.pipeline import prepare_image
    from human3d.pifuhd.predictor import PifuhdPredictor
    from human3d.synth.scene import SceneConfig, make_sample
    from human3d.synth.writer import write_sample
    from human3d.weights.resolve import resolve_weights

    sample = write_sample(tmp_path, make_sample(9, 9001, SceneConfig(size=1024, people=1), get_body_model()))
    prepared = prepare_image(sample / layout.RGB, mask=sample / layout.MASK)
    rgb, rect = prepared.rgb, prepared.rect
    person = found_person(rgb, rect)
    truth = true_body_vertices(sample, rect)[:, 2]
    fit = fit_person(rgb, rect, person)
    assert facing(fit) > 0.9 and maybe_from_behind(rgb, person, fit)

    predictor = PifuhdPredictor(load_pifuhd(resolve_weights("pifuhd")))
    options = predictor.model.options
    inputs = preprocess.network_inputs(rgb, rect, options.fine.load_size_big, options.coarse.load_size)
    predictor.encode(inputs.image_512, inputs.image_1024)
    alone = photo_body(rgb, rect, person).guide
    turned = photo_body(rgb, rect, person, predictor.surface_occupancy).guide
    assert np.corrcoef(alone.vertices[:, 2], truth)[0, 1] < -0.3  # measured -0.68: mirrored in depth
    assert np.corrcoef(turned.vertices[:, 2], truth)[0, 1] > 0.8  # measured 0.98
