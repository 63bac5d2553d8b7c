"""Appearance: procedural skin, cloth and hair materials, cloth printed with photos, lighting (ambient, directional,
spherical harmonics) and backgrounds (procedural, or a folder of images)."""

from __future__ import annotations

import colorsys
from pathlib import Path

import cv2
import numpy as np

from human3d.errors import Human3DError
from human3d.io.images import IMAGE_SUFFIXES, image_files
from human3d.synth.renderer import PHOTO_PATTERN, SH_BANDS, Lighting, Material

SKIN_TONES = np.array(
    [
        [0.98, 0.86, 0.76],
        [0.93, 0.76, 0.62],
        [0.85, 0.64, 0.49],
        [0.72, 0.51, 0.36],
        [0.55, 0.37, 0.25],
        [0.36, 0.23, 0.15],
    ]
)
HAIR_COLOURS = np.array(
    [
        [0.05, 0.04, 0.03],
        [0.22, 0.13, 0.07],
        [0.45, 0.30, 0.15],
        [0.80, 0.66, 0.42],
        [0.55, 0.22, 0.08],
        [0.6, 0.6, 0.6],
    ]
)


def skin_material(rng: np.random.Generator) -> Material:
    """A skin tone between two neighbouring tones of a light-to-dark scale, softly mottled."""
    position = rng.uniform(0, len(SKIN_TONES) - 1)
    low = int(position)
    high = min(low + 1, len(SKIN_TONES) - 1)
    tone = SKIN_TONES[low] + (SKIN_TONES[high] - SKIN_TONES[low]) * (position - low)
    return Material(tuple(tone), tuple(tone * rng.uniform(0.85, 0.95)), pattern=0, frequency=float(rng.uniform(20, 60)))


def cloth_material(rng: np.random.Generator) -> Material:
    """A random cloth colour and print (plain, stripes, checks, blotches, diagonal stripes)."""
    hue, saturation, value = rng.random(), rng.uniform(0.0, 0.9), rng.uniform(0.15, 0.95)
    base = np.array(colorsys.hsv_to_rgb(hue, saturation, value))
    pattern = int(rng.choice(5, p=[0.45, 0.2, 0.1, 0.1, 0.15]))
    if rng.random() < 0.5:
        second = base * rng.uniform(0.4, 0.8)
    else:
        second = np.array(colorsys.hsv_to_rgb(rng.random(), rng.uniform(0.0, 0.9), rng.uniform(0.2, 1.0)))
    return Material(tuple(base), tuple(second), pattern=pattern, frequency=float(rng.uniform(8, 40)))


def photo_print_material(rng: np.random.Generator, photos: int) -> Material:
    """A cloth printed with one of ``photos`` photos (:data:`human3d.synth.renderer.PHOTO_PATTERN`), repeating
    every 0.3 to 1.5 metres, tinted by a pale random colour."""
    tint = np.array(colorsys.hsv_to_rgb(rng.random(), rng.uniform(0.0, 0.4), rng.uniform(0.6, 1.0)))
    layer = int(rng.integers(photos))
    repeat = rng.uniform(0.3, 1.5)  # metres
    return Material(tuple(tint), tuple(tint), pattern=PHOTO_PATTERN + layer, frequency=float(1.0 / repeat))


def hair_material(rng: np.random.Generator) -> Material:
    """A natural hair colour with fine streaks."""
    colour = HAIR_COLOURS[rng.integers(len(HAIR_COLOURS))] * rng.uniform(0.8, 1.2)
    colour = np.clip(colour, 0, 1)
    return Material(tuple(colour), tuple(colour * 0.6), pattern=3, frequency=float(rng.uniform(60, 120)))


def sample_lighting(rng: np.random.Generator) -> Lighting:
    """Ambient + a directional light from the upper front half-space + random low-order SH."""
    tint = 1.0 + rng.uniform(-0.15, 0.15, 3)
    direction = np.array([rng.uniform(-1, 1), rng.uniform(0.1, 1), rng.uniform(0.2, 1)])
    sh = np.zeros((SH_BANDS, 3), dtype=np.float32)
    sh[0] = rng.uniform(0.4, 1.0) * tint
    sh[1:4] = rng.uniform(-0.35, 0.35, (3, 1)) * tint
    sh[4:] = rng.uniform(-0.15, 0.15, (5, 1)) * tint
    return Lighting(
        ambient=tuple(rng.uniform(0.05, 0.25) * tint),
        direction=tuple(direction / np.linalg.norm(direction)),
        color=tuple(rng.uniform(0.2, 0.8) * (1.0 + rng.uniform(-0.1, 0.1, 3))),
        sh=sh,
    )


def background_images(folder: str | Path) -> list[Path]:
    """The image files of a background folder (sorted); a ``Human3DError`` if there are none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise Human3DError.for_path(folder, "background folder not found")
    files = image_files(folder)
    if not files:
        raise Human3DError.for_path(folder, f"no background images ({', '.join(IMAGE_SUFFIXES)})")
    return files


def procedural_background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """(H, W, 3) uint8: a vertical gradient with soft coloured blobs and a floor line."""
    top, bottom = (
        np.array(colorsys.hsv_to_rgb(rng.random(), rng.uniform(0, 0.6), rng.uniform(0.2, 0.95))) for _ in range(2)
    )
    # Smooth content is drawn at 1/4 size and upsampled (cheap); the floor line stays sharp.
    small_h, small_w = max(1, height // 4), max(1, width // 4)
    ramp = np.linspace(0.0, 1.0, small_h)[:, None, None]
    image = np.broadcast_to(top * (1 - ramp) + bottom * ramp, (small_h, small_w, 3)).copy()
    rows, cols = np.mgrid[0:small_h, 0:small_w] / max(small_w, small_h)
    for _ in range(int(rng.integers(2, 7))):
        centre, radius = rng.random(2), rng.uniform(0.05, 0.4)
        weight = np.exp(-((cols - centre[0]) ** 2 + (rows - centre[1]) ** 2) / (2 * radius**2))[..., None]
        image += weight * (rng.random(3) - 0.5) * 0.6
    image = cv2.resize(image.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)
    floor = int(height * rng.uniform(0.6, 0.95))
    image[floor:] *= rng.uniform(0.6, 1.0)
    return (np.clip(image, 0, 1) * 255).astype(np.uint8)


def image_background(path: Path, rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """(H, W, 3) uint8 RGB: a random crop of an image file, resized to the frame."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise Human3DError.for_path(path, "not a readable image")
    image = image[..., ::-1]
    h, w = image.shape[:2]
    scale = max(width / w, height / h) * rng.uniform(1.0, 1.5)
    resized = cv2.resize(
        image, (max(width, int(round(w * scale))), max(height, int(round(h * scale)))), interpolation=cv2.INTER_AREA
    )
    y = int(rng.integers(0, resized.shape[0] - height + 1))
    x = int(rng.integers(0, resized.shape[1] - width + 1))
    return np.ascontiguousarray(resized[y : y + height, x : x + width])
