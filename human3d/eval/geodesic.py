"""Geodesic distances between surface points of a triangle mesh, and between DensePose chart points on our body.

The approximation (documented in the README): shortest paths on a graph whose nodes are the mesh
vertices, with two kinds of links, each a real path on the surface:

* every mesh edge, with its length;
* across every interior edge, the straight segment joining the two opposite corners once the two
  triangles are unfolded into one plane, where that segment stays inside them (a convex quad).

A source point (face, barycentric) enters the graph by straight segments to its own triangle's
corners. The last stretch inside the target's triangle is the shortest of the routes through its
corners and of the straight line from a "virtual source" placed beyond one of its edges by the
two corner distances (fast marching's unfolding step); two points in one triangle are joined
directly, and no distance is below the straight line between the points. Within one triangle
the result is exact; elsewhere paths keep to the graph's directions, which overestimates a flat
distance by about 4 % on average on a regular grid (12 % at worst) and 2 % on a sphere, and
leaves d(p, q) and d(q, p) within an edge length of each other (measured in the tests).
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from human3d.io.atomic import write_text_atomic
from human3d.io.cache import cache_dir as human3d_cache_dir

if TYPE_CHECKING:
    from human3d.body.model import PosedBody

GPS_COARSE_OF_FINE = np.array([0, 1, 1, 2, 2, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7, 8, 8])
"""DensePose's 24 fine parts -> the 8 coarse parts of the GPS normalisation (DensePose-COCO evaluation):
1 torso, 2 hands, 3 feet, 4 upper legs, 5 lower legs, 6 upper arms, 7 lower arms, 8 head; 0 = background."""

SMPL_MEAN_GEODESIC = np.array([0.0, 0.351, 0.107, 0.126, 0.237, 0.173, 0.142, 0.128, 0.150])
"""The official per-coarse-part normalisation distances (metres, on SMPL's surface), indexed like
:data:`GPS_COARSE_OF_FINE` (detectron2 ``projects/DensePose`` ``densepose_coco_evaluation.py``)."""

MEAN_DISTANCE_SOURCES = 128
"""Source vertices per body segment when measuring its mean geodesic distance (area-weighted, fixed seed)."""

_CACHE_VERSION = 2


@dataclass(frozen=True)
class SurfacePoints:
    """Points on a mesh: ``face`` (N,) int64, ``barycentric`` (N, 3) float64, ``position`` (N, 3) float64."""

    face: np.ndarray
    barycentric: np.ndarray
    position: np.ndarray

    def __len__(self) -> int:
        return len(self.face)

    def take(self, index: np.ndarray) -> "SurfacePoints":
        """The points at ``index`` (integer indices or a boolean mask)."""
        return SurfacePoints(self.face[index], self.barycentric[index], self.position[index])


def _unfolded_diagonals(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Opposite-corner pairs (M, 2) of adjacent triangles whose unfolded straight segment crosses
    their shared edge, and that segment's length (M,)."""
    directed = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    opposite = np.concatenate([faces[:, 2], faces[:, 0], faces[:, 1]])
    stride = np.int64(len(vertices))
    key = directed[:, 0].astype(np.int64) * stride + directed[:, 1]
    reverse = directed[:, 1].astype(np.int64) * stride + directed[:, 0]
    order = np.argsort(key)
    found = np.searchsorted(key[order], reverse)
    found = np.minimum(found, len(key) - 1)
    has_twin = key[order][found] == reverse
    first = np.flatnonzero(has_twin & (directed[:, 0] < directed[:, 1]))  # each interior edge once
    twin = order[found[first]]
    a, b = vertices[directed[first, 0]], vertices[directed[first, 1]]
    c, d = vertices[opposite[first]], vertices[opposite[twin]]
    axis = b - a
    length = np.linalg.norm(axis, axis=1)
    axis = axis / np.maximum(length, 1e-15)[:, None]

    def planar(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        along = np.einsum("nd,nd->n", p - a, axis)
        across = np.linalg.norm(p - a - along[:, None] * axis, axis=1)
        return along, across

    cx, cy = planar(c)
    dx, dy = planar(d)
    dy = -dy  # unfolded: the second triangle on the other side of the shared edge
    with np.errstate(divide="ignore", invalid="ignore"):
        crossing = cx + (dx - cx) * cy / (cy - dy)
    convex = (cy > 1e-12) & (dy < -1e-12) & (crossing > 0) & (crossing < length)
    pairs = np.stack([opposite[first], opposite[twin]], axis=1)[convex]
    return pairs, np.hypot(cx - dx, cy - dy)[convex]


def _through_edge(a: np.ndarray, b: np.ndarray, distance_a: np.ndarray, distance_b: np.ndarray,
                  target: np.ndarray) -> np.ndarray:
    """Distance to ``target`` (in a triangle with edge a-b) from the virtual source beyond edge a-b
    that lies ``distance_a`` from a and ``distance_b`` from b, where the straight line from it to
    ``target`` crosses the edge; ``inf`` where there is no such source."""
    axis = b - a
    length = np.linalg.norm(axis, axis=1)
    axis = axis / np.maximum(length, 1e-15)[:, None]
    along = np.einsum("nd,nd->n", target - a, axis)
    across = np.linalg.norm(target - a - along[:, None] * axis, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        source_along = (distance_a**2 - distance_b**2 + length**2) / (2.0 * length)
        source_across = -np.sqrt(distance_a**2 - source_along**2)
        crossing = source_along + (along - source_along) * (-source_across) / (across - source_across)
        result = np.hypot(along - source_along, across - source_across)
    valid = np.isfinite(result) & (crossing >= 0.0) & (crossing <= length)
    return np.where(valid, result, np.inf)


class SurfaceGeodesics:
    """Approximate geodesic distances on one triangle mesh (see the module docstring): build once, query many."""

    def __init__(self, vertices: np.ndarray, faces: np.ndarray) -> None:
        self.vertices = np.asarray(vertices, dtype=np.float64)
        self.faces = np.asarray(faces, dtype=np.int64)
        sides = np.concatenate([self.faces[:, [0, 1]], self.faces[:, [1, 2]], self.faces[:, [2, 0]]])
        edges = np.unique(np.sort(sides, axis=1), axis=0)
        edge_lengths = np.linalg.norm(self.vertices[edges[:, 0]] - self.vertices[edges[:, 1]], axis=1)
        diagonals, diagonal_lengths = _unfolded_diagonals(self.vertices, self.faces)
        pairs = np.concatenate([edges, diagonals])
        lengths = np.concatenate([edge_lengths, diagonal_lengths])
        self._links = (np.concatenate([pairs[:, 0], pairs[:, 1]]), np.concatenate([pairs[:, 1], pairs[:, 0]]),
                       np.concatenate([lengths, lengths]))
        n = len(self.vertices)
        self.graph = sp.csr_matrix((self._links[2], self._links[:2]), shape=(n, n))
        """(V, V) sparse graph of the vertices: edges and unfolded diagonals, with their lengths."""

    @property
    def num_vertices(self) -> int:
        return len(self.vertices)

    def points(self, face: np.ndarray, barycentric: np.ndarray) -> SurfacePoints:
        """Surface points from faces and barycentric coordinates."""
        face = np.asarray(face, dtype=np.int64).ravel()
        barycentric = np.asarray(barycentric, dtype=np.float64).reshape(-1, 3)
        position = np.einsum("nc,ncd->nd", barycentric, self.vertices[self.faces[face]])
        return SurfacePoints(face, barycentric, position)

    def fields(self, sources: SurfacePoints, limit: float = np.inf) -> np.ndarray:
        """(S, V) distance from each source point to every vertex (``inf`` beyond ``limit``)."""
        n, count = self.num_vertices, len(sources)
        if count == 0:
            return np.zeros((0, n))
        virtual = np.repeat(n + np.arange(count), 3)
        corners = self.faces[sources.face].ravel()
        offsets = np.linalg.norm(self.vertices[corners] - np.repeat(sources.position, 3, axis=0), axis=1)
        rows, cols, lengths = self._links
        graph = sp.csr_matrix(
            (np.concatenate([lengths, offsets, offsets]),
             (np.concatenate([rows, virtual, corners]), np.concatenate([cols, corners, virtual]))),
            shape=(n + count, n + count))
        return dijkstra(graph, directed=True, indices=n + np.arange(count), limit=limit)[:, :n]

    def distances_from_fields(self, fields: np.ndarray, sources: SurfacePoints, targets: SurfacePoints) -> np.ndarray:
        """(S,) distance from source k to target k, given the sources' :meth:`fields` (rows in the same order).

        The last stretch inside the target's triangle: the shortest of the routes through one of its
        corners (a real surface path: an upper bound) and, for each edge whose two corner distances
        place a virtual source beyond it, the straight line from that source (the unfolded-plane
        step of fast marching, exact on a flat patch); never below the straight-line distance.
        """
        corners = self.faces[targets.face]
        points = self.vertices[corners]
        known = np.take_along_axis(fields, corners, axis=1)
        through = (known + np.linalg.norm(points - targets.position[:, None], axis=2)).min(axis=1)
        estimate = through
        for i, j in ((0, 1), (1, 2), (2, 0)):
            estimate = np.minimum(estimate, _through_edge(points[:, i], points[:, j], known[:, i], known[:, j],
                                                          targets.position))
        straight = np.linalg.norm(sources.position - targets.position, axis=1)
        estimate = np.maximum(estimate, straight)
        return np.where(sources.face == targets.face, straight, estimate)

    def pair_distances(self, sources: SurfacePoints, targets: SurfacePoints, limit: float = np.inf) -> np.ndarray:
        """(N,) geodesic distance between ``sources[k]`` and ``targets[k]`` (``inf`` beyond ``limit``)."""
        return self.distances_from_fields(self.fields(sources, limit), sources, targets)


def _vertex_areas(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """A third of the area of the triangles around each vertex."""
    cross = np.cross(vertices[faces[:, 1]] - vertices[faces[:, 0]], vertices[faces[:, 2]] - vertices[faces[:, 0]])
    areas = 0.5 * np.linalg.norm(cross, axis=1)
    return np.bincount(faces.ravel(), np.repeat(areas / 3.0, 3), minlength=len(vertices))


def mean_part_distances(geodesics: SurfaceGeodesics, vertex_segments: np.ndarray, segment_part: np.ndarray,
                        sources: int = MEAN_DISTANCE_SOURCES, seed: int = 0) -> np.ndarray:
    """Mean geodesic distance between two points of one body segment, averaged per GPS coarse part.

    ``vertex_segments`` (V,) labels each vertex with a segment 1..S (one limb of one side, front
    and back together; the torso; the head); ``segment_part`` (S + 1,) maps segments to GPS coarse
    parts 1..P. Within a segment both points are area-weighted: the first is one of ``sources``
    vertices drawn area-weighted (seeded), the second runs over all its vertices; distances run over
    the whole surface. Returns (P + 1,) with index 0 unused; a coarse part is the mean of its segments.
    """
    rng = np.random.default_rng(seed)
    areas = _vertex_areas(geodesics.vertices, geodesics.faces)
    per_segment = {}
    for segment in range(1, len(segment_part)):
        members = np.flatnonzero(vertex_segments == segment)
        if len(members) == 0:
            continue
        weights = areas[members] / areas[members].sum()
        picked = rng.choice(members, size=min(sources, len(members)), replace=False, p=weights)
        fields = dijkstra(geodesics.graph, directed=True, indices=picked)[:, members]
        per_segment[segment] = float((fields @ weights).mean())
    parts = int(segment_part.max())
    means = np.zeros(parts + 1)
    for part in range(1, parts + 1):
        means[part] = np.mean([v for k, v in per_segment.items() if segment_part[k] == part])
    return means


def cache_dir() -> Path:
    """Where evaluation caches live: ``$HUMAN3D_CACHE/eval`` (default ``~/.cache/human3d/eval``)."""
    return human3d_cache_dir("eval")


class BodyGeodesics:
    """Geodesic distances between DensePose chart points (I, U, V) on one posed body."""

    def __init__(self, body: "PosedBody") -> None:
        self.body = body
        self.surface = SurfaceGeodesics(body.vertices, body.faces)

    def chart_points(self, I: np.ndarray, U: np.ndarray, V: np.ndarray) -> SurfacePoints:
        """Surface points of chart points; ``I`` in 1..24, ``U``, ``V`` in [0, 1] (beyond the chart: its rim)."""
        from human3d.body.charts import iuv_to_surface

        if len(np.atleast_1d(I)) == 0:
            return self.surface.points(np.zeros(0, np.int64), np.zeros((0, 3)))
        face, barycentric = iuv_to_surface(self.body, I, U, V)
        return self.surface.points(face, barycentric)

    def mean_part_distances(self) -> np.ndarray:
        """(9,) mean geodesic distance within each GPS coarse part, in metres (cached on disk by mesh).

        Measured per body segment (DensePose's 14 ``dp_masks`` parts: one hand, one upper arm front and
        back, ...) and averaged over left and right, the reading of SMPL's official values that
        reproduces their sizes (a hand 0.107 m, a thigh 0.237 m)."""
        digest = hashlib.sha256()
        for array in (self.body.vertices.astype(np.float32), self.body.faces.astype(np.int32), self.body.vertex_parts):
            digest.update(np.ascontiguousarray(array).tobytes())
        digest.update(f"v{_CACHE_VERSION}-{MEAN_DISTANCE_SOURCES}".encode())
        path = cache_dir() / f"mean_part_geodesics_{digest.hexdigest()[:16]}.json"
        try:
            return np.array(json.loads(path.read_text())["mean_distances"], dtype=np.float64)
        except (OSError, ValueError, KeyError):
            pass
        from human3d.formats.densepose_coco import COARSE_OF_FINE

        segment_part = np.zeros(COARSE_OF_FINE.max() + 1, dtype=np.int64)
        segment_part[COARSE_OF_FINE] = GPS_COARSE_OF_FINE
        means = mean_part_distances(self.surface, COARSE_OF_FINE[self.body.vertex_parts], segment_part)
        try:
            write_text_atomic(path, json.dumps({"mean_distances": means.tolist()}))
        except OSError:
            pass  # a read-only home: recompute next time
        return means


@functools.lru_cache(maxsize=1)
def reference_body_geodesics() -> BodyGeodesics:
    """Geodesics on the reference body: the average adult (every phenotype 0.5) in the rest A-pose (per process)."""
    from human3d.body.model import get_body_model

    model = get_body_model()
    return BodyGeodesics(model.pose(model.rest_params()))
