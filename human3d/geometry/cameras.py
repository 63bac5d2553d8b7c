"""Cameras for rendering: orthographic (PIFuHD's camera) and perspective, OpenGL conventions.

World: metres, y up. Camera frame: x right, y up, looking down -z (OpenGL). A camera is a rigid
``view`` matrix (world -> camera) and an OpenGL ``projection`` (camera -> clip). Depth maps hold
the distance along the viewing axis, ``-z_camera``, in metres.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Camera:
    """A pinhole or orthographic camera with an image size in pixels."""

    kind: str  # "orthographic" or "perspective"
    view: np.ndarray  # (4, 4) float64, world -> camera (rigid)
    projection: np.ndarray  # (4, 4) float64, camera -> OpenGL clip space
    width: int
    height: int

    def to_camera(self, points: np.ndarray) -> np.ndarray:
        """World points (N, 3) -> camera-frame points (N, 3)."""
        points = np.asarray(points, dtype=np.float64)
        return points @ self.view[:3, :3].T + self.view[:3, 3]

    def to_pixels(self, points: np.ndarray) -> np.ndarray:
        """World points (N, 3) -> (N, 3): pixel column, pixel row (0 = top, pixel centres at +0.5), depth."""
        cam = self.to_camera(points)
        clip = np.concatenate([cam, np.ones((len(cam), 1))], axis=1) @ self.projection.T
        ndc = clip[:, :3] / clip[:, 3:4]
        col = (ndc[:, 0] + 1.0) * 0.5 * self.width
        row = (1.0 - ndc[:, 1]) * 0.5 * self.height
        return np.stack([col, row, -cam[:, 2]], axis=1)

    def pifu_calib(self) -> np.ndarray:
        """PIFuHD's ``calib`` (4, 4) for an orthographic camera: world -> crop frame.

        The crop frame has x right, y up, z toward the camera, and one unit = half the image width,
        so the image spans x in [-1, 1] (PIFuHD SPEC section 5.3). Square images only.
        """
        if self.kind != "orthographic" or self.width != self.height:
            raise ValueError("pifu_calib needs a square orthographic camera")
        half_width = 1.0 / self.projection[0, 0]
        scale = np.diag([1.0 / half_width] * 3 + [1.0])
        centre = np.eye(4)
        centre[2, 3] = (self.projection[2, 3]) / self.projection[2, 2]  # move the near/far midpoint to z = 0
        return scale @ centre @ self.view

    def to_dict(self) -> dict:
        """JSON-ready description (matrices as nested lists)."""
        data = {
            "kind": self.kind,
            "width": self.width,
            "height": self.height,
            "view": np.round(self.view, 9).tolist(),
            "projection": np.round(self.projection, 9).tolist(),
        }
        if self.kind == "orthographic" and self.width == self.height:
            data["pifu_calib"] = np.round(self.pifu_calib(), 9).tolist()
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "Camera":
        """Inverse of :meth:`to_dict`."""
        return cls(
            kind=data["kind"],
            view=np.asarray(data["view"], dtype=np.float64),
            projection=np.asarray(data["projection"], dtype=np.float64),
            width=int(data["width"]),
            height=int(data["height"]),
        )


def look_at(eye: np.ndarray, target: np.ndarray, up=(0.0, 1.0, 0.0)) -> np.ndarray:
    """Rigid world -> camera matrix for a camera at ``eye`` looking at ``target``."""
    eye, target, up = (np.asarray(a, dtype=np.float64) for a in (eye, target, up))
    forward = target - eye
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, up)
    right /= np.linalg.norm(right)
    true_up = np.cross(right, forward)
    view = np.eye(4)
    view[0, :3], view[1, :3], view[2, :3] = right, true_up, -forward
    view[:3, 3] = -view[:3, :3] @ eye
    return view


def yaw_matrix(yaw: float) -> np.ndarray:
    """(3, 3) rotation by ``yaw`` radians about the world's up axis (y)."""
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def _orbit_eye(target: np.ndarray, distance: float, yaw: float, pitch: float) -> np.ndarray:
    """Camera position on a sphere around ``target``; yaw 0 looks at the person's front (+z)."""
    return np.asarray(target, dtype=np.float64) + distance * np.array(
        [np.sin(yaw) * np.cos(pitch), np.sin(pitch), np.cos(yaw) * np.cos(pitch)]
    )


def orthographic(
    target, half_height: float, width: int, height: int, yaw: float = 0.0, pitch: float = 0.0, depth_range: float = 10.0
) -> Camera:
    """Orthographic camera centred on ``target`` showing ``2 * half_height`` metres vertically."""
    distance = depth_range / 2.0
    view = look_at(_orbit_eye(target, distance, yaw, pitch), target)
    half_width = half_height * width / height
    near, far = 0.0, depth_range
    projection = np.array(
        [
            [1.0 / half_width, 0, 0, 0],
            [0, 1.0 / half_height, 0, 0],
            [0, 0, -2.0 / (far - near), -(far + near) / (far - near)],
            [0, 0, 0, 1.0],
        ]
    )
    return Camera("orthographic", view, projection, width, height)


def perspective(
    target, fov_y_degrees: float, distance: float, width: int, height: int, yaw: float = 0.0, pitch: float = 0.0
) -> Camera:
    """Perspective camera at ``distance`` metres from ``target`` with a vertical field of view."""
    view = look_at(_orbit_eye(target, distance, yaw, pitch), target)
    near, far = max(distance - 5.0, 0.05), distance + 5.0
    f = 1.0 / np.tan(np.radians(fov_y_degrees) / 2.0)
    projection = np.array(
        [
            [f * height / width, 0, 0, 0],
            [0, f, 0, 0],
            [0, 0, (far + near) / (near - far), 2 * far * near / (near - far)],
            [0, 0, -1.0, 0],
        ]
    )
    return Camera("perspective", view, projection, width, height)
