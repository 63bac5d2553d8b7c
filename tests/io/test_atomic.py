import pytest

from human3d.io.atomic import atomic_path, write_text_atomic


def test_write_then_reread(tmp_path):
    target = tmp_path / "sub" / "out.txt"
    write_text_atomic(target, "hello")
    assert target.read_text() == "hello"
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]


def test_failure_leaves_nothing_and_keeps_old_file(tmp_path):
    target = tmp_path / "out.obj"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            assert tmp.suffix == ".obj"
            tmp.write_text("half")
            raise RuntimeError("writer failed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.obj"]


def test_written_file_has_the_usual_mode(tmp_path):
    import os

    mask = os.umask(0o022)
    try:
        target = tmp_path / "mesh.ply"
        write_text_atomic(target, "x")
    finally:
        os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o644
