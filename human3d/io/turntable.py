"""A turning view of a mesh, written as a video: the mesh spun once about its vertical axis (y up) in front of
a fixed orthographic camera, shaded as grey clay on white, as PIFuHD's own demo shows its results.

Each frame is rendered headless with OpenGL (:func:`human3d.eval.mesh_metrics.normal_images`, EGL: on the CPU
or an NVIDIA GPU) and shaded from its normals by a light above, to the right of and in front of the camera.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np

from human3d.errors import Human3DError
from human3d.geometry.cameras import yaw_matrix

CLAY = np.array([0.86, 0.83, 0.78], dtype=np.float32)  # the mesh's colour (RGB, 0 to 1)
LIGHT = np.array([0.4, 0.5, 1.0]) / np.linalg.norm([0.4, 0.5, 1.0])  # toward the light (x right, y up, z to us)
AMBIENT = 0.2  # the share of the colour a face turned away from the light keeps
MARGIN = 1.08  # the view shows this much more than the mesh's extent


def turntable_frames(vertices: np.ndarray, faces: np.ndarray, size: int = 512, frames: int = 96
                     ) -> Iterator[np.ndarray]:
    """``frames`` RGB uint8 images (``size`` x ``size``) of the mesh turned by 360 / ``frames`` degrees
    more each, about the vertical line through its bounding box's centre, its first frame as given."""
    import trimesh

    from human3d.eval.mesh_metrics import BACKGROUND_NORMAL, normal_images

    vertices = np.asarray(vertices, dtype=np.float64)
    if not len(vertices) or not len(faces):
        raise Human3DError("an empty mesh has no turntable")
    centred = vertices - (vertices.min(axis=0) + vertices.max(axis=0)) / 2
    half_extent = MARGIN * max(np.abs(centred[:, 1]).max(), np.linalg.norm(centred[:, [0, 2]], axis=1).max())
    for frame in range(frames):
        turned = centred @ yaw_matrix(2 * np.pi * frame / frames).T
        normals = normal_images(trimesh.Trimesh(turned, faces, process=False), size, half_extent, views=(0.0,))[0]
        background = np.all(normals == BACKGROUND_NORMAL, axis=-1)
        shade = AMBIENT + (1 - AMBIENT) * np.clip(normals @ LIGHT, 0.0, 1.0)
        image = np.where(background[..., None], 1.0, shade[..., None] * CLAY)
        yield np.round(image * 255).astype(np.uint8)


def write_turntable(path: str | Path, vertices: np.ndarray, faces: np.ndarray, size: int = 512,
                    seconds: float = 4.0, fps: float = 24.0) -> Path:
    """Write the mesh's turntable (:func:`turntable_frames`, one turn in ``seconds``) as an H.264 MP4 at
    ``path``, which appears only once complete; returns ``path``."""
    from human3d.io.video import video_writer

    with video_writer(path, fps) as append:
        for image in turntable_frames(vertices, faces, size, max(1, round(seconds * fps))):
            append(image)
    return Path(path)
