"""COCO RLE and DensePose-COCO annotations: encode, write, re-read, decode exactly."""

from __future__ import annotations

import numpy as np
import pytest

from human3d.errors import Human3DError
from human3d.formats import densepose_coco as coco


def test_rle_known_strings_and_round_trips():
    # Column-major runs starting with zeros: [[0,1,1],[1,1,0]] -> 0,1,1,1,1,0 -> counts 1,4,1.
    assert coco.rle_encode(np.array([[0, 1, 1], [1, 1, 0]], bool)) == {"size": [2, 3], "counts": "141"}
    assert coco.rle_encode(np.ones((2, 2), bool))["counts"] == "04"
    rng = np.random.default_rng(0)
    for _ in range(300):
        h, w = rng.integers(1, 70, 2)
        mask = rng.random((h, w)) < rng.random()
        if rng.random() < 0.5:  # long runs: multi-character counts and negative deltas
            mask = np.zeros((h, w), bool)
            mask[rng.integers(0, h) :, rng.integers(0, w) :] = True
        assert (coco.rle_decode(coco.rle_encode(mask)) == mask).all()
    assert (coco.rle_decode({"size": [2, 3], "counts": [1, 4, 1]}) == np.array([[0, 1, 1], [1, 1, 0]], bool)).all()
    with pytest.raises(ValueError):
        coco.rle_decode({"size": [2, 3], "counts": [1, 4]})


def _person_maps():
    """A 'person' of two parts in a 60 x 40 image with known U,V ramps."""
    iuv = np.zeros((60, 40, 3), np.float32)
    mask = np.zeros((60, 40), bool)
    mask[10:50, 5:30] = True
    iuv[10:30, 5:30, 0] = 2  # torso front
    iuv[30:50, 5:30, 0] = 9  # right upper leg front
    rows, cols = np.mgrid[0:60, 0:40]
    iuv[..., 1] = np.where(mask, cols / 40, 0)
    iuv[..., 2] = np.where(mask, rows / 60, 0)
    return iuv, mask


def test_annotation_written_and_read_back(tmp_path):
    iuv, mask = _person_maps()
    annotation = coco.person_annotation(7, 3, iuv, mask, np.random.default_rng(0), max_points=40)
    assert annotation["bbox"] == [5.0, 10.0, 25.0, 40.0] and annotation["area"] == mask.sum()
    path = tmp_path / "dp.json"
    image = {"id": 3, "file_name": "x.png", "width": 40, "height": 60}
    coco.write_coco(path, coco.coco_document([image], [annotation]))
    document = coco.read_densepose_coco(path)
    back = document["annotations"][0]
    assert (coco.rle_decode(back["segmentation"]) == mask).all()
    assert 0 < len(back["dp_x"]) <= 40 and all(0 <= v < 256 for v in back["dp_x"] + back["dp_y"])
    points = coco.dp_points_in_image(back)
    rows, cols = np.floor(points["y"]).astype(int), np.floor(points["x"]).astype(int)
    assert (iuv[rows, cols, 0] == points["I"]).all()
    np.testing.assert_allclose(iuv[rows, cols, 1], points["U"], atol=1e-5)
    np.testing.assert_allclose(iuv[rows, cols, 2], points["V"], atol=1e-5)
    assert set(points["I"].tolist()) == {2, 9}
    # Coarse masks over the 256 grid: torso (1) on top, right upper leg (6) below.
    segmentation = coco.dp_segmentation(back)
    assert segmentation[64, 128] == 1 and segmentation[192, 128] == 6 and set(np.unique(segmentation)) == {1, 6}


def test_corrupt_json_is_a_one_line_error(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(Human3DError, match="bad.json: not a readable COCO JSON"):
        coco.read_densepose_coco(bad)
    bad.write_text('{"images": 3}')
    with pytest.raises(Human3DError, match="needs 'images' and 'annotations'"):
        coco.read_densepose_coco(bad)
