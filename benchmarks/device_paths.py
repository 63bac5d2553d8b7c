"""Every ``--device cuda`` path run once, with its seconds and peak GPU memory: one table, one JSON file.

Written for a session lent a GPU (issue 17, item 4): one run of well under 8 minutes on an NVIDIA H200.
Each path runs in its own try/except, so one failure never stops the others; the table says ``ok`` or
the failure's one line. Paths: PIFuHD at the released size (random weights in the official format,
synthesised as ``pifuhd_surface.py`` does) end to end at grids 256 and 512; DensePose R_50 images/s at
the default test-time size and the light DensePose frames/s at 240x320 (``densepose_speed.py`` and
``densepose_light_speed.py``'s own helpers); the body model (anny posed in a batch); the body fitter
(``BodyFitter(device=...)`` on one synthetic photo's people, their true 2D keypoints standing in for the
people finder, so mediapipe is not needed); the data engine rendering samples through EGL (moderngl's
``create_standalone_context(backend="egl")``: glcontext loads ``libEGL`` through glvnd and takes EGL
device 0, ``GLCONTEXT_DEVICE_INDEX`` picks another; the GL renderer string shows whether NVIDIA's EGL or
Mesa's llvmpipe drew); one optimizer step of each trainer with ``--amp`` (PIFuHD's three stages, the
DensePose R-CNN and the light DensePose, on data the engine has just rendered).

Here, on the CPU:   python benchmarks/device_paths.py --device cpu --quick      (smallest sizes, ~2 minutes)

On the device. The image there has torch (CUDA build), numpy, scipy, scikit-image, opencv-python-headless,
pillow, tqdm, imageio, but not anny, roma, trimesh, pygltflib, moderngl or glcontext, and nothing can be
installed from a registry; ``../shared`` does not travel either. Prepare once, here, in the repo root
(``.device/`` is git-ignored; anny's wheel is 48 MB and the tracked tree 22 MB, so it cannot travel in
the same call as the rest: the fitter, body-model, renderer and trainer paths then report
``ModuleNotFoundError: No module named 'anny'``; carry ``.device/anny`` in the call alone once you have
trimmed it under the 64 MiB limit, or accept those lines):

    mkdir -p .device/whl .device/shared/photos .device/shared/reference/pifuhd
    python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
        --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
        --platform manylinux1_x86_64 -d .device/whl roma==1.8.0 trimesh==5.2.0 pygltflib==1.16.5 \
        moderngl==5.13.0 glcontext==3.1.0
    cp ../shared/photos/pifuhd_test* ../shared/photos/ryota.png .device/shared/photos/
    cp ../shared/reference/pifuhd/*.json .device/shared/reference/pifuhd/

and, as the device README says for EGL, the glvnd loaders as .deb files in ``.gl/``. Then one ``run``
(carry ``[".device", ".gl"]``, timeout_s 540):

    for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig; export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json; python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .device/whl/*.whl; export PYTHONPATH=/tmp/site:$PWD; nvidia-smi -L; python3 benchmarks/device_paths.py --shared .device/shared --json $OUT/device_paths.json

The JSON comes back under the run's ``files_at``. Aims (issue 17): PIFuHD released size at 512 under 2 s
and under 8 GB of GPU memory at 256; light DensePose at least 300 frames/s at 240x320; R_50 at least 30
images/s at the default size.
"""  # noqa: E501

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class PathResult:
    """One path's row: what ran, its wall seconds, peak GPU memory (None off CUDA) and 'ok' or the error."""

    path: str
    device: str
    what: str
    seconds: float
    peak_gpu_mib: float | None
    result: str
    figures: dict = field(default_factory=dict)


@dataclass
class Context:
    """What every path is given: the device, quick mode, a scratch folder and the reference-data folder."""

    device: str
    quick: bool
    work: Path
    shared: Path
    cache: dict = field(default_factory=dict)

    def sync(self) -> None:
        """Wait for the device's queued work (CUDA only)."""
        if self.device.startswith("cuda"):
            torch.cuda.synchronize()


PathFunction = Callable[[Context], tuple[str, dict]]


def one_line(error: BaseException) -> str:
    """``Type: first line of the message``, at most 300 characters."""
    text = str(error).strip().splitlines()
    line = f"{type(error).__name__}: {text[0]}" if text else type(error).__name__
    return line[:300]


def run_path(name: str, function: PathFunction, context: Context) -> PathResult:
    """Run one path; never raises: a failure becomes the row's result."""
    cuda = context.device.startswith("cuda") and torch.cuda.is_available()
    gc.collect()
    if cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    what, figures, result = name, {}, "ok"
    try:
        what, figures = function(context)
    except Exception as error:  # one path's failure is a result, not the end of the run
        result = one_line(error)
    seconds = time.perf_counter() - start
    peak = torch.cuda.max_memory_allocated() / 2**20 if cuda else None
    return PathResult(name, context.device, what, seconds, peak, result, figures)


def markdown_table(results: list[PathResult]) -> str:
    """One Markdown table: path | device | what was run | seconds | peak GPU memory MiB | result."""
    lines = ["| path | device | what was run | seconds | peak GPU memory MiB | result |", "|---|---|---|---|---|---|"]
    for r in results:
        peak = "n/a" if r.peak_gpu_mib is None else f"{r.peak_gpu_mib:,.0f}"
        cells = [r.path, r.device, r.what, f"{r.seconds:.1f}", peak, r.result]
        lines.append("| " + " | ".join(c.replace("|", "/").replace("\n", " ") for c in cells) + " |")
    return "\n".join(lines)


def write_json(results: list[PathResult], path: Path, machine: dict) -> None:
    """The machine's description and every row (with its figures) as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"machine": machine, "paths": [dataclasses.asdict(r) for r in results]}, indent=1))


def machine_description(device: str) -> dict:
    """The GPU (or CPU), torch and its CUDA, the load average."""
    info = {"torch": torch.__version__, "cuda": torch.version.cuda, "python": platform.python_version(),
            "cpus": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()]}
    if device.startswith("cuda") and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return info


def timed(function: Callable[[], object], context: Context, runs: int) -> tuple[float, float]:
    """Seconds of the first call and the median of ``runs`` more (synchronised)."""
    start = time.perf_counter()
    function()
    context.sync()
    first = time.perf_counter() - start
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        context.sync()
        times.append(time.perf_counter() - start)
    return first, float(np.median(times))


def aim(value: float, target: float, below: bool) -> str:
    """``met`` or ``missed`` for an aim of ``value`` under (``below``) or at least ``target``."""
    return "met" if (value < target if below else value >= target) else "missed"


# ----------------------------------------------------------------------------------------------- PIFuHD


def pifuhd_checkpoint(context: Context) -> tuple[Path, str]:
    """The released-size random-weight checkpoint (synthesised once, as pifuhd_surface.py does), or the
    bundled small default weights in quick mode."""
    if context.quick:
        from human3d.weights.registry import get_weights

        return get_weights("human3d_pifuhd_small").path, "bundled small weights"
    import pifuhd_surface

    pifuhd_surface.REFERENCE = context.shared / "reference" / "pifuhd"
    pifuhd_surface.PHOTO = context.shared / "photos" / "pifuhd_test.png"
    pifuhd_surface.KEYPOINTS = context.shared / "photos" / "pifuhd_test_keypoints.json"
    target = Path("/tmp/human3d_bench/released_size.pt")
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        pifuhd_surface.synthesise_released(target)
    return target, "released size, random weights"


def pifuhd_path(resolution: int) -> PathFunction:
    """PIFuHD end to end (load, preprocess, encode, narrow-band field, marching cubes, colours) at one grid."""

    def run(context: Context) -> tuple[str, dict]:
        from human3d.pifuhd.model import load_pifuhd
        from human3d.pifuhd.pipeline import prepare_image, reconstruct
        from human3d.pifuhd.predictor import PifuhdPredictor

        res = min(resolution, 64) if context.quick else resolution
        checkpoint, kind = pifuhd_checkpoint(context)
        start = time.perf_counter()
        predictor = PifuhdPredictor(load_pifuhd(checkpoint), context.device)
        context.sync()
        load = time.perf_counter() - start
        photo = context.shared / "photos" / "pifuhd_test.png"
        prepared = prepare_image(photo, keypoints=context.shared / "photos" / "pifuhd_test_keypoints.json")
        first = reconstruct(predictor, prepared, res)
        context.sync()
        start = time.perf_counter()
        mesh = reconstruct(predictor, prepared, res)
        context.sync()
        warm = time.perf_counter() - start
        stages = ", ".join(f"{k} {v:.2f}" for k, v in mesh.seconds.items())
        figures = {"grid": res, "load_s": load, "first_s": sum(first.seconds.values()), "warm_s": warm,
                   "stages_s": mesh.seconds, "queries": mesh.queries, "vertices": len(mesh.vertices)}
        what = f"{kind}, grid {res}: load {load:.1f} s, warm reconstruct {warm:.2f} s ({stages})"
        if not context.quick and resolution == 512:
            what += f"; aim 512 < 2 s {aim(warm, 2.0, True)}"
        if not context.quick and resolution == 256 and torch.cuda.is_available():
            peak_gb = torch.cuda.max_memory_allocated() / 1e9
            what += f"; aim < 8 GB at 256 {aim(peak_gb, 8.0, True)}"
        return what, figures

    return run


# -------------------------------------------------------------------------------------------- DensePose


def densepose_rcnn(context: Context) -> tuple[str, dict]:
    """DensePose R_50_FPN_s1x, 10 detections kept, at the default test-time resize (short side 800)."""
    import densepose_speed

    from human3d.densepose.rcnn.predictor import RCNNDensePosePredictor

    densepose_speed.SHARED = context.shared
    densepose_speed.REFERENCE = context.shared / "reference" / "densepose"
    model = densepose_speed.load_model("densepose_rcnn_R_50_FPN_s1x", context.work)
    predictor = RCNNDensePosePredictor(model, context.device, min_score=0.0)
    width, height = (320, 240) if context.quick else (1100, 800)
    image = densepose_speed.test_image(width, height)
    runs = 1 if context.quick else 20
    densepose_speed.time_stages(predictor, image)
    measured = [densepose_speed.time_stages(predictor, image) for _ in range(runs)]
    times, dets, size = min(measured, key=lambda r: r[0]["total"])
    rate = 1.0 / times["total"]
    what = (f"R_50_FPN_s1x {width}x{height} -> {size[0]}x{size[1]}, {predictor.precision}, {dets} dets, best of "
            f"{runs}: {rate:.1f} images/s")
    if not context.quick:
        what += f"; aim >= 30 {aim(rate, 30.0, False)}"
    return what, {"images_per_s": rate, "stages_s": times, "detections": dets, "network_hw": size}


def densepose_light(context: Context) -> tuple[str, dict]:
    """The light DensePose (bundled weights), whole ``predict`` at 240x320 (H x W)."""
    import densepose_light_speed

    from human3d.densepose.light.predictor import LightDensePosePredictor
    from human3d.densepose.predictor import build_densepose
    from human3d.weights.registry import get_weights

    model = build_densepose(get_weights("human3d_densepose_light").path)
    predictor = LightDensePosePredictor(model, context.device)
    image = densepose_light_speed.test_image(240, 320)
    runs = 5 if context.quick else 200
    first, median = timed(lambda: predictor(image), context, runs)
    rate = 1.0 / median
    what = f"bundled weights, 240x320, median of {runs}: {rate:.0f} frames/s ({len(predictor(image))} people)"
    if not context.quick:
        what += f"; aim >= 300 {aim(rate, 300.0, False)}"
    return what, {"frames_per_s": rate, "first_s": first, "median_s": median}


# ------------------------------------------------------------------------------- body model and fitter


def fitter(context: Context):
    """One ``BodyFitter`` per run (building it builds the body model)."""
    if "fitter" not in context.cache:
        from human3d.fit.body_fit import BodyFitter

        context.cache["fitter"] = BodyFitter(device=context.device)
    return context.cache["fitter"]


def body_model(context: Context) -> tuple[str, dict]:
    """anny built on the device and posed in one batch (random phenotypes and small random rotations)."""
    from human3d.fit.priors import FITTED_BONES

    start = time.perf_counter()
    fit = fitter(context)
    build = time.perf_counter() - start
    batch = 8 if context.quick else 256
    generator = torch.Generator().manual_seed(0)
    phenotype = torch.rand(batch, 6, generator=generator).to(context.device)
    pose = (0.2 * torch.randn(batch, len(FITTED_BONES), 3, generator=generator)).to(context.device)
    with torch.no_grad():
        first, median = timed(lambda: fit.forward(phenotype, pose), context, 3 if context.quick else 10)
    what = (f"anny build {build:.1f} s; forward of {batch} bodies: {median * 1000:.1f} ms "
            f"({batch / median:.0f} bodies/s)")
    return what, {"build_s": build, "batch": batch, "forward_s": median, "first_s": first}


def synthetic_people(size: int):
    """One synthetic photo and its people as the finder would give them: the true COCO-17 keypoints."""
    from human3d.body.model import get_body_model
    from human3d.people.finder import Person
    from human3d.people.landmarks import COCO17_FROM_LANDMARKS
    from human3d.synth.scene import SceneConfig, make_sample

    sample = make_sample(0, 3, SceneConfig(size=size, people=1, camera="perspective"), get_body_model())
    people = []
    for keypoints in sample.keypoints_2d:
        landmarks = np.zeros((33, 4), np.float32)
        landmarks[list(COCO17_FROM_LANDMARKS), :2] = keypoints[:, :2]
        landmarks[list(COCO17_FROM_LANDMARKS), 3] = (keypoints[:, 2] > 0).astype(np.float32)
        seen = keypoints[keypoints[:, 2] > 0, :2]
        box = np.array([*seen.min(0), *seen.max(0)], np.float32)
        people.append(Person(box, 1.0, landmarks, sample.maps.mask.copy(), np.zeros(4, np.float32)))
    return sample, people


def body_fit(context: Context) -> tuple[str, dict]:
    """``BodyFitter(device=...)`` fitting the people of one synthetic photo (cold, then again warm)."""
    size = 256 if context.quick else 512
    sample, people = synthetic_people(size)
    fit = fitter(context)
    first, median = timed(lambda: fit.fit(people, size, size), context, 1 if context.quick else 3)
    fits = fit.fit(people, size, size)
    errors = [round(float(f.error_px), 2) for f in fits]
    what = f"{len(people)} person(s) at {size}x{size}, true 2D keypoints: fit {median:.2f} s (first {first:.2f} s)"
    return what + f", error {errors} px", {"people": len(people), "fit_s": median, "first_s": first,
                                           "error_px": errors}


# ------------------------------------------------------------------------------ renderer and trainers


def synth_data(context: Context, kind: str) -> Path:
    """A few samples rendered by the data engine (cached per run): ``pifuhd`` (orthographic, labelled points)
    or ``densepose`` (perspective; returns the DensePose-COCO JSON)."""
    from human3d.synth.scene import SceneConfig
    from human3d.synth.writer import generate

    if kind not in context.cache:
        size = 128 if context.quick else 512
        folder = context.work / f"synth_{kind}"
        config = (SceneConfig(size=size, people=1, points=2000) if kind == "pifuhd"
                  else SceneConfig(size=size, people=1, camera="perspective"))
        start = time.perf_counter()
        generate(folder, 2, 7, config, progress=False)
        context.cache[f"{kind}_seconds"] = time.perf_counter() - start
        context.cache[kind] = folder if kind == "pifuhd" else folder / "densepose_coco.json"
    return context.cache[kind]


def renderer(context: Context) -> tuple[str, dict]:
    """The data engine writing two samples through the EGL renderer; names the GL driver that drew."""
    from human3d.synth.renderer import shared_renderer

    start = time.perf_counter()
    gl = shared_renderer().gl_renderer
    create = time.perf_counter() - start
    synth_data(context, "pifuhd")
    seconds = context.cache["pifuhd_seconds"]
    size = 128 if context.quick else 512
    what = (f"GL_RENDERER '{gl}' (context {create:.2f} s); 2 samples at {size}x{size} with every map and "
            f"2000 points written in {seconds:.1f} s")
    return what, {"gl_renderer": gl, "context_s": create, "samples": 2, "seconds": seconds,
                  "nvidia": "nvidia" in gl.lower()}


def train_pifuhd_step(context: Context) -> tuple[str, dict]:
    """One optimizer step of each PIFuHD stage (normals, coarse, fine) with --amp."""
    from human3d.pifuhd.train import PifuhdTrainConfig, train_pifuhd
    from human3d.pifuhd.train_config import named_options

    config = "tiny" if context.quick else "released"
    data = synth_data(context, "pifuhd")
    settings = PifuhdTrainConfig(
        data=data, out=context.work / "train_pifuhd", options=named_options(config),
        steps={"normals": 1, "coarse": 1, "fine": 1}, batch_size=2, points=1000 if context.quick else 4000,
        device=context.device, amp=True, checkpoint_every=1000, log_every=1, augmentation=None, progress=False)
    train_pifuhd(settings)
    return f"config {config}, batch 2, --amp: 1 step of normals, coarse, fine (incl. writing the checkpoint)", {
        "config": config}


def train_densepose_step(model: str) -> PathFunction:
    """One optimizer step of the DensePose trainer (R-CNN config or 'light') with --amp."""

    def run(context: Context) -> tuple[str, dict]:
        from human3d.densepose.train.config import DensePoseTrainConfig
        from human3d.densepose.train.driver import train_densepose

        data = synth_data(context, "densepose")
        min_size = 96 if context.quick else 320
        options = DensePoseTrainConfig(data=data, out=context.work / f"train_{model}", model=model, steps=1,
                                       batch_size=2, min_size=min_size, device=context.device, amp=True,
                                       checkpoint_every=1000)
        train_densepose(options)
        return f"{model}, batch 2, short side {min_size}, --amp: 1 step (incl. writing the checkpoint)", {
            "model": model, "min_size": min_size}

    return run


PATHS: dict[str, PathFunction] = {
    "PIFuHD 256": pifuhd_path(256),
    "PIFuHD 512": pifuhd_path(512),
    "DensePose R_50": densepose_rcnn,
    "light DensePose": densepose_light,
    "body model": body_model,
    "body fitter": body_fit,
    "renderer (EGL)": renderer,
    "train PIFuHD": train_pifuhd_step,
    "train DensePose R_50": train_densepose_step("R_50_FPN_s1x"),
    "train light DensePose": train_densepose_step("light"),
}


def run_all(paths: dict[str, PathFunction], context: Context) -> list[PathResult]:
    """Every path in turn, each printed as it finishes."""
    results = []
    for name, function in paths.items():
        results.append(run_path(name, function, context))
        r = results[-1]
        print(f"{name}: {r.result} in {r.seconds:.1f} s - {r.what}", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="cuda (default), cuda:N or cpu")
    parser.add_argument("--quick", action="store_true", help="smallest sizes (the CPU smoke test)")
    parser.add_argument("--json", type=Path, help="also write the table and figures as JSON here")
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared",
                        help="reference data folder (photos/, reference/pifuhd/); default ../shared")
    parser.add_argument("--only", nargs="+", choices=tuple(PATHS), metavar="PATH", help="run only these paths")
    args = parser.parse_args()
    if args.device == "cpu":
        torch.set_num_threads(min(2, torch.get_num_threads()))
    machine = machine_description(args.device)
    print(json.dumps(machine), flush=True)
    paths = {name: PATHS[name] for name in args.only} if args.only else PATHS
    with tempfile.TemporaryDirectory(prefix="human3d_device_") as work:
        context = Context(args.device, args.quick, Path(work), args.shared.resolve())
        results = run_all(paths, context)
    print()
    print(markdown_table(results))
    if args.json:
        write_json(results, args.json, machine)
        print(f"\n{args.json}")


if __name__ == "__main__":
    main()
