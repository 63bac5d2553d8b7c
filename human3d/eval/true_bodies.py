"""A synthetic sample's true anny body as a reconstruction's body: what the reconstruction would score if the
body fit were perfect.

``human3d eval reconstruction --body true`` gives the depth bound (and body-guided weights) the body the data
engine posed, placed where the ground truth is scored (crop frame of the photo's person rect, z = 0 at the
ground truth's median vertex depth, as :mod:`human3d.eval.reconstruction` maps the mesh back), instead of the
body fitted to the photo. The difference between the two runs is what the fit costs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from human3d.errors import Human3DError
from human3d.formats import synth_sample as layout
from human3d.formats.synth_sample import read_calib
from human3d.geometry.crop import Crop, depth_origin, points_to_crop
from human3d.io.meshes import read_mesh
from human3d.pifuhd.body_guide import BodyGuide
from human3d.pifuhd.photo_body import skin_guide

BODY_CHOICES = ("fitted", "true")  # the body a reconstruction reads: fitted to the photo, or the sample's own


def true_body_vertices(sample_dir: str | Path, rect: Crop) -> np.ndarray:
    """The skin vertices (V, 3) of the one anny person of a ``human3d synth`` sample, in the crop frame of
    ``rect`` with z = 0 at the ground truth mesh's median depth (:func:`depth_origin`). A one-line error
    naming the sample when it holds no such person (a rendered scan, or several people)."""
    from human3d.body.model import get_body_model
    from human3d.synth.scene import placed_body

    sample_dir = Path(sample_dir)
    people = layout.read_meta(sample_dir).get("people", [])
    if len(people) != 1 or "pose" not in people[0]:
        raise Human3DError.for_path(sample_dir, "no true body to read: the sample needs one synthetic person with "
                                                "their anny pose in meta.json (rendered scans have none)")
    calib, image_size = read_calib(sample_dir)
    body = placed_body(people[0], get_body_model())
    origin = depth_origin(read_mesh(sample_dir / layout.MESH).vertices, calib)
    return points_to_crop(np.asarray(body.vertices, np.float64).T, calib, rect, image_size, origin).T


def true_body_guide(sample_dir: str | Path, rect: Crop) -> BodyGuide:
    """:func:`true_body_vertices` as a :class:`BodyGuide` that knows its faces' DensePose parts (as a fit's does)."""
    return skin_guide(true_body_vertices(sample_dir, rect))
