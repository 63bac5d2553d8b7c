"""``human3d serve`` in a real browser (Debian's headless Chromium, driven by Playwright): a photo and a video
dropped on the page give a 3D viewer that shows the mesh, files that re-read, a second page that keeps
working while a job runs, bad uploads answered with one line, no request leaving the machine, and the
results folder removed when the server stops.

Skips where Chromium (``/usr/bin/chromium``), Playwright or Gradio are missing; ``.ci/run`` installs them.
"""

import io
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pygltflib
import pytest
import trimesh
from PIL import Image

from human3d.cli import main
from human3d.io.video import VideoReader

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "person.png"
CHROMIUM = Path("/usr/bin/chromium")
# the flags a headless Chromium needs as root on a machine with no network (no sandbox, no background calls)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]
JOB_SECONDS = 240_000  # ms: a job on a loaded 2-core machine, model loading included


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    pytest.importorskip("gradio")
    pytest.importorskip("mediapipe")
    if not CHROMIUM.is_file():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "human3d", "serve", "--port", str(port), "--resolution", "48"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = [process.stdout.readline(), process.stdout.readline()]
    root = Path(re.search(r"results are kept in (\S+) and removed", lines[1]).group(1))
    url = f"http://127.0.0.1:{port}/"
    for _ in range(120):
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    yield process, url, root
    if process.poll() is None:  # a test stopped early: stop it as a user would
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def browser(server):
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def requests_made():
    return []


def open_page(browser, url, requests_made):
    page = browser.new_page(viewport={"width": 1280, "height": 1400})
    page.on("request", lambda request: requests_made.append(request.url))
    page.goto(url)
    page.wait_for_selector("#photo-input")
    return page


def drop(page, input_id, path):
    """Drop ``path`` on a file box, clearing the file it holds first."""
    clear = page.locator(f"{input_id} button[aria-label='Clear']")
    if clear.count():
        clear.first.click()
    page.set_input_files(f"{input_id} input[type=file]", str(path))


def wait_for_status(page, status_id, text, timeout=JOB_SECONDS):
    page.wait_for_function("([id, text]) => (document.querySelector(id)?.innerText || '').includes(text)",
                           arg=[status_id, text], timeout=timeout)
    return page.inner_text(status_id)


def served_file(page, selector) -> bytes:
    href = page.get_attribute(selector, "href")
    assert href.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(href, timeout=30) as response:
        return response.read()


def viewer_is_not_blank(page, viewer_id) -> bool:
    shot = np.asarray(Image.open(io.BytesIO(page.locator(f"{viewer_id} canvas").screenshot())).convert("RGB"))
    background = np.median(shot.reshape(-1, 3), axis=0)
    return (np.abs(shot.astype(int) - background).sum(axis=2) > 40).mean() > 0.01


def test_a_photo_gives_the_3d_person_in_the_viewer_while_a_second_page_keeps_working(
        server, browser, requests_made, tmp_path):
    _, url, _ = server
    first = open_page(browser, url, requests_made)
    drop(first, "#photo-input", EXAMPLE)
    wait_for_status(first, "#photo-status", "Working on person.png")
    wait_for_status(first, "#photo-status", "%", timeout=60_000)  # the progress bar: what runs, how far it is

    notes = tmp_path / "notes.png"
    notes.write_text("shopping list, not a photo")
    second = open_page(browser, url, requests_made)  # loads while the first page's job runs
    drop(second, "#photo-input", notes)
    line = wait_for_status(second, "#photo-status", "Could not use it", timeout=60_000)
    assert line.strip() == "Could not use it: notes.png: not an image that can be read (PNG, JPEG, WebP, BMP, TIFF...)"
    assert "fitted" not in first.inner_text("#photo-status")  # the first job was still running

    status = wait_for_status(first, "#photo-status", "fitted")
    assert status.strip() == "1 person found; the largest reconstructed in 3D; 1 body fitted"
    first.wait_for_selector("#photo-mesh canvas")
    first.wait_for_function("() => !document.querySelector('#photo-mesh .wrap.pending')", timeout=60_000)
    mesh = trimesh.load(io.BytesIO(served_file(first, "#photo-mesh a[download]")), file_type="glb", force="mesh")
    assert len(mesh.faces) > 500
    deadline = time.time() + 30
    while not viewer_is_not_blank(first, "#photo-mesh") and time.time() < deadline:
        time.sleep(1)
    assert viewer_is_not_blank(first, "#photo-mesh")
    assert first.locator("#photo-densepose img").count() == 1 and first.locator("#photo-bodies img").count() == 1
    downloads = first.locator("#photo-downloads a[download]")
    assert sorted(downloads.nth(i).get_attribute("download") for i in range(downloads.count())) == [
        "person.glb", "person.obj", "person_bodies.glb", "person_bodies.json"]

    # the page that got the bad upload still works: a huge image is refused from its header, a grey one has nobody
    huge = tmp_path / "huge.png"
    Image.new("1", (9000, 5000)).save(huge)
    drop(second, "#photo-input", huge)
    assert wait_for_status(second, "#photo-status", "huge.png: ").strip() == \
        "Could not use it: huge.png: 9000x5000 pixels is over the 40-megapixel limit"
    blank = tmp_path / "wall.png"
    Image.fromarray(np.full((200, 200, 3), 128, np.uint8)).save(blank)
    drop(second, "#photo-input", blank)
    assert wait_for_status(second, "#photo-status", "wall.png: no").strip() == \
        "Could not use it: wall.png: no person found"


def test_a_video_gives_the_densepose_video_and_the_animated_bodies(server, browser, requests_made, tmp_path):
    _, url, _ = server
    clip = tmp_path / "walk.mp4"
    assert main(["synth-clip", "--out", str(clip), "--frames", "12", "--people", "1", "--size", "320x240",
                 "--seed", "3"]) == 0
    page = open_page(browser, url, requests_made)
    page.get_by_role("tab", name="Video").click()
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 20)
    drop(page, "#video-input", broken)
    assert wait_for_status(page, "#video-status", "Could not use it").strip().startswith(
        "Could not use it: broken.mp4: not a video that can be read")

    drop(page, "#video-input", clip)
    status = wait_for_status(page, "#video-status", "animated")
    assert status.strip() == "320x240, 0.5 s: DensePose drawn; 1 person fitted and animated"
    page.wait_for_selector("#video-motion canvas")
    gltf = pygltflib.GLTF2().load_from_bytes(served_file(page, "#video-motion a[download]"))
    assert len(gltf.skins) == 1 and len(gltf.animations) == 1
    assert gltf.accessors[gltf.animations[0].samplers[0].input].count == 12  # one key per frame
    annotated = tmp_path / "annotated.mp4"
    annotated.write_bytes(served_file(page, "#video-densepose a[download]"))
    frames = list(VideoReader(annotated))
    assert len(frames) == 12 and frames[0].shape == (240, 320, 3)
    deadline = time.time() + 30
    while not viewer_is_not_blank(page, "#video-motion") and time.time() < deadline:
        time.sleep(1)
    assert viewer_is_not_blank(page, "#video-motion")


def test_no_request_leaves_the_machine(requests_made):
    assert requests_made
    assert [url for url in requests_made if not url.startswith(("http://127.0.0.1:", "data:", "blob:"))] == []


def test_stopping_the_server_removes_the_results(server):
    process, _, root = server
    assert root.is_dir() and any(root.rglob("*.glb"))
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0
    assert not root.exists()
