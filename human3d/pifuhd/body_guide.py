"""A fitted body as the body-guided PIFuHD network reads it (ICON's idea, in our multi-level PIFuHD).

The body is a closed mesh in the crop frame (x right, y up, z toward the camera; the crop spans x, y in
[-1, 1]). The network reads, at every query point, the signed distance to the body and the body's normal at
the closest point (:data:`BODY_CHANNELS` features, from a :class:`~human3d.geometry.signed_distance.DistanceVolume`
built once per image), and its normal generators read the body's front and back normal maps rendered at the
crop, beside the image. Training makes the same guide from the true body, perturbed as real fits err
(:mod:`human3d.pifuhd.body_perturbation`); inference from the body fitted to the photo
(:mod:`human3d.pifuhd.photo_body`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F

from human3d.geometry.signed_distance import DistanceVolume, distance_volume

if TYPE_CHECKING:
    from human3d.synth.renderer import RenderResult

BODY_CHANNELS = 4  # signed distance, then the closest point's normal (x, y, z)
REACH = 0.25  # crop-frame units (about 25 cm for a standing person): farther is "far", with no normal
VOXEL = 1.0 / 64  # about 1.6 cm for a standing person; the fits it guides are off by several


@dataclass
class BodyGuide:
    """A body mesh in the crop frame, with its distance volume; build once per image, query many times."""

    vertices: np.ndarray  # (V, 3) crop frame
    faces: np.ndarray  # (F, 3) outward-oriented
    volume: DistanceVolume | None  # None: no body (:meth:`absent`)
    face_parts: np.ndarray | None = None  # (F,) DensePose part 1..24 of each face, when the body is anny's
    _grids: dict = field(default_factory=dict, repr=False)

    @classmethod
    def of_mesh(cls, vertices: np.ndarray, faces: np.ndarray, face_parts: np.ndarray | None = None) -> "BodyGuide":
        """The guide of a closed body mesh given in the crop frame (``face_parts``: its faces' DensePose parts)."""
        vertices = np.asarray(vertices, dtype=np.float64)
        return cls(vertices, np.asarray(faces, dtype=np.int64), distance_volume(vertices, faces, VOXEL, REACH),
                   face_parts)

    @classmethod
    def absent(cls) -> "BodyGuide":
        """No body (none could be fitted, or the fit was refused): every point reads as far outside a body,
        with no normal, and the normal maps are blank. Training shows some views this, so that a body-guided
        network also reconstructs from the image alone."""
        return cls(np.zeros((0, 3)), np.zeros((0, 3), np.int64), None)

    @property
    def present(self) -> bool:
        """Whether there is a body (see :meth:`absent`)."""
        return self.volume is not None

    def _grid(self, device: torch.device) -> torch.Tensor:
        if device not in self._grids:
            # (4, X, Y, Z) -> [1, 4, Z, Y, X]: grid_sample's (x, y, z) index W, H, D
            self._grids[device] = torch.from_numpy(self.volume.values.transpose(0, 3, 2, 1).copy())[None].to(device)
        return self._grids[device]

    def features(self, points: torch.Tensor) -> torch.Tensor:
        """[B, 4, N] at crop-frame points [B, 3, N]: signed distance (crop units, clamped to the reach) and the
        faded closest-point normal; a point beyond the volume reads as its border (the reach, no normal)."""
        if self.volume is None:
            absent = points.new_zeros(points.shape[0], BODY_CHANNELS, points.shape[2])
            absent[:, 0] = REACH
            return absent
        grid = self._grid(points.device)
        low = points.new_tensor(self.volume.origin).view(1, 3, 1)
        high = points.new_tensor(self.volume.far_corner).view(1, 3, 1)
        normalised = (points - low) / (high - low) * 2 - 1
        location = normalised.transpose(1, 2)[:, None, None]  # [B, 1, 1, N, 3]
        batch = grid.expand(points.shape[0], -1, -1, -1, -1).to(points.dtype)
        sampled = F.grid_sample(batch, location, mode="bilinear", padding_mode="border", align_corners=True)
        return sampled[:, :, 0, 0]

    def normal_maps(self, size: int) -> np.ndarray:
        """(6, size, size) float32: the body's front then back normal map over the crop, in the camera frame
        (the crop frame), 0 off the body: what the data engine renders for the person."""
        if self.volume is None:
            return np.zeros((6, size, size), np.float32)
        maps, _ = self.rendered(size)
        both = np.concatenate([maps.normal_front, maps.normal_back], axis=-1) * maps.mask[..., None]
        return np.ascontiguousarray(both.transpose(2, 0, 1), dtype=np.float32)

    def rendered(self, size: int) -> tuple[RenderResult, float]:
        """The body rendered orthographically over the crop (``size`` x ``size`` pixels, row 0 at y = 1; its
        ``iuv[..., 0]`` the faces' parts, when known) and the camera's distance from the crop frame's origin along
        +z: a pixel's crop z is that distance minus its depth."""
        from human3d.geometry.cameras import orthographic
        from human3d.synth.renderer import Surface, shared_renderer

        depth_range = 4.0 * (1.0 + float(np.abs(self.vertices).max()))
        camera = orthographic(np.zeros(3), 1.0, size, size, depth_range=depth_range)
        surface = Surface.plain(self.vertices, self.faces, self.face_parts)
        return shared_renderer().render([surface], camera), depth_range / 2
