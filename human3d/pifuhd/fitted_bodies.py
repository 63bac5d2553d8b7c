"""Bodies fitted to a synth folder's photos, stored beside them, for body-guided training.

A fit errs in structured ways that random changes of the true body do not imitate well: limbs at the wrong
depth, a leg that is really the other one, a body seen from behind. Training on the fits of the rendered photos
(:func:`fit_sample_bodies`, once per folder; each sample's ``fitted_body.npz``) teaches the network how far
to trust the body that inference will give it.
"""

from __future__ import annotations

from pathlib import Path

from tqdm import tqdm

from human3d.errors import Human3DError
from human3d.formats import synth_sample as layout
from human3d.pifuhd.photo_body import fit_person


def fit_sample_bodies(root: str | Path, progress: bool = True, part: tuple[int, int] = (0, 1)) -> dict[str, int]:
    """Fit anny to the largest person of every finished sample of ``root`` that has no fitted body yet;
    ``part`` = (k, n): only every n-th sample from the k-th (each rank of a ``torchrun`` job fits its own).

    Returns how many were ``fitted``, already there (``kept``) and ``failed`` (nobody found or fitted: those
    samples train on their perturbed true body only).
    """
    index, parts = part
    counts = {"fitted": 0, "kept": 0, "failed": 0}
    for sample_dir in tqdm(layout.finished_sample_dirs(Path(root))[index::parts], desc="fit bodies",
                           unit="sample", disable=not progress):
        if (sample_dir / layout.FITTED_BODY).is_file():
            counts["kept"] += 1
            continue
        rgb = layout.read_rgb(sample_dir)
        try:
            fit = fit_person(rgb)
        except Human3DError:
            counts["failed"] += 1
            continue
        layout.write_fitted_body(sample_dir, fit.vertices, fit.intrinsics.as_list())
        counts["fitted"] += 1
    return counts
