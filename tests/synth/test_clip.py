"""``human3d synth-clip``: a walking clip is written, re-read frame by frame, and shows motion."""

from __future__ import annotations

import numpy as np

from human3d.cli import main
from human3d.io.video import VideoReader


def test_clip_has_the_frames_and_people_move(tmp_path, capsys, body_model):
    out = tmp_path / "walk.mp4"
    assert main(["synth-clip", "--out", str(out), "--frames", "4", "--size", "96x64", "--fps", "8", "--seed", "1"]) == 0
    assert "wrote 4 frame(s)" in capsys.readouterr().out
    frames = [frame.astype(np.int16) for frame in VideoReader(out)]
    assert len(frames) == 4 and frames[0].shape == (64, 96, 3)
    moved = (np.abs(frames[3] - frames[0]).max(axis=2) > 40).mean()
    assert 0.005 < moved < 0.5  # the walkers moved, the scene did not
    assert np.abs(frames[3][:8, :8] - frames[0][:8, :8]).mean() < 6  # background corner stays (up to H.264 noise)


def test_clip_errors_are_one_line(tmp_path, capsys):
    assert main(["synth-clip", "--out", str(tmp_path / "a.mp4"), "--size", "96by64"]) == 1
    assert "--size 96by64: want WIDTHxHEIGHT" in capsys.readouterr().err
    assert main(["synth-clip", "--out", str(tmp_path / "a.gif")]) == 1
    assert "a.gif: the clip is written as MP4" in capsys.readouterr().err
    assert not (tmp_path / "a.gif").exists() and not (tmp_path / "a.mp4").exists()
