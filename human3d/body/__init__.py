"""The open body model (anny) and DensePose's 24 body parts and their U,V charts on it.

Build the model once per process (:func:`get_body_model`), pose it many times::

    model = get_body_model()
    body = model.pose(sample_body_params(np.random.default_rng(0), "walking"))
    I, U, V = closest_iuv(body, points)
"""

from human3d.body.charts import closest_iuv, iuv_to_points, iuv_to_surface, surface_to_iuv
from human3d.body.keypoints import COCO17_NAMES, COCO17_SKELETON
from human3d.body.model import PHENOTYPE_NAMES, BodyModel, BodyParams, PosedBody, get_body_model
from human3d.body.parts import PART_NAMES
from human3d.body.poses import POSE_KINDS, sample_body_params

__all__ = [
    "BodyModel",
    "BodyParams",
    "COCO17_NAMES",
    "COCO17_SKELETON",
    "PART_NAMES",
    "PHENOTYPE_NAMES",
    "POSE_KINDS",
    "PosedBody",
    "closest_iuv",
    "get_body_model",
    "iuv_to_points",
    "iuv_to_surface",
    "sample_body_params",
    "surface_to_iuv",
]
