"""The official detectron2 DensePose R-CNN timed on this machine, per stage, for a side-by-side with ours.

Run by hand, in a separate virtual environment that holds detectron2 (torchvision does not load beside
the CPU torch that human3d uses):

    python3 -m venv d2venv && d2venv/bin/pip install torch==2.14.1 torchvision==0.29.1 fvcore iopath av \
        opencv-python-headless pycocotools scipy
    git clone https://github.com/facebookresearch/detectron2 && git -C detectron2 checkout 02b5c4e2
    (cd detectron2 && FORCE_CUDA=0 ../d2venv/bin/python setup.py build_ext --inplace)
    python ../shared/reference/densepose/make_weights.py densepose_rcnn_R_50_FPN_s1x 0 \
        ../shared/reference/densepose/public/densepose_rcnn_R_50_FPN_s1x_weight_overrides.npz r50.pkl
    PYTHONPATH=detectron2:detectron2/projects/DensePose d2venv/bin/python benchmarks/densepose_official.py \
        --detectron2 detectron2 --weights r50.pkl --json official.json
    python benchmarks/densepose_speed.py --configs R_50_FPN_s1x --official official.json   # ours beside it

The image is ``../shared/photos/ryota.png`` resized as in ``densepose_speed.py`` (the same pixels). Per size:
1 warm-up, then the minimum over ``--runs`` of the official modules called one by one (preprocessing, backbone
and FPN, RPN, box head, DensePose branch, then apply_net's IUV extraction), as the stages of SPEC section 7.
Nothing in detectron2 is changed. Prints one table and writes the JSON that ``densepose_speed.py
--official`` reads; the detections are whatever the random weights give.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

PHOTO = Path(__file__).resolve().parents[2] / "shared" / "photos" / "ryota.png"
STAGES = ("bb+FPN", "RPN", "box", "DensePose", "IUV")


def test_image(width: int, height: int) -> np.ndarray:
    """``ryota.png`` resized to width x height, BGR (as ``densepose_speed.py`` makes it)."""
    return np.asarray(Image.open(PHOTO).convert("RGB").resize((width, height)))[:, :, ::-1].copy()


@torch.no_grad()
def time_stages(predictor, extractor, image: np.ndarray) -> tuple[dict[str, float], int]:
    """Seconds per stage (and total, process CPU) of one image through the official modules; detections."""
    from detectron2.modeling.postprocessing import detector_postprocess

    model, times = predictor.model, {}
    start, cpu_start = time.perf_counter(), time.process_time()
    height, width = image.shape[:2]
    resized = predictor.aug.get_transform(image).apply_image(image)
    tensor = torch.as_tensor(resized.astype("float32").transpose(2, 0, 1))
    images = model.preprocess_image([{"image": tensor, "height": height, "width": width}])
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        times[stage], clock = now - clock, now

    features = model.backbone(images.tensor)
    lap("bb+FPN")
    proposals, _ = model.proposal_generator(images, features, None)
    lap("RPN")
    instances = model.roi_heads._forward_box(features, proposals)
    lap("box")
    instances = model.roi_heads.forward_with_given_boxes(features, instances)
    lap("DensePose")
    result = detector_postprocess(instances[0], height, width)
    if len(result):
        extractor(result)
    lap("IUV")
    times["total"] = time.perf_counter() - start
    times["cpu"] = time.process_time() - cpu_start
    return times, len(result)


def main() -> None:
    """Print the table and write the JSON."""
    from densepose import add_densepose_config
    from densepose.vis.extractor import DensePoseResultExtractor
    from detectron2.config import get_cfg
    from detectron2.engine import DefaultPredictor

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detectron2", type=Path, required=True, help="the detectron2 checkout")
    parser.add_argument("--weights", type=Path, required=True, help="the rebuilt random-weight .pkl")
    parser.add_argument("--config", default="densepose_rcnn_R_50_FPN_s1x")
    parser.add_argument("--sizes", default="320x240,1100x800")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cfg = get_cfg()
    add_densepose_config(cfg)
    cfg.merge_from_file(str(args.detectron2 / "projects" / "DensePose" / "configs" / f"{args.config}.yaml"))
    cfg.MODEL.DEVICE, cfg.MODEL.WEIGHTS = "cpu", str(args.weights)
    predictor, extractor = DefaultPredictor(cfg), DensePoseResultExtractor()
    print(f"official detectron2, torch {torch.__version__}, {args.threads} threads; minimum of {args.runs} runs "
          f"after 1 warm-up; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    print("| model | input W×H | dets | " + " | ".join(STAGES) + " | total s | process CPU s |")
    print("|---|---|---|" + "---|" * (len(STAGES) + 2))
    report = {}
    for size in args.sizes.split(","):
        image = test_image(*(int(v) for v in size.split("x")))
        time_stages(predictor, extractor, image)
        times, dets = min((time_stages(predictor, extractor, image) for _ in range(args.runs)),
                          key=lambda run: run[0]["total"])
        report[size] = {"dets": dets, "stages": [times[s] for s in STAGES], "total": times["total"]}
        print(f"| {args.config.removeprefix('densepose_rcnn_')} | {size} | {dets} | "
              + " | ".join(f"{times[s]:.2f}" for s in STAGES) + f" | {times['total']:.2f} | {times['cpu']:.2f} |",
              flush=True)
    args.json.write_text(json.dumps({args.config: report}, indent=1) + "\n")


if __name__ == "__main__":
    main()
