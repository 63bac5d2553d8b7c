"""The signed distance to a closed triangle mesh and the surface normal at the closest point, on a voxel grid
around the mesh, built in a tenth of a second for a body.

The surface is represented by dense area-uniform samples (plus the vertices), each with the mesh's smooth
normal there (vertex normals interpolated). Each voxel holding samples keeps the one nearest its centre; every
other voxel takes the sample of its nearest holding voxel (an exact Euclidean distance transform), and voxels
whose sample is within :data:`EXACT_BAND` voxels look their nearest sample up in a KD-tree instead. A voxel's
distance is the distance to its sample, its normal the sample's; an offset along the surface up to the sample
spacing counts as a gap between samples, not as distance. Its sign (negative inside): in or next to a voxel
the surface crosses, that of the offset along the sample's normal; farther, whether those voxels enclose it (a
flood fill from the grid's border). The normal alone misleads far from the surface: the nearest sample of a
point beyond the hands or between the legs can face away from it. Distances are within about a tenth of a
voxel of the exact ones near a smooth surface and within a voxel farther out; the sign can be wrong within
about a voxel of a sharp crease.
Values are clamped at ``reach`` (the grid extends that far beyond the mesh's box) and the normal fades to 0
there, so a point outside the grid reads as the grid's border: ``reach`` away, no normal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import trimesh
from scipy import ndimage
from scipy.spatial import cKDTree

from human3d.geometry.sampling import surface_barycentrics

SAMPLES_PER_VOXEL_AREA = 4.0  # surface samples per voxel face of area: every crossed voxel holds some
EXACT_BAND = 4.0  # voxels: each voxel whose sample is nearer than this looks its closest sample up exactly


@dataclass(frozen=True)
class DistanceVolume:
    """``values`` (4, X, Y, Z) float32: signed distance (clamped to +-``reach``) and the closest point's unit
    normal times ``1 - |distance| / reach``, at voxel centres ``origin + voxel * (i, j, k)``."""

    values: np.ndarray
    origin: np.ndarray
    voxel: float
    reach: float

    @property
    def far_corner(self) -> np.ndarray:
        """The centre of the last voxel (3,)."""
        return self.origin + self.voxel * (np.array(self.values.shape[1:]) - 1)


def surface_samples(vertices: np.ndarray, faces: np.ndarray, spacing: float, seed: int = 0
                    ) -> tuple[np.ndarray, np.ndarray]:
    """The vertices plus area-uniform points about ``spacing`` apart (P, 3), and the smooth unit normals there."""
    mesh = trimesh.Trimesh(np.asarray(vertices, dtype=np.float64), np.asarray(faces, dtype=np.int64), process=False)
    count = max(1, math.ceil(mesh.area / spacing**2))
    chosen, weights = surface_barycentrics(mesh.vertices, mesh.faces, count, np.random.default_rng(seed))
    corners = mesh.faces[chosen]
    points = np.concatenate([mesh.vertices, np.einsum("nk,nkd->nd", weights, mesh.vertices[corners])])
    normals = np.concatenate([mesh.vertex_normals, np.einsum("nk,nkd->nd", weights, mesh.vertex_normals[corners])])
    return points, normals / np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)


def distance_volume(vertices: np.ndarray, faces: np.ndarray, voxel: float, reach: float) -> DistanceVolume:
    """The :class:`DistanceVolume` of a closed mesh over its bounding box grown by ``reach`` on every side."""
    vertices = np.asarray(vertices, dtype=np.float64)
    if len(vertices) == 0 or len(faces) == 0:
        raise ValueError("an empty mesh has no distance volume")
    spacing = voxel / math.sqrt(SAMPLES_PER_VOXEL_AREA)
    points, normals = surface_samples(vertices, faces, spacing)
    origin = vertices.min(0) - reach
    shape = tuple(int(n) for n in np.ceil((vertices.max(0) + reach - origin) / voxel).astype(int) + 1)
    cells = np.clip(np.rint((points - origin) / voxel).astype(np.int64), 0, np.array(shape) - 1)
    flat = np.ravel_multi_index(tuple(cells.T), shape)
    by_cell = np.lexsort((np.linalg.norm(points - (cells * voxel + origin), axis=1), flat))  # nearest first per cell
    cell_ids, first = np.unique(flat[by_cell], return_index=True)
    holder = np.full(shape, -1, dtype=np.int64)
    holder.flat[cell_ids] = by_cell[first]  # each holding voxel keeps the sample nearest its centre
    nearest_cell = ndimage.distance_transform_edt(holder < 0, return_distances=False, return_indices=True)
    nearest = holder[tuple(nearest_cell)]
    centres = np.stack(np.meshgrid(*[np.arange(n) for n in shape], indexing="ij"), -1) * voxel + origin
    offset = centres - points[nearest]
    near = np.linalg.norm(offset, axis=-1) < EXACT_BAND * voxel
    nearest[near] = cKDTree(points).query(centres[near], workers=-1)[1]
    offset[near] = centres[near] - points[nearest[near]]
    closest_normals = normals[nearest]
    along = np.einsum("...d,...d->...", offset, closest_normals)
    sideways = np.maximum(np.einsum("...d,...d->...", offset, offset) - along**2 - spacing**2, 0.0)
    distance = np.sqrt(along**2 + sideways)  # a sideways offset up to the sample spacing is a gap between samples
    near_surface = ndimage.binary_dilation(holder >= 0)  # the crossed voxels, thickened to close gaps between them
    inside = np.where(near_surface, along < 0, ndimage.binary_fill_holes(near_surface))  # farther: enclosed or not
    signed = np.clip(np.where(inside, -distance, distance), -reach, reach)
    fade = 1.0 - np.abs(signed) / reach
    values = np.concatenate([signed[None], np.moveaxis(closest_normals * fade[..., None], -1, 0)])
    return DistanceVolume(values.astype(np.float32), origin, float(voxel), float(reach))


def closed_volume(volume: DistanceVolume, gap: int) -> DistanceVolume:
    """``volume`` with its mesh made solid across gaps up to about ``2 * gap`` voxels wide (a mouth's pocket,
    between fingers): every voxel that a closing by a diamond of ``gap`` voxels adds, or encloses, reads one voxel
    inside; the rest is unchanged."""
    inside = volume.values[0] < 0
    diamond = ndimage.iterate_structure(ndimage.generate_binary_structure(3, 1), gap)
    solid = ndimage.binary_fill_holes(ndimage.binary_closing(inside, diamond))
    values = volume.values.copy()
    values[0][solid & ~inside] = -volume.voxel
    return DistanceVolume(values, volume.origin, volume.voxel, volume.reach)
