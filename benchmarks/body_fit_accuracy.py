"""Body fitting on synthetic photos: PA-MPJPE, PA-PVE and shape error against the true body. Prints a table.

Run by hand:  python benchmarks/body_fit_accuracy.py [--samples 12] [--seed 3] [--densepose none|truth|model]

Each sample is one person rendered by the data engine (perspective camera, 512x512, random shape, pose
kind, clothes and facing); the people finder (whole-image pass) finds them and :class:`BodyFitter` fits
anny to the finder's keypoints. PA-MPJPE: mean distance of the 12 COCO-17 body joints (shoulders to
ankles) after the similarity (Procrustes) alignment that best fits the truth; PA-PVE: the same for anny's
skin vertices (the true body rebuilt from the sample's description); shape error: the mean absolute
difference of anny's six phenotype values (each 0 to 1). The seed's samples are
never used to tune the fitter. ``--densepose`` also fits DensePose correspondences: the data engine's true
I, U, V (``truth``) or the bundled light DensePose people model's on the finder's person (``model``).
``--fit reconstruction`` fits with the settings a reconstruction's fit uses
(:data:`human3d.pifuhd.photo_body.RECONSTRUCTION_FIT`) instead of ``human3d body``'s, through the normal lens
alone (a reconstruction's bound is the mean of that fit and a 4x lens's: :data:`human3d.pifuhd.photo_body.LENSES`).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

from human3d.body.model import get_body_model
from human3d.densepose.predictor import densepose_predictor
from human3d.fit.body_fit import BODY_JOINTS, BodyFitter, FitConfig, procrustes_aligned
from human3d.people.finder import build_people_finder
from human3d.pifuhd.photo_body import RECONSTRUCTION_FIT
from human3d.synth.densepose_truth import sample_densepose
from human3d.synth.scene import SceneConfig, make_sample, placed_body


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=12)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--densepose", choices=("none", "truth", "model"), default="none")
    parser.add_argument("--fit", choices=("body", "reconstruction"), default="body")
    args = parser.parse_args()
    fitter = BodyFitter(RECONSTRUCTION_FIT if args.fit == "reconstruction" else FitConfig())
    body_model, finder = get_body_model(), build_people_finder(small_people=False)
    predictor = densepose_predictor(finder=finder) if args.densepose == "model" else None
    print(f"machine: {os.cpu_count()} CPU cores visible, {torch.get_num_threads()} torch threads, "
          f"load average {os.getloadavg()[0]:.1f}")
    print("| sample | pose kind | yaw (deg) | PA-MPJPE (mm) | PA-PVE (mm) | shape error | 2D error (px) | fit s |")
    print("|---|---|---|---|---|---|---|---|")
    errors, vertex_errors, shape_errors = [], [], []
    for index in range(args.samples):
        sample = make_sample(index, args.seed, SceneConfig(size=512, people=1, camera="perspective"), body_model)
        description = sample.people[0].description
        people = finder.find(sample.rgb)
        if not people:
            print(f"| {index} | {description['pose_kind']} | {np.degrees(description['yaw']):.0f} | not found "
                  "| | | | |")
            continue
        start = time.perf_counter()
        densepose = (sample_densepose(sample) if args.densepose == "truth" else predictor.predict_people(
            [np.ascontiguousarray(sample.rgb[..., ::-1])], [people[:1]])[0] if predictor else None)
        fit = fitter.fit(people[:1], 512, 512, densepose=densepose)[0]
        seconds = time.perf_counter() - start
        truth = sample.people[0].keypoints[list(BODY_JOINTS)]
        aligned = procrustes_aligned(fit.joints_coco17[list(BODY_JOINTS)], truth)
        error = 1000 * float(np.linalg.norm(aligned - truth, axis=1).mean())
        true_skin = placed_body(description, body_model).vertices
        skin_aligned = procrustes_aligned(fit.vertices, true_skin)
        vertex_error = 1000 * float(np.linalg.norm(skin_aligned - true_skin, axis=1).mean())
        shape_error = float(np.mean([abs(fit.params.phenotype[name] - value)
                                     for name, value in description["phenotype"].items()]))
        errors.append(error)
        vertex_errors.append(vertex_error)
        shape_errors.append(shape_error)
        print(f"| {index} | {description['pose_kind']} | {np.degrees(description['yaw']):.0f} | {error:.0f} | "
              f"{vertex_error:.0f} | {shape_error:.2f} | {fit.error_px:.1f} | {seconds:.1f} |", flush=True)
    print(f"\nfitted {len(errors)} of {args.samples}: PA-MPJPE median {np.median(errors):.0f} mm, "
          f"mean {np.mean(errors):.0f} mm, under 60 mm: {np.mean(np.array(errors) < 60):.0%}; PA-PVE mean "
          f"{np.mean(vertex_errors):.0f} mm; shape error mean {np.mean(shape_errors):.2f}")


if __name__ == "__main__":
    main()
