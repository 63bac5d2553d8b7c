"""Read and write video frames (RGB uint8) with imageio's ffmpeg plugin; clear one-line errors."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

import imageio.v2 as imageio
import numpy as np

from human3d.errors import Human3DError
from human3d.io.atomic import atomic_path

VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".gif")


def is_video_path(path: str | Path) -> bool:
    """Whether the file name looks like a video (by its extension)."""
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


class VideoReader:
    """Frames of a video file, in order, as H x W x 3 RGB uint8; ``fps`` from the container."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise Human3DError.for_path(self.path, "video not found")
        if self.path.stat().st_size == 0:
            raise Human3DError.for_path(self.path, "empty file, not a video")
        try:
            self._reader = imageio.get_reader(self.path, format="FFMPEG")
            meta = self._reader.get_meta_data()
        except Exception as error:  # imageio/ffmpeg raise OSError, RuntimeError, ... for bad files
            raise Human3DError.for_path(self.path, f"not a readable video ({error.__class__.__name__})") from None
        self.fps = float(meta.get("fps") or 25.0)
        frames = meta.get("nframes")
        self.frame_count_hint = int(frames) if isinstance(frames, (int, float)) and np.isfinite(frames) else None

    def __iter__(self) -> Iterator[np.ndarray]:
        count = 0
        try:
            for frame in self._reader:
                count += 1
                yield np.ascontiguousarray(frame[..., :3])
        except Exception as error:
            raise Human3DError.for_path(self.path, f"decoding stopped after frame {count} "
                                                   f"({error.__class__.__name__})") from None
        finally:
            self._reader.close()
        if count == 0:
            raise Human3DError.for_path(self.path, "video has no frames")


@contextlib.contextmanager
def video_writer(path: str | Path, fps: float) -> Iterator:
    """Context manager yielding ``append(frame_rgb)``; the file appears only when the block succeeds.

    Frames are H.264 (yuv420p); odd sizes are padded by one pixel to the even size the codec needs.
    """
    with atomic_path(path) as tmp:
        writer = imageio.get_writer(tmp, format="FFMPEG", fps=fps, codec="libx264", macro_block_size=1,
                                    ffmpeg_log_level="error", pixelformat="yuv420p")
        try:
            def append(frame: np.ndarray) -> None:
                pad = ((0, frame.shape[0] % 2), (0, frame.shape[1] % 2), (0, 0))
                writer.append_data(np.pad(frame, pad, mode="edge"))

            yield append
        finally:
            writer.close()
