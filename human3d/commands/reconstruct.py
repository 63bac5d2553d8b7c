"""``human3d reconstruct``: photos of people -> 3D meshes with PIFuHD."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from human3d.commands import (
    Subparsers,
    add_depth_bound_options,
    check_device,
    depth_margin_cm,
)
from human3d.errors import Human3DError
from human3d.weights.registry import weights_dir
from human3d.weights.resolve import resolve_weights

if TYPE_CHECKING:
    import numpy as np

SIDECAR_STEMS = ("_mask",)
PRECISION_CHOICES = ("fp32", "bf16")  # human3d.pifuhd.predictor.PRECISIONS, without torch


@dataclass(frozen=True)
class Job:
    """One image and the files it produces."""

    image: Path
    mesh: Path
    normals_dir: Path | None
    turntable: Path | None = None

    def finished(self) -> bool:
        """True when the mesh (and, if asked for, the front normal map and the turntable, written before it)
        exist."""
        normals_done = self.normals_dir is None or (self.normals_dir / f"{self.image.stem}_front.npy").exists()
        return self.mesh.exists() and normals_done and (self.turntable is None or self.turntable.exists())


def register(subparsers: Subparsers) -> None:
    """Add the ``reconstruct`` subcommand (its options are added when it is used)."""
    subparsers.add_parser(
        "reconstruct",
        help="reconstruct a 3D mesh of the person in a photo (PIFuHD)",
        description="Photo(s) of a person -> 3D mesh (OBJ/PLY/GLB by extension) with the PIFuHD method.",
        populate=add_arguments,
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``human3d reconstruct``."""
    from human3d.io.meshes import MESH_FORMATS

    parser.add_argument("input", type=Path, metavar="IMAGE|DIR", help="an image, or a folder of images")
    parser.add_argument("-o", "--output", type=Path, help="output mesh (IMAGE) or folder (DIR); default ./<stem>.obj")
    parser.add_argument("--format", choices=[s[1:] for s in MESH_FORMATS], default="obj",
                        help="mesh format for a folder")
    parser.add_argument("--checkpoint", type=Path,
                        help=f"PIFuHD checkpoint (default: the installed one in {weights_dir()})")
    crop = parser.add_mutually_exclusive_group()
    crop.add_argument("--keypoints", type=Path, metavar="J", help="OpenPose BODY_25 keypoints JSON for the crop")
    crop.add_argument("--rect", type=Path, metavar="T", help="text file 'x y w h' with the person's square crop")
    crop.add_argument("--mask", type=Path, metavar="M", help="foreground mask image (crop + background removal)")
    parser.add_argument("--blur-faces", action="store_true",
                        help="pixelate faces in the vertex colours (found people's and the face detector's)")
    parser.add_argument("--person", type=int, default=0, metavar="K",
                        help="with no crop given (no option, side file or alpha): reconstruct the K-th person found, "
                             "largest first (default 0)")
    parser.add_argument("--resolution", type=int, default=256, help="grid resolution per axis (official: 512)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--precision", choices=PRECISION_CHOICES, default="fp32",
                        help="bf16: the image encoding in bfloat16, about 2.5x faster on CPUs with native "
                             "bfloat16 (AVX512_BF16 or AMX), slower on others; with the bundled weights the "
                             "mesh moves by about half a voxel at most")
    parser.add_argument("--save-normals", type=Path, metavar="DIR", help="write <stem>_front/_back .npy and .png here")
    parser.add_argument("--turntable", type=Path, metavar="OUT.mp4",
                        help="also write a video of the mesh turning once about its vertical axis (4 s, 512x512); "
                             "for a folder of images, a folder for <stem>_turntable.mp4")
    parser.add_argument("--overwrite", action="store_true", help="redo images whose outputs already exist")
    parser.add_argument("--largest-component", action="store_true", help="keep only the largest connected piece")
    parser.add_argument("--colors", choices=("image", "normal"), default="image",
                        help="vertex colours: photo or normals")
    parser.add_argument("--dense", action="store_true", help="evaluate every grid node (slow; default: narrow band)")
    add_depth_bound_options(parser)
    parser.set_defaults(func=run)


def _jobs(args: argparse.Namespace) -> list[Job]:
    from human3d.io.images import image_files
    from human3d.io.meshes import check_mesh_path

    source: Path = args.input
    if source.is_dir():
        if args.keypoints or args.rect or args.mask:
            raise Human3DError.for_path(source, "--keypoints/--rect/--mask apply to one image; for a folder use side "
                                                "files <stem>_keypoints.json, <stem>_rect.txt or <stem>_mask.png")
        images = [p for p in image_files(source) if not p.stem.endswith(SIDECAR_STEMS)]
        if not images:
            raise Human3DError.for_path(source, "no images in this folder")
        out_dir = args.output or Path.cwd()
        return [Job(p, out_dir / f"{p.stem}.{args.format}", args.save_normals,
                    args.turntable and args.turntable / f"{p.stem}_turntable.mp4") for p in images]
    if not source.exists():
        raise Human3DError.for_path(source, "no such image or folder")
    if args.turntable is not None and args.turntable.suffix.lower() != ".mp4":
        raise Human3DError.for_path(args.turntable, "the turntable is written as .mp4")
    mesh = check_mesh_path(args.output) if args.output else Path.cwd() / f"{source.stem}.{args.format}"
    return [Job(source, mesh, args.save_normals, args.turntable)]


def _write_normals(job: Job, front: np.ndarray | None, back: np.ndarray | None) -> None:
    import numpy as np

    from human3d.io.atomic import atomic_path
    from human3d.io.images import write_image

    for side, normal in (("front", front), ("back", back)):
        if normal is None:
            continue
        target = job.normals_dir / f"{job.image.stem}_{side}.npy"
        with atomic_path(target) as tmp:
            np.save(tmp, normal.astype(np.float32))
        picture = np.clip(np.round((normal.transpose(1, 2, 0) * 0.5 + 0.5) * 255.0), 0, 255).astype(np.uint8)
        write_image(target.with_suffix(".png"), picture)


def run(args: argparse.Namespace) -> int:
    """Reconstruct every job; failures are reported one line each and make the exit status 1."""
    from tqdm import tqdm

    from human3d.io.meshes import write_mesh
    from human3d.io.turntable import write_turntable
    from human3d.people.finder import find_people
    from human3d.people.framing import edges_cut
    from human3d.people.pictures import blur_found_faces
    from human3d.pifuhd.body_band import chosen_depth_margin
    from human3d.pifuhd.model import load_pifuhd
    from human3d.pifuhd.pipeline import PreparedImage, prepare_image, reconstruct
    from human3d.pifuhd.predictor import PifuhdPredictor

    def prepare(image: Path) -> PreparedImage:
        return prepare_image(image, args.keypoints, args.rect, args.mask, find_people, args.person)

    if args.person < 0:
        raise Human3DError(f"--person must be 0 or more (got {args.person})")
    if args.resolution < 8:
        raise Human3DError(f"--resolution {args.resolution} is too small (need >= 8)")
    check_device(args.device)
    margin_cm = depth_margin_cm(args)
    jobs = _jobs(args)
    checkpoint = resolve_weights("pifuhd", args.checkpoint)
    pending = [job for job in jobs if args.overwrite or not job.finished()]
    for job in jobs:
        if job not in pending:
            print(f"{job.mesh}: exists, skipped (use --overwrite to redo)", file=sys.stderr)
    if not pending:
        return 0
    prepared_early = {}
    if len(jobs) == 1:  # a bad single input fails before the (slow) model load
        prepared_early[jobs[0].image] = prepare(jobs[0].image)
    model = load_pifuhd(checkpoint)
    depth_margin = chosen_depth_margin(args.depth_bound, model.run_name, margin_cm)
    predictor = PifuhdPredictor(model, device=args.device, precision=args.precision)
    failures = 0
    for job in tqdm(pending, desc="reconstruct", unit="image", disable=len(pending) < 2):
        try:
            prepared = prepared_early.get(job.image) or prepare(job.image)
            result = reconstruct(
                predictor, prepared, args.resolution, fast=not args.dense,
                keep_largest=args.largest_component, colors=args.colors,
                colour_source=blur_found_faces(prepared.rgb) if args.blur_faces else None, depth_margin=depth_margin,
            )
            if job.normals_dir is not None:
                _write_normals(job, result.normal_front, result.normal_back)
            if job.turntable is not None:
                write_turntable(job.turntable, result.vertices, result.faces)
            write_mesh(job.mesh, result.vertices, result.faces, result.colors)
        except Human3DError as error:
            if len(jobs) == 1:
                raise
            failures += 1
            tqdm.write(f"human3d: error: {error}", file=sys.stderr)
            continue
        tqdm.write(f"{job.mesh}: {len(result.vertices)} vertices, {len(result.faces)} faces", file=sys.stdout)
        cut = () if prepared.person is None else edges_cut(prepared.person.landmarks, *prepared.rgb.shape[1::-1])
        if cut:
            tqdm.write(f"{job.image}: the person reaches past the photo's {' and '.join(cut)} edge; what lies outside "
                       "it is guessed", file=sys.stdout)
        if result.body is not None and not result.body.present:
            tqdm.write(f"{job.image}: the fitted body disagrees with the person's outline; reconstructed from the "
                       "image alone", file=sys.stdout)
        elif depth_margin is not None and result.body is None:
            tqdm.write(f"{job.image}: no body could be fitted to a person in the crop; depth not bounded",
                       file=sys.stdout)
    return 1 if failures else 0
