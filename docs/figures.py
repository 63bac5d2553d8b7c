"""Draw the README's pictures of the default models (run by hand from the repository root).

    python docs/figures.py reconstruction OUT.png IMAGE [--mask MASK] [--resolution 256]
    python docs/figures.py densepose OUT.png IMAGE_OR_VIDEO [--frame N]

``reconstruction``: the input, then the reconstructed mesh's normals seen from the front and from the
side (orthographic, the image's crop frame). ``densepose``: the light default model's parts, U,V
contours and boxes drawn over the image (or frame ``N`` of a video).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import trimesh

from human3d.io.images import write_image


def _normal_views(mesh: trimesh.Trimesh, size: int) -> list[np.ndarray]:
    from human3d.eval.mesh_metrics import normal_images

    views = normal_images(mesh, size=size, half_extent=1.0, views=(0, 90))
    shaded = [np.clip(view * 0.5 + 0.5, 0.0, 1.0) for view in views]
    whitened = [np.where((view == view[0, 0]).all(-1, keepdims=True), 1.0, view) for view in shaded]
    return [(view * 255).astype(np.uint8) for view in whitened]


def reconstruction_figure(image: Path, mask: Path | None, resolution: int, size: int = 512) -> np.ndarray:
    """Input crop | front normals | side normals of the default PIFuHD weights' mesh."""
    from human3d.pifuhd.model import load_pifuhd
    from human3d.pifuhd.pipeline import prepare_image, reconstruct
    from human3d.pifuhd.predictor import PifuhdPredictor
    from human3d.weights.resolve import resolve_weights

    prepared = prepare_image(image, mask=mask)
    result = reconstruct(
        PifuhdPredictor(load_pifuhd(resolve_weights("pifuhd"))), prepared, resolution, keep_largest=True
    )
    x, y, w, h = prepared.rect.xywh
    rgb = prepared.rgb
    padded = np.pad(rgb, ((h, h), (w, w), (0, 0)), constant_values=255)
    crop = cv2.resize(padded[y + h : y + 2 * h, x + w : x + 2 * w], (size, size), interpolation=cv2.INTER_AREA)
    mesh = trimesh.Trimesh(result.vertices, result.faces, process=False)
    return np.concatenate([crop[..., :3]] + _normal_views(mesh, size), axis=1)


def densepose_figure(source: Path, frame: int) -> np.ndarray:
    """The light default model's picture (parts, contours, boxes) over an image or a video frame (RGB)."""
    from human3d.densepose.app.visualize import render
    from human3d.densepose.predictor import build_densepose, predictor_for
    from human3d.densepose.rcnn.image import read_image_bgr
    from human3d.io.video import VideoReader, is_video_path
    from human3d.weights.resolve import resolve_weights

    if is_video_path(source):
        image_bgr = next(f for i, f in enumerate(VideoReader(source)) if i == frame)[..., ::-1].copy()
    else:
        image_bgr = read_image_bgr(source)
    predictor = predictor_for(build_densepose(resolve_weights("densepose-light")))
    return render(image_bgr, predictor(image_bgr))[..., ::-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", choices=("reconstruction", "densepose"))
    parser.add_argument("out", type=Path)
    parser.add_argument("source", type=Path)
    parser.add_argument("--mask", type=Path)
    parser.add_argument("--resolution", type=int, default=256)
    parser.add_argument("--frame", type=int, default=0)
    args = parser.parse_args()
    if args.kind == "reconstruction":
        picture = reconstruction_figure(args.source, args.mask, args.resolution)
    else:
        picture = densepose_figure(args.source, args.frame)
    write_image(args.out, picture)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
