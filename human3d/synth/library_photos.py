"""Real photos that may be trained on, shipped inside a dependency: scikit-image's sample images.

The synthetic images have procedural backgrounds; real photos have cats, cups, walls, grass and gravel
behind and in front of people. These photos are free of copyright (CC0 or public domain, as
scikit-image's own documentation of each states, see :data:`LIBRARY_PHOTOS`) and come with the
installed ``scikit-image`` wheel (no download). None shows a person: a person in a background would be
an unlabelled person. The DensePose people model's training puts them behind and in front of its
synthetic people (:mod:`human3d.densepose.train.light_people`).
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

LIBRARY_PHOTOS: dict[str, str] = {
    "chelsea": "CC0 (photographer Stefan van der Walt)",
    "coffee": "CC0 (photographer Rachel Michetti)",
    "brick": "CC0 (CC0Textures, Bricks25)",
    "grass": "CC0 (DeviantArt, linolafett, Grass-01)",
    "gravel": "CC0 (CC0Textures, Gravel04)",
    "rocket": "public domain (SpaceX photo of the DSCOVR launch)",
    "hubble_deep_field": "public domain (NASA, Hubble eXtreme Deep Field)",
    "coins": "no known copyright restrictions (Brooklyn Museum collection)",
}
"""scikit-image sample image name -> its licence, as scikit-image documents it."""


@lru_cache(maxsize=1)
def library_photos() -> tuple[np.ndarray, ...]:
    """The photos of :data:`LIBRARY_PHOTOS` as RGB float32 arrays in 0..1 (grey ones repeated to RGB)."""
    import skimage.data

    photos = []
    for name in LIBRARY_PHOTOS:
        photo = np.asarray(getattr(skimage.data, name)(), np.float32) / 255.0
        photos.append(np.repeat(photo[..., None], 3, axis=2) if photo.ndim == 2 else photo[..., :3])
    return tuple(photos)


def photo_patch(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """A random ``height`` x ``width`` RGB float patch of a random library photo, at a random scale."""
    photo = library_photos()[int(rng.integers(len(LIBRARY_PHOTOS)))]
    scale = max(height / photo.shape[0], width / photo.shape[1]) * rng.uniform(1.0, 2.0)
    size = (max(width, round(photo.shape[1] * scale)), max(height, round(photo.shape[0] * scale)))
    scaled = cv2.resize(photo, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    y, x = int(rng.integers(0, scaled.shape[0] - height + 1)), int(rng.integers(0, scaled.shape[1] - width + 1))
    patch = scaled[y:y + height, x:x + width]
    return patch[:, ::-1].copy() if rng.random() < 0.5 else patch.copy()
