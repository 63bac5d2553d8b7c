"""DensePose dumps written as results come: round trips, nothing half-written, a long video's memory."""

from __future__ import annotations

import numpy as np
import pytest

from human3d.densepose.app.dump import DumpWriter, read_dump, write_dump
from human3d.densepose.app.run import SUMMARISED, run
from human3d.densepose.result import DensePoseResult
from human3d.io.video import video_writer


def _result(seed: int) -> DensePoseResult:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 25, (12, 9), dtype=np.uint8)
    uv = np.where(labels > 0, rng.random((2, 12, 9), dtype=np.float32), 0).astype(np.float32)
    return DensePoseResult(np.array([[3, 4, 12, 16]], np.float32), np.array([0.5 + seed / 100], np.float32),
                           [labels], [uv])


@pytest.mark.parametrize("suffix", [".npz", ".json"])
def test_results_go_to_a_hidden_file_as_they_come_and_the_dump_appears_at_the_end(tmp_path, suffix):
    path = tmp_path / f"out{suffix}"
    with DumpWriter(path) as writer:
        sizes = []
        for i in range(3):
            writer.add(f"frame_{i:06d}", _result(i))
            hidden = [p for p in tmp_path.iterdir() if p.name.startswith(".out")]
            assert len(hidden) == 1 and not path.exists()
            sizes.append(hidden[0].stat().st_size)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    if suffix == ".npz":
        assert sizes[0] < sizes[1] < sizes[2]  # each result is in the file before the next one comes
    back = read_dump(path)
    assert list(back) == ["frame_000000", "frame_000001", "frame_000002"]
    for i, result in enumerate(back.values()):
        expected = _result(i)
        np.testing.assert_array_equal(result.labels[0], expected.labels[0])
        np.testing.assert_allclose(result.uv[0], expected.uv[0], atol=1e-6)
        np.testing.assert_allclose(result.scores, expected.scores)


@pytest.mark.parametrize("suffix", [".npz", ".json"])
def test_a_failure_or_no_result_leaves_nothing(tmp_path, suffix):
    path = tmp_path / f"out{suffix}"
    with pytest.raises(RuntimeError, match="decoder died"):
        with DumpWriter(path) as writer:
            writer.add("frame_000000", _result(0))
            raise RuntimeError("decoder died")
    with DumpWriter(path):
        pass
    assert list(tmp_path.iterdir()) == []


def test_one_image_is_stored_without_names_and_only_once(tmp_path):
    path = tmp_path / "one.npz"
    write_dump(path, [("photo.png", _result(1))])
    assert list(read_dump(path)) == [""]
    with pytest.raises(ValueError, match="one result"):
        with DumpWriter(tmp_path / "two.npz", named=False) as writer:
            writer.add("a", _result(1))
            writer.add("b", _result(2))
    assert not (tmp_path / "two.npz").exists()
    with pytest.raises(Exception, match="must end in .npz or .json"):
        DumpWriter(tmp_path / "out.txt")


class CountingPredictor:
    """A stand-in DensePose predictor: one fixed person per image."""

    device = "cpu"

    def predict(self, images):
        return [_result(len(images)) for _ in images]

    def __call__(self, image):
        return self.predict([image])[0]


def test_a_video_run_keeps_a_short_summary_and_streams_every_frame_to_the_dump(tmp_path):
    video = tmp_path / "long.mp4"
    frames = 2 * SUMMARISED + 5
    with video_writer(video, 24.0) as append:
        for i in range(frames):
            append(np.full((32, 48, 3), 4 * i, np.uint8))
    dump = tmp_path / "long.npz"
    report = run(video, CountingPredictor(), None, dump, {"parts"}, batch_size=4)
    assert report.processed == frames and not report.failures
    assert len(report.scores) == SUMMARISED  # not one entry per frame
    assert len(read_dump(dump)) == frames
