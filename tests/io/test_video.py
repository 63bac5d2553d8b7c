"""Video frames in and out through imageio-ffmpeg; one-line errors for missing, empty and unreadable files."""

from __future__ import annotations

import numpy as np
import pytest

from human3d.errors import Human3DError
from human3d.io.video import VideoReader, is_video_path, video_writer


def _frames(n: int, height: int, width: int) -> list[np.ndarray]:
    y, x = np.mgrid[:height, :width]
    return [np.stack([(x * 4 + 30 * i) % 256, (y * 4) % 256, np.full_like(x, 60 * i)], -1).astype(np.uint8)
            for i in range(n)]


def test_write_then_read_round_trip(tmp_path):
    path = tmp_path / "clip.mp4"
    frames = _frames(4, 64, 96)
    with video_writer(path, fps=12) as append:
        for frame in frames:
            append(frame)
    reader = VideoReader(path)
    assert reader.fps == pytest.approx(12)
    read = list(reader)
    assert len(read) == 4
    for ours, original in zip(read, frames):
        assert ours.shape == original.shape and ours.dtype == np.uint8
        assert np.abs(ours.astype(int) - original.astype(int)).mean() < 8  # lossy H.264


def test_odd_sizes_are_padded_to_even(tmp_path):
    path = tmp_path / "odd.mp4"
    with video_writer(path, fps=5) as append:
        append(_frames(1, 33, 45)[0])
    assert [f.shape for f in VideoReader(path)] == [(34, 46, 3)]


def test_failed_writing_leaves_nothing(tmp_path):
    path = tmp_path / "broken.mp4"
    with pytest.raises(RuntimeError):
        with video_writer(path, fps=5) as append:
            append(_frames(1, 32, 32)[0])
            raise RuntimeError("stop")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("content, problem", [(None, "video not found"), (b"", "empty file, not a video"),
                                              (b"not a video" * 50, "not a readable video")])
def test_bad_videos_give_one_line_errors(tmp_path, content, problem):
    path = tmp_path / "input.mp4"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(Human3DError, match=problem) as info:
        list(VideoReader(path))
    assert str(info.value).startswith(str(path)) and "\n" not in str(info.value)


def test_video_suffixes():
    assert is_video_path("a/b.MP4") and is_video_path("x.webm") and not is_video_path("x.png")
