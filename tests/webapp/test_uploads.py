"""What the web page accepts: photos and videos within the limits; everything else one line naming the file."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from human3d.errors import Human3DError
from human3d.io.video import video_writer
from human3d.webapp.uploads import UploadLimits, check_photo, check_video

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "person.png"


def test_a_photo_within_the_limits_gives_its_size():
    assert check_photo(EXAMPLE, UploadLimits()) == Image.open(EXAMPLE).size


@pytest.mark.parametrize("content, problem", [
    (b"", "person.png: the file is empty"),
    (b"these are notes, not a photo", "person.png: not an image that can be read"),
])
def test_a_file_that_is_not_a_photo_is_refused_by_name(tmp_path, content, problem):
    path = tmp_path / "person.png"
    path.write_bytes(content)
    with pytest.raises(Human3DError) as error:
        check_photo(path, UploadLimits())
    assert str(error.value).startswith(problem)


def test_a_huge_photo_is_refused_from_its_header(tmp_path):
    path = tmp_path / "huge.png"
    Image.new("1", (9000, 5000)).save(path)  # 45 megapixels, a small file
    with pytest.raises(Human3DError, match=r"^huge.png: 9000x5000 pixels is over the 40-megapixel limit$"):
        check_photo(path, UploadLimits())


def test_a_file_over_the_upload_limit_is_refused(tmp_path):
    with pytest.raises(Human3DError, match=r"^person.png: 0 MB is over the 0.01 MB limit$"):
        check_photo(EXAMPLE, UploadLimits(megabytes=0.01))


@pytest.fixture(scope="module")
def short_video(tmp_path_factory):
    path = tmp_path_factory.mktemp("video") / "walk.mp4"
    with video_writer(path, fps=10) as append:
        for index in range(20):
            append(np.full((48, 64, 3), index * 10, np.uint8))
    return path


def test_a_video_within_the_limits_gives_its_size_rate_and_length(short_video):
    info = check_video(short_video, UploadLimits())
    assert (info.width, info.height, info.fps) == (64, 48, 10.0) and abs(info.seconds - 2.0) < 0.15


def test_a_video_over_the_length_limit_is_refused(short_video):
    with pytest.raises(Human3DError, match=r"^walk.mp4: 2 s is over the 1 s limit$"):
        check_video(short_video, UploadLimits(video_seconds=1))


def test_a_corrupt_video_is_refused_by_name(tmp_path):
    path = tmp_path / "broken.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 20)
    with pytest.raises(Human3DError, match=r"^broken.mp4: not a video that can be read"):
        check_video(path, UploadLimits())
