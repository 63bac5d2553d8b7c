"""One person's body over time: a fixed shape, and per frame a pose and a placement (the unit of export)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class BodyMotion:
    """A person's motion in the body world frame (metres, y up, the rest body facing +z; see
    :mod:`human3d.body.model`).

    ``phenotype``: anny's shape, fixed over the clip; ``poses`` (F, 104, 3): rotation vectors per frame in
    :class:`human3d.body.model.BodyParams`' convention (row 0, the root, turns the whole body); ``translations``
    (F, 3): per frame, added to :meth:`human3d.body.model.BodyModel.forward_unplaced`'s vertices and joints
    to place the body; ``fps``: frames per second; ``id``: the person's track id.
    """

    phenotype: dict[str, float]
    poses: np.ndarray
    translations: np.ndarray
    fps: float
    id: int = 0

    def __post_init__(self) -> None:
        self.poses = np.asarray(self.poses, dtype=np.float32)
        self.translations = np.asarray(self.translations, dtype=np.float32)
        if self.poses.ndim != 3 or self.poses.shape[2] != 3:
            raise ValueError(f"poses must have shape (frames, bones, 3), got {self.poses.shape}")
        if self.translations.shape != (len(self.poses), 3):
            raise ValueError(f"translations must have shape ({len(self.poses)}, 3), got {self.translations.shape}")
        if self.fps <= 0:
            raise ValueError(f"fps must be positive, got {self.fps}")

    @property
    def frames(self) -> int:
        """The number of frames."""
        return len(self.poses)
