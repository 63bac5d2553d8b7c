"""The web app's jobs without a browser: a photo through every model, results as they come, faces blurred,
models used one job at a time, and a photo with nobody in it refused by name."""

import json
import threading
from pathlib import Path

import numpy as np
import pytest
import trimesh
from PIL import Image

from human3d.errors import Human3DError
from human3d.io.images import read_image
from human3d.webapp.jobs import file_stem, photo_job
from human3d.webapp.models import Models
from human3d.webapp.uploads import UploadLimits

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "person.png"


@pytest.fixture(scope="module")
def models():
    pytest.importorskip("mediapipe")
    return Models(resolution=32)


@pytest.fixture(scope="module")
def photo_results(models, tmp_path_factory):
    runs = {}
    for blur in (False, True):
        folder = tmp_path_factory.mktemp(f"blur_{blur}")
        runs[blur] = list(photo_job(models, EXAMPLE, folder, UploadLimits(), blur, lambda fraction, text: None))
    return runs


def test_a_photo_shows_the_3d_person_first_then_the_pictures_then_the_bodies(photo_results):
    steps = photo_results[False]
    assert [step.mesh is not None for step in steps] == [True, True, True]
    assert [step.densepose is not None for step in steps] == [False, True, True]
    assert [step.bodies_mesh is not None for step in steps] == [False, False, True]
    final = steps[-1]
    assert final.status == "1 person found; the largest reconstructed in 3D; 1 body fitted"
    assert [path.name for path in final.downloads] == ["person.glb", "person.obj", "person_bodies.glb",
                                                       "person_bodies.json"]


def test_the_photo_results_re_read(photo_results):
    final = photo_results[False][-1]
    glb = trimesh.load(final.mesh, force="mesh")
    obj = trimesh.load(final.downloads[1], force="mesh", process=False)
    assert len(glb.faces) > 500 and len(obj.faces) == len(glb.faces)
    bodies = trimesh.load(final.bodies_mesh, force="mesh")
    centre = (bodies.bounds[0] + bodies.bounds[1]) / 2
    assert np.allclose(centre, 0, atol=1e-6)
    assert 1.4 < bodies.extents[1] < 2.1  # a standing person, y up, in metres
    document = json.loads(final.downloads[3].read_text())
    assert len(document["frames"][0]["people"][0]["joints_coco17_3d"]) == 17
    shape = read_image(EXAMPLE)[..., :3].shape
    assert read_image(final.densepose).shape == shape and read_image(final.bodies_picture).shape == shape


def test_blurring_faces_changes_the_face_and_nothing_far_from_the_person(photo_results):
    plain = read_image(photo_results[False][-1].bodies_picture).astype(int)
    blurred = read_image(photo_results[True][-1].bodies_picture).astype(int)
    changed = np.abs(plain - blurred).sum(axis=2) > 0
    rows, columns = np.nonzero(changed)
    assert changed.sum() > 100
    assert rows.max() < plain.shape[0] * 0.3  # only the head, in the top part of the photo
    assert not changed[:, : plain.shape[1] // 5].any()


def test_a_photo_with_nobody_in_it_is_refused_by_name(models, tmp_path):
    path = tmp_path / "wall.png"
    Image.fromarray(np.full((256, 256, 3), 128, np.uint8)).save(path)
    with pytest.raises(Human3DError, match=r"^wall.png: no person found$"):
        list(photo_job(models, path, tmp_path, UploadLimits(), False, lambda fraction, text: None))


def test_a_model_in_use_makes_the_next_job_wait_and_say_so():
    models, said, entered = Models(), [], threading.Event()

    def second_job():
        with models.using("pifuhd", lambda fraction, text: said.append(text)):
            entered.set()

    with models.using("pifuhd", lambda fraction, text: None):
        waiting = threading.Thread(target=second_job)
        waiting.start()
        assert not entered.wait(0.3)
    waiting.join(5)
    assert entered.is_set() and said == ["waiting: another job is using the 3D reconstruction model"]


def test_output_names_come_from_the_upload_name():
    assert file_stem(Path("/tmp/x/My photo (2).JPG")) == "My_photo_2"
    assert file_stem(Path("/tmp/x/.png")) == "png" and file_stem(Path("/tmp/x/???.png")) == "upload"


def test_the_page_turns_a_bad_upload_and_a_bug_into_one_status_line(tmp_path, capsys):
    pytest.importorskip("gradio")
    from human3d.webapp.page import job_runner

    def job(models, path, folder, limits, blur, progress):
        progress(0.5, "half way")
        if path.name == "bug.png":
            raise RuntimeError("index out of range")
        raise Human3DError.for_path(path, "no person found")
        yield

    run = job_runner(job, lambda result: [result], 2, None, UploadLimits(), tmp_path / "jobs")
    said = []
    upload = tmp_path / "upload" / "wall.png"
    updates = list(run(str(upload), False, progress=lambda fraction, desc: said.append(desc)))
    assert updates == [["Working on wall.png...", None, None], ["**Could not use it:** wall.png: no person found",
                                                                None, None]]
    assert said == ["half way"]
    last = list(run(str(tmp_path / "bug.png"), False, progress=lambda fraction, desc: None))[-1]
    assert last[0].startswith("**Something went wrong** with bug.png (RuntimeError: index out of range)")
    assert "RuntimeError: index out of range" in capsys.readouterr().err
    assert list(run(None, False)) == [["Drop a file first.", None, None]]
