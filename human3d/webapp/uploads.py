"""What the web page accepts: photos and videos within size limits, each refused with one line naming it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from human3d.errors import Human3DError


@dataclass(frozen=True)
class UploadLimits:
    """The largest upload (megabytes), photo or video frame (megapixels) and video (seconds) accepted."""

    megabytes: float = 200.0
    megapixels: float = 40.0
    video_seconds: float = 60.0


@dataclass(frozen=True)
class VideoInfo:
    """A video's frame size, frame rate and length, read from its header."""

    width: int
    height: int
    fps: float
    seconds: float


def check_file(path: Path, limits: UploadLimits) -> None:
    """A one-line error when ``path`` is missing, empty or over the upload size limit."""
    if not path.is_file():
        raise Human3DError.for_path(path.name, "nothing was uploaded")
    size = path.stat().st_size
    if size == 0:
        raise Human3DError.for_path(path.name, "the file is empty")
    if size > limits.megabytes * 1e6:
        raise Human3DError.for_path(path.name, f"{size / 1e6:.0f} MB is over the {limits.megabytes:g} MB limit")


def check_pixels(name: str, width: int, height: int, limits: UploadLimits) -> None:
    """A one-line error when a ``width`` x ``height`` image is over the megapixel limit."""
    if width * height > limits.megapixels * 1e6:
        raise Human3DError.for_path(name, f"{width}x{height} pixels is over the {limits.megapixels:g}-megapixel limit")


def check_photo(path: Path, limits: UploadLimits) -> tuple[int, int]:
    """The photo's (width, height), read from its header only (a huge image is refused before it is decoded);
    a one-line error naming the file when it is not an image or too large."""
    from PIL import Image, UnidentifiedImageError

    check_file(path, limits)
    try:
        with Image.open(path) as image:
            width, height = image.size
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise Human3DError.for_path(path.name, "not an image that can be read (PNG, JPEG, WebP, BMP, TIFF...)"
                                    ) from None
    check_pixels(path.name, width, height, limits)
    return width, height


def check_video(path: Path, limits: UploadLimits) -> VideoInfo:
    """The video's size, rate and length from its header; a one-line error naming the file when it is not a
    readable video, has no frames, or is over a limit."""
    import imageio.v2 as imageio

    check_file(path, limits)
    try:
        reader = imageio.get_reader(path, format="FFMPEG")
        try:
            meta = reader.get_meta_data()
            reader.get_data(0)
        finally:
            reader.close()
    except Exception:  # noqa: BLE001 - imageio and ffmpeg raise many kinds for a corrupt or foreign file
        raise Human3DError.for_path(path.name, "not a video that can be read (MP4, MOV, AVI, MKV, WebM...)") from None
    width, height = (int(v) for v in meta.get("size") or (0, 0))
    fps = float(meta.get("fps") or 25.0)
    seconds = float(meta.get("duration") or 0.0)
    check_pixels(path.name, width, height, limits)
    if seconds > limits.video_seconds:
        raise Human3DError.for_path(path.name, f"{seconds:.0f} s is over the {limits.video_seconds:g} s limit")
    return VideoInfo(width, height, fps, seconds)
