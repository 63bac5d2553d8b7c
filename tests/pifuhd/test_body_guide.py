"""The body-guided PIFuHD network: the body's features and maps, a grown network equal to its source (folded
path included), checkpoints that say they are body-guided, official options unchanged, and the fitted body
put into the crop frame where the camera sees it."""

from __future__ import annotations

import argparse

import numpy as np
import pytest
import torch
import trimesh

from human3d.errors import Human3DError
from human3d.fit.camera import FOCAL_PER_LONGER_SIDE, Intrinsics
from human3d.geometry.crop import Crop
from human3d.pifuhd.body_guide import REACH, BodyGuide
from human3d.pifuhd.folded import FoldedOccupancy
from human3d.pifuhd.grow import grown_for_body
from human3d.pifuhd.model import PifuhdNet, build_pifuhd, checkpoint_dict
from human3d.pifuhd.options import coarse_options, stored_options
from human3d.pifuhd.photo_body import LENSES, SAME_FACING, body_in_crop, lens_mean, outline_agreement, person_in_crop
from human3d.pifuhd.train_config import named_options

RADIUS = 0.4


@pytest.fixture(scope="module")
def ball() -> BodyGuide:
    sphere = trimesh.creation.icosphere(subdivisions=4, radius=RADIUS)
    return BodyGuide.of_mesh(sphere.vertices, sphere.faces)


def test_features_are_the_signed_distance_and_the_normal(ball):
    points = torch.tensor([[0.0, 0.0, 0.0], [0.5, 0.0, 0.0], [0.0, -0.3, 0.0], [0.9, 0.9, 0.9]]).T[None]
    features = ball.features(points)[0].numpy()
    assert features.shape == (4, 4)
    np.testing.assert_allclose(features[0], [-REACH, 0.1, -0.1, REACH], atol=3e-3)  # clamped at the reach
    np.testing.assert_allclose(features[1:, 1] / (1 - 0.1 / REACH), [1, 0, 0], atol=0.02)  # faded normal
    np.testing.assert_allclose(features[1:, 2] / (1 - 0.1 / REACH), [0, -1, 0], atol=0.02)
    np.testing.assert_array_equal(features[1:, 3], 0.0)  # beyond the volume: far, no normal


def test_normal_maps_show_the_front_and_the_back(ball):
    maps = ball.normal_maps(64)
    assert maps.shape == (6, 64, 64) and maps.dtype == np.float32
    on = np.abs(maps[:3]).sum(0) > 0
    rows, cols = np.mgrid[:64, :64]
    disc = np.hypot((cols + 0.5) / 32 - 1, 1 - (rows + 0.5) / 32) < RADIUS
    assert (on == disc).mean() > 0.98
    assert maps[2][on].min() > 0 and maps[5][on].max() < 0  # facing the camera, facing away
    np.testing.assert_array_equal(maps[:, ~on], 0.0)


def _tiny_inputs():
    generator = torch.Generator().manual_seed(1)
    return torch.randn(1, 3, 64, 64, generator=generator), torch.randn(1, 3, 128, 128, generator=generator)


def test_a_grown_network_computes_what_its_source_did(ball):
    torch.manual_seed(0)
    source = PifuhdNet(named_options("tiny")).eval()
    grown = grown_for_body(source).eval()
    assert grown.options.coarse.body_guided and grown.options.coarse.body_channels == 4
    image, image_big = _tiny_inputs()
    points = torch.rand(1, 3, 400) * 2 - 1
    with torch.no_grad():
        before = source.query(source.encode(image, image_big), points)
        features = grown.encode(image, image_big, ball)
        after = grown.query(features, points)
        for old, new in zip(before, after):
            torch.testing.assert_close(new, old, rtol=0, atol=1e-6)
        for mlp in (grown.mlp, grown.netG.mlp):  # now make the body count
            mlp.filters[0].weight[:, -4:].normal_()
        guided = grown.query(features, points)[0]
        assert (guided - before[0]).abs().max() > 1e-3
        torch.testing.assert_close(FoldedOccupancy(grown, features)(points), guided, rtol=0, atol=1e-5)


def test_body_guided_checkpoints_describe_themselves_and_need_a_body(ball):
    grown = grown_for_body(PifuhdNet(named_options("tiny")))
    rebuilt = build_pifuhd(checkpoint_dict(grown))
    assert rebuilt.options == grown.options
    assert rebuilt.netG.netF.model[1].weight.shape[1] == 6  # RGB and the body's front normal map
    image, image_big = _tiny_inputs()
    with pytest.raises(Human3DError, match="body-guided: give the fitted body"):
        rebuilt.encode(image, image_big)
    features = rebuilt.encode(image, image_big, ball)
    features.body = None
    with pytest.raises(Human3DError, match="body-guided: encode the image with the fitted body"):
        rebuilt.query(features, torch.zeros(1, 3, 5))


def test_official_options_stay_unguided_and_unchanged():
    official = named_options("released")
    opt, opt_netG = stored_options(official)
    assert "body_channels" not in vars(opt_netG) and "body_normal_maps" not in vars(opt_netG)
    options = coarse_options(argparse.Namespace(**vars(opt_netG)))
    assert options == official.coarse and not options.body_guided


def test_a_fitted_body_goes_where_the_camera_sees_it():
    camera = np.array([[0.0, 0.0, 2.0], [0.1, -0.2, 2.0], [0.0, 0.0, 2.1], [0.0, 0.1, 1.9], [0.0, 0.0, 2.0]])
    crop = Crop.square(500.0, 500.0, 400.0)
    in_crop = body_in_crop(camera, Intrinsics(1000.0, 500.0, 500.0), crop)
    np.testing.assert_allclose(in_crop[0], [0.0, 0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(in_crop[1], [0.25, 0.5, 0.0], atol=1e-12)  # pixel (550, 400)
    np.testing.assert_allclose(in_crop[2], [0.0, 0.0, -0.25], atol=1e-12)  # 10 cm farther: 50 px at 2 m
    np.testing.assert_allclose(in_crop[3, 2], 0.25, atol=1e-12)
    np.testing.assert_allclose(in_crop[3, 1], -(0.1 / 1.9 * 1000) / 200, atol=1e-12)  # below the centre


def test_the_lenses_bodies_are_averaged_where_they_face_the_same_way():
    """Each fit goes into the crop through its own lens; a fit turned round is left out of the mean."""
    from human3d.fit.body_fit import BodyFit

    crop = Crop.square(500.0, 500.0, 400.0)
    near = np.array([[0.0, 0.0, 2.0], [0.1, -0.2, 2.1], [-0.1, 0.3, 1.9]])

    def fit(vertices, focal, turn):
        rotation = np.diag([np.cos(turn), 1.0, np.cos(turn)])
        rotation[0, 2], rotation[2, 0] = np.sin(turn), -np.sin(turn)
        return BodyFit(params=None, rotation=rotation, translation=np.zeros(3), vertices=vertices,
                       joints_coco17=np.zeros((17, 3)), keypoints_coco17_2d=np.zeros((17, 2)),
                       intrinsics=Intrinsics(focal, 500.0, 500.0), error_px=0.0)

    normal = fit(near, 1000.0, 0.0)
    long = fit(near * [1.0, 1.0, 4.0] + [0.05, 0.0, 0.0], 4000.0, np.radians(30))  # other pixels, other depths
    turned = fit(near + [0.3, 0.0, 0.0], 1000.0, np.pi)
    first, second = (body_in_crop(f.vertices, f.intrinsics, crop) for f in (normal, long))
    assert np.abs(first - second).max() > 0.05
    np.testing.assert_allclose(lens_mean([normal, long, turned], crop), (first + second) / 2, atol=1e-12)
    np.testing.assert_allclose(lens_mean([normal, turned], crop), first, atol=1e-12)
    assert SAME_FACING == pytest.approx(0.7) and LENSES[0] == FOCAL_PER_LONGER_SIDE and len(LENSES) == 2


def test_the_person_fitted_is_the_one_in_the_crop():
    class Found:
        def __init__(self, box):
            self.box_xyxy = np.array(box, dtype=float)

    people = [Found([0, 0, 300, 600]), Found([700, 100, 900, 500])]
    assert person_in_crop(people, Crop.square(800.0, 300.0, 500.0)) is people[1]
    assert person_in_crop(people, Crop.square(150.0, 300.0, 700.0)) is people[0]
    assert person_in_crop(people, Crop.square(2000.0, 2000.0, 100.0)) is None


def test_a_photo_is_fitted_to_its_persons_keypoints_and_densepose_points(monkeypatch):
    """The photo fit reads the bundled light DensePose's points of the person, as ``human3d body`` does."""
    pytest.importorskip("mediapipe")
    from pathlib import Path

    from PIL import Image

    from human3d.fit.body_fit import BodyFitter
    from human3d.pifuhd.photo_body import fit_person

    rgb = np.asarray(Image.open(Path(__file__).parents[2] / "examples" / "person.png").convert("RGB"))
    seen = []
    fit = BodyFitter.fit

    def spy(self, people, width, height, **options):
        seen.append(options.get("densepose"))
        return fit(self, people, width, height, **options)

    monkeypatch.setattr(BodyFitter, "fit", spy)
    body = fit_person(rgb)
    (densepose,) = seen
    assert densepose is not None and len(densepose) == 1
    assert (densepose.labels[0] > 0).sum() > 1000  # the person's pixels, labelled with their body parts
    assert body.vertices is not None and body.error_px < 10


def test_the_photo_body_is_fitted_through_each_lens_with_densepose_run_once(monkeypatch):
    """``photo_body`` fits the person through a normal and a long lens (the photo's own size, the same DensePose
    points) and bounds with their mean."""
    pytest.importorskip("mediapipe")
    from pathlib import Path

    from human3d.fit.body_fit import BodyFitter
    from human3d.pifuhd.photo_body import photo_body
    from human3d.pifuhd.pipeline import prepare_image

    prepared = prepare_image(Path(__file__).parents[2] / "examples" / "person.png")
    calls, fits = [], []
    fit = BodyFitter.fit

    def spy(self, people, width, height, **options):
        calls.append(options)
        fits.extend(fit(self, people, width, height, **options))
        return fits[-len(people):]

    monkeypatch.setattr(BodyFitter, "fit", spy)
    body = photo_body(prepared.rgb, prepared.rect)
    height, width = prepared.rgb.shape[:2]
    assert [call["intrinsics"].focal for call in calls] == [lens * max(width, height) for lens in LENSES]
    assert calls[0]["densepose"] is calls[1]["densepose"] is not None
    assert [f.intrinsics.focal for f in fits] == [call["intrinsics"].focal for call in calls]
    np.testing.assert_allclose(body.guide.vertices, lens_mean(fits, prepared.rect), atol=1e-5)


def test_no_body_reads_as_far_outside_everywhere_with_blank_maps():
    absent = BodyGuide.absent()
    features = absent.features(torch.rand(2, 3, 7) * 2 - 1)
    assert not absent.present and features.shape == (2, 4, 7)
    assert torch.all(features[:, 0] == REACH) and torch.all(features[:, 1:] == 0)
    assert absent.normal_maps(16).shape == (6, 16, 16) and not absent.normal_maps(16).any()


def test_a_fit_is_refused_where_its_outline_leaves_the_person_or_fills_too_little_of_them(ball):
    size = 128
    outline = np.abs(ball.normal_maps(size)[:3]).sum(0) > 0
    rows, cols = np.mgrid[:size, :size]
    squared = (cols - size / 2 + 0.5) ** 2 + (rows - size / 2 + 0.5) ** 2
    disc = squared <= (RADIUS * size / 2) ** 2
    np.testing.assert_allclose(outline.mean(), disc.mean(), rtol=0.03)  # the ball's outline, where it should be
    same = outline_agreement(ball, outline)
    assert (same.cover, same.spill) == (1.0, 0.0) and same.plausible
    dressed = outline_agreement(ball, squared <= (1.5 * RADIUS * size / 2) ** 2)  # a wide robe around the body
    assert dressed.spill == 0.0 and 0.35 < dressed.cover < 0.5 and dressed.plausible
    half = outline_agreement(ball, outline & (cols < size / 2))  # the body reaches where the person is not
    np.testing.assert_allclose(half.spill, 0.5, atol=0.02)
    assert half.cover == 1.0 and not half.plausible
    huge = outline_agreement(ball, np.ones((size, size), bool))  # a person far larger than the body
    assert huge.spill == 0.0 and huge.cover < 0.35 and not huge.plausible


def test_the_photo_body_is_refused_where_it_leaves_the_persons_outline():
    """The bundled example's fit lies within the person's mask and guides the network; cut the mask to the upper
    half and the same fit spills out of it, so the network gets no body (a depth bound still takes it, with twice
    the margins)."""
    pytest.importorskip("mediapipe")
    import dataclasses
    from pathlib import Path

    from human3d.pifuhd.photo_body import OUTLINE_SIZE, found_person, mask_in_crop, photo_body, photo_body_guide
    from human3d.pifuhd.pipeline import prepare_image

    prepared = prepare_image(Path(__file__).parents[2] / "examples" / "person.png")
    person = found_person(prepared.rgb, prepared.rect)
    kept = photo_body_guide(prepared.rgb, prepared.rect, person)
    mask = mask_in_crop(person.mask, prepared.rect, OUTLINE_SIZE)
    agreement = outline_agreement(kept, mask)
    assert kept.present and agreement.cover > 0.7 and agreement.spill < 0.05
    rows = np.flatnonzero(person.mask.any(1))
    upper = person.mask.copy()
    upper[(rows[0] + rows[-1]) // 2 :] = False
    cut = dataclasses.replace(person, mask=upper)
    assert not photo_body_guide(prepared.rgb, prepared.rect, cut).present
    kept_anyway = photo_body(prepared.rgb, prepared.rect, cut)  # as a depth bound asks for it
    assert kept_anyway.guide.present and not kept_anyway.agreement.plausible
    assert kept_anyway.agreement == outline_agreement(kept_anyway.guide, mask_in_crop(upper, prepared.rect,
                                                                                      OUTLINE_SIZE))
    assert kept_anyway.bound_margin((0.06, 0.12)) == (0.12, 0.24)  # it bounds, with twice the margins
    assert photo_body(prepared.rgb, prepared.rect, person).bound_margin(0.06) == (0.06, 0.06)
