"""The real photos the people model trains with: shipped in scikit-image, each with its licence."""

from __future__ import annotations

import numpy as np

from human3d.synth.library_photos import LIBRARY_PHOTOS, library_photos, photo_patch


def test_every_photo_loads_as_rgb_with_a_licence_that_allows_training():
    photos = library_photos()
    assert len(photos) == len(LIBRARY_PHOTOS) >= 6
    for photo, licence in zip(photos, LIBRARY_PHOTOS.values()):
        assert photo.ndim == 3 and photo.shape[2] == 3 and photo.dtype == np.float32
        assert 0.0 <= photo.min() and photo.max() <= 1.0 and photo.std() > 0.02
        assert licence.startswith(("CC0", "public domain", "no known copyright"))


def test_patches_have_the_asked_size_and_vary():
    rng = np.random.default_rng(0)
    patches = [photo_patch(40, 70, rng) for _ in range(8)]
    assert all(p.shape == (40, 70, 3) for p in patches)
    assert len({round(float(p.mean()), 4) for p in patches}) > 4
    assert photo_patch(600, 900, rng).shape == (600, 900, 3)  # larger than any photo: enlarged
