"""Surface metrics of a reconstructed mesh against its ground truth, as ICON and ECON compute them.

* **P2S** (point-to-surface): ``samples`` points drawn uniformly by area on the *ground truth*, the
  mean of their Euclidean distances to the *predicted* surface (ECON ``Evaluator.calculate_chamfer_p2s``:
  ``point_mesh_distance(src_mesh=prediction, tgt_points=ground-truth samples)``).
* **Chamfer**: the mean of P2S and the reverse term (points drawn on the prediction, distances to the
  ground-truth surface).
* **Normal consistency**: both meshes rendered from 4 orthographic views (0, 90, 180, 270 degrees about
  the vertical y axis), each pixel holding the interpolated unit vertex normal expressed in the meshes'
  own frame, and the background the unit vector -(1, 1, 1)/sqrt(3) (ECON renders a black background in
  [-1, 1] colour and normalises every pixel). The value is the mean over all pixels of the 4 views of
  ``|n_pred - n_truth|^2``, which equals ECON's ``4 * mean(((n_pred + 1)/2 - (n_truth + 1)/2)^2 summed
  over channels)``. 0 is a perfect match.

Distances are in the meshes' units (ICON/ECON multiply by 100 to report centimetres).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import trimesh

from human3d.geometry.closest import closest_surface_points
from human3d.geometry.sampling import sample_surface

ICON_SAMPLES = 1000
NORMAL_VIEWS_DEGREES = (0.0, 90.0, 180.0, 270.0)
NORMAL_IMAGE_SIZE = 512
BACKGROUND_NORMAL = np.full(3, -1.0 / np.sqrt(3.0), dtype=np.float32)
CANDIDATE_VERTICES = 12  # faces around this many nearest vertices are searched for the closest point


def point_to_surface(points: np.ndarray, mesh: trimesh.Trimesh) -> np.ndarray:
    """Euclidean distance (N,) from each point to the closest point of ``mesh``'s triangles.

    The closest point is searched among the faces around the nearest vertices, which is exact
    wherever the triangles are small compared with the distance (dense scans, marching-cubes meshes).
    """
    _, _, distance = closest_surface_points(
        np.asarray(mesh.vertices), np.asarray(mesh.faces, dtype=np.int64), points, neighbours=CANDIDATE_VERTICES
    )
    return distance


@dataclass(frozen=True)
class SurfaceDistances:
    """Points drawn by area on both surfaces and each one's distance to the other surface (mesh units)."""

    truth_points: np.ndarray  # (N, 3) on the ground truth
    truth_to_predicted: np.ndarray  # (N,) their distances to the predicted surface (P2S's terms)
    predicted_points: np.ndarray  # (N, 3) on the prediction
    predicted_to_truth: np.ndarray  # (N,) their distances to the ground truth (the reverse terms)

    @property
    def p2s(self) -> float:
        """Mean distance from the ground truth's points to the predicted surface."""
        return float(self.truth_to_predicted.mean())

    @property
    def chamfer(self) -> float:
        """Mean of P2S and the reverse direction."""
        return 0.5 * (self.p2s + float(self.predicted_to_truth.mean()))


def surface_distances(
    predicted: trimesh.Trimesh, truth: trimesh.Trimesh, samples: int = ICON_SAMPLES, seed: int = 0
) -> SurfaceDistances:
    """``samples`` points on each surface (the ground truth's drawn first, with ``seed``) and their distances to
    the other surface."""
    rng = np.random.default_rng(seed)
    truth_points = sample_surface(truth.vertices, truth.faces, samples, rng)
    predicted_points = sample_surface(predicted.vertices, predicted.faces, samples, rng)
    return SurfaceDistances(truth_points, point_to_surface(truth_points, predicted),
                            predicted_points, point_to_surface(predicted_points, truth))


def normal_images(
    mesh: trimesh.Trimesh, size: int = NORMAL_IMAGE_SIZE, half_extent: float = 1.0, views=NORMAL_VIEWS_DEGREES
) -> np.ndarray:
    """(views, size, size, 3) float32 unit normals in the mesh frame seen by orthographic cameras on
    the horizontal circle around the origin (yaw 0 looks along -z), showing x, y in [-half_extent,
    half_extent]; background pixels hold ``BACKGROUND_NORMAL``."""
    from human3d.geometry.cameras import orthographic
    from human3d.synth.renderer import Surface, shared_renderer

    surface = Surface.plain(mesh.vertices, mesh.faces)
    depth_range = 4.0 * (half_extent + float(np.abs(mesh.vertices).max()))
    images = []
    for degrees in views:
        camera = orthographic(np.zeros(3), half_extent, size, size, yaw=np.radians(degrees), depth_range=depth_range)
        maps = shared_renderer().render([surface], camera)
        in_mesh_frame = maps.normal_front @ camera.view[:3, :3]  # camera frame -> mesh frame (rows: n_cam @ R)
        in_mesh_frame /= np.maximum(np.linalg.norm(in_mesh_frame, axis=-1, keepdims=True), 1e-12)
        images.append(np.where(maps.mask[..., None], in_mesh_frame, BACKGROUND_NORMAL).astype(np.float32))
    return np.stack(images)


def normal_consistency(
    predicted: trimesh.Trimesh, truth: trimesh.Trimesh, size: int = NORMAL_IMAGE_SIZE, half_extent: float = 1.0
) -> float:
    """Mean over the 4 views' pixels of ``|n_pred - n_truth|^2`` (ICON/ECON's normal error; 0 = identical).

    Both meshes must be in the same frame, y up, centred near the origin; ICON/ECON use the input
    image's crop frame, where the image spans [-1, 1] (``half_extent=1``).
    """
    difference = normal_images(predicted, size, half_extent) - normal_images(truth, size, half_extent)
    return float((difference**2).sum(-1).mean())
