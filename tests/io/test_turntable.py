"""The turntable of a mesh: one turn about its vertical axis, clay on white, written as a video."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from human3d.errors import Human3DError
from human3d.io.turntable import turntable_frames, write_turntable
from human3d.io.video import VideoReader


def test_a_slab_turns_about_its_vertical_axis_and_shows_its_lit_face():
    slab = trimesh.creation.box((1.0, 1.6, 0.2))  # wide seen from the front, narrow from the side
    slab.apply_translation([5.0, -2.0, 3.0])  # anywhere: it turns about its own centre
    frames = list(turntable_frames(slab.vertices, slab.faces, size=128, frames=4))
    assert len(frames) == 4 and all(f.shape == (128, 128, 3) and f.dtype == np.uint8 for f in frames)
    covered = [np.any(f < 250, axis=-1) for f in frames]
    widths = [np.ptp(np.flatnonzero(c.any(axis=0))) for c in covered]
    heights = [np.ptp(np.flatnonzero(c.any(axis=1))) for c in covered]
    assert widths[0] > 3 * widths[1] and abs(widths[0] - widths[2]) <= 2 and abs(widths[1] - widths[3]) <= 2
    assert all(abs(h - heights[0]) <= 2 for h in heights) and heights[0] > 100  # the height fills the view
    assert np.all(frames[0][0, 0] == 255) and 120 < frames[0][64, 64].mean() < 250  # white around, lit clay


def test_the_video_has_one_turn_of_frames_and_an_empty_mesh_is_refused(tmp_path):
    sphere = trimesh.creation.icosphere(2, radius=0.5)
    path = write_turntable(tmp_path / "turn.mp4", sphere.vertices, sphere.faces, size=96, seconds=1.0, fps=12)
    reader = VideoReader(path)
    frames = list(reader)
    assert reader.fps == pytest.approx(12) and len(frames) == 12 and frames[0].shape == (96, 96, 3)
    with pytest.raises(Human3DError, match="empty mesh"):
        write_turntable(tmp_path / "none.mp4", np.zeros((0, 3)), np.zeros((0, 3), int))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["turn.mp4"]
