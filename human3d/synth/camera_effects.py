"""What a real camera does to a picture, for training and test images that look less synthetic.

:func:`apply_camera_effects` degrades a rendered RGB image as photos and video frames are degraded, each
effect drawn at random: motion blur (a straight streak of a few pixels, in any direction), sensor noise
(Gaussian, in 8-bit units) and JPEG compression at a random quality. Only the picture changes; the labels
(parts, U,V, masks, keypoints) stay those of the sharp render, as a camera's would.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class CameraEffects:
    """How often and how strongly each effect is drawn. Blur lengths are for a 512-pixel image and scale with
    the image's longer side."""

    blur_probability: float = 0.5
    blur_pixels: tuple[float, float] = (2.0, 9.0)
    noise_sigma: tuple[float, float] = (0.0, 6.0)
    jpeg_probability: float = 0.7
    jpeg_quality: tuple[int, int] = (30, 90)


DEFAULT_EFFECTS = CameraEffects()


def motion_blur_kernel(length: float, angle: float) -> np.ndarray:
    """A normalised kernel that smears along a straight line of ``length`` pixels at ``angle`` radians."""
    size = int(np.ceil(length)) | 1  # odd
    kernel = np.zeros((size, size), np.float32)
    centre = size // 2
    half = (length - 1) / 2
    dx, dy = np.cos(angle) * half, np.sin(angle) * half
    cv2.line(kernel, (round(centre - dx), round(centre - dy)), (round(centre + dx), round(centre + dy)), 1.0, 1,
             cv2.LINE_AA)
    return kernel / kernel.sum()


def apply_camera_effects(rgb: np.ndarray, rng: np.random.Generator, effects: CameraEffects = DEFAULT_EFFECTS
                         ) -> tuple[np.ndarray, dict]:
    """``rgb`` (H, W, 3 uint8) degraded by randomly drawn effects, and what was drawn (JSON-ready:
    ``blur_pixels``, ``blur_angle_degrees``, ``noise_sigma``, ``jpeg_quality``; 0 or None where an effect
    was not applied)."""
    image = rgb.astype(np.float32)
    drawn: dict = {"blur_pixels": 0.0, "blur_angle_degrees": 0.0, "noise_sigma": 0.0, "jpeg_quality": None}
    if rng.random() < effects.blur_probability:
        length = float(rng.uniform(*effects.blur_pixels)) * max(rgb.shape[:2]) / 512
        angle = float(rng.uniform(0, np.pi))
        if length >= 1.5:
            image = cv2.filter2D(image, -1, motion_blur_kernel(length, angle), borderType=cv2.BORDER_REFLECT)
            drawn["blur_pixels"], drawn["blur_angle_degrees"] = round(length, 2), round(float(np.degrees(angle)), 1)
    sigma = float(rng.uniform(*effects.noise_sigma))
    image = image + rng.normal(0.0, sigma, image.shape).astype(np.float32)
    drawn["noise_sigma"] = round(sigma, 2)
    out = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    if rng.random() < effects.jpeg_probability:
        quality = int(rng.integers(effects.jpeg_quality[0], effects.jpeg_quality[1] + 1))
        ok, encoded = cv2.imencode(".jpg", out[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
        if ok:
            out = np.ascontiguousarray(cv2.imdecode(encoded, cv2.IMREAD_COLOR)[..., ::-1])
            drawn["jpeg_quality"] = quality
    return out, drawn
