"""A rendered sample's true DensePose result: one instance per visible person, the rendered I, U, V."""

from __future__ import annotations

import numpy as np

from human3d.body.model import get_body_model
from human3d.synth.densepose_truth import sample_densepose
from human3d.synth.scene import SceneConfig, make_sample


def test_each_person_is_an_instance_with_their_rendered_parts():
    sample = make_sample(0, 5, SceneConfig(size=256, people=2, camera="perspective"), get_body_model())
    result = sample_densepose(sample)
    visible = [k for k in (1, 2) if (sample.maps.instance == k).any()]
    assert len(result) == len(visible) and np.all(result.scores == 1.0)
    for box, labels, uv, instance in zip(result.boxes_xyxy.astype(int), result.labels, result.uv, visible):
        x1, y1, x2, y2 = box
        person = sample.maps.instance[y1:y2, x1:x2] == instance
        assert person.sum() == (sample.maps.instance == instance).sum()  # the box holds all their pixels
        assert labels.shape == person.shape and not labels[~person].any()
        assert set(np.unique(labels[person]).tolist()) <= set(range(1, 25))
        assert np.allclose(uv[0][person], sample.maps.iuv[y1:y2, x1:x2, 1][person])
        assert not uv[:, labels == 0].any()
