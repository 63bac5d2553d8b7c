"""Per-part U,V charts: each DensePose part of the body mesh mapped one-to-one onto a disk in [0,1]².

A part is a connected patch of the rest-pose mesh. Its holes (if any) are closed with a fan around
a temporary centre vertex, which makes it a topological disk; its outer boundary is laid on the
circle of centre (0.5, 0.5) and radius 0.5 by arc length, and every inner vertex is placed at the
mean-value-weighted average of its neighbours (Floater's mean value coordinates, one sparse linear
solve). Positive weights and a convex boundary make the map a bijection (Tutte/Floater): no
triangle flips and no two triangles overlap. Charts belong to the mesh topology, not to a pose, so
(face, barycentric) <-> (I, U, V) holds for every posed body alike.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra
from scipy.sparse.linalg import spsolve
from scipy.spatial import cKDTree

from human3d.geometry.closest import closest_surface_points, project_to_triangles


class ChartedBody(Protocol):
    """What the (I, U, V) functions below need of a posed body (:class:`human3d.body.model.PosedBody` has it)."""

    vertices: np.ndarray  # (V, 3)

    @property
    def faces(self) -> np.ndarray: ...  # (F, 3)

    @property
    def face_parts(self) -> np.ndarray: ...  # (F,) part 1..24

    @property
    def corner_uv(self) -> np.ndarray: ...  # (F, 3, 2)

    @property
    def locator(self) -> "ChartLocator": ...


def _boundary_loops(faces: np.ndarray) -> list[np.ndarray]:
    """Boundary loops of a manifold, consistently oriented patch, following the faces' edge directions."""
    directed = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    stride = int(faces.max()) + 1
    key = directed[:, 0].astype(np.int64) * stride + directed[:, 1]
    reverse = directed[:, 1].astype(np.int64) * stride + directed[:, 0]
    boundary = directed[~np.isin(key, reverse)]
    successor = dict(zip(boundary[:, 0].tolist(), boundary[:, 1].tolist()))
    if len(successor) != len(boundary):
        raise ValueError("patch is not manifold: a boundary vertex has two outgoing boundary edges")
    loops, seen = [], set()
    for start in boundary[:, 0].tolist():
        if start in seen:
            continue
        loop = [start]
        seen.add(start)
        node = successor[start]
        while node != start:
            loop.append(node)
            seen.add(node)
            node = successor[node]
        loops.append(np.array(loop))
    return loops


def _mean_value_weights(points: np.ndarray, faces: np.ndarray) -> sp.csr_matrix:
    """Sparse (N, N) Floater mean value weights w_ij = (tan(a/2) + tan(b/2)) / |p_i - p_j|."""
    rows, cols, vals = [], [], []
    for corner in range(3):
        i, j, k = faces[:, corner], faces[:, (corner + 1) % 3], faces[:, (corner + 2) % 3]
        eij, eik = points[j] - points[i], points[k] - points[i]
        lij = np.maximum(np.linalg.norm(eij, axis=1), 1e-12)
        lik = np.maximum(np.linalg.norm(eik, axis=1), 1e-12)
        cos = np.clip(np.einsum("nd,nd->n", eij, eik) / (lij * lik), -1.0, 1.0)
        half_tan = np.tan(0.5 * np.arccos(cos))
        rows += [i, i]
        cols += [j, k]
        vals += [half_tan / lij, half_tan / lik]
    n = len(points)
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))


def disk_parameterization(points: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """(N, 2) U,V of a connected, oriented, genus-0 patch, bijective onto the disk in [0,1]².

    The outer boundary (the longest loop) goes counter-clockwise round the circle starting at its
    highest point (largest y) on top, so outward-facing triangles keep a positive signed area.
    """
    loops = _boundary_loops(faces)
    lengths = [np.linalg.norm(points[loop] - points[np.roll(loop, -1)], axis=1).sum() for loop in loops]
    outer = loops[int(np.argmax(lengths))]
    filled_points, filled_faces = [points], [faces]
    n = len(points)
    for loop in loops:
        if loop is outer:
            continue
        filled_points.append(points[loop].mean(axis=0, keepdims=True))
        filled_faces.append(np.stack([np.roll(loop, -1), loop, np.full(len(loop), n)], axis=1))
        n += 1
    all_points = np.concatenate(filled_points)
    weights = _mean_value_weights(all_points, np.concatenate(filled_faces))

    outer = np.roll(outer, -int(np.argmax(points[outer, 1])))
    steps = np.linalg.norm(points[outer] - points[np.roll(outer, -1)], axis=1)
    angle = 0.5 * np.pi + 2.0 * np.pi * np.concatenate([[0.0], np.cumsum(steps)[:-1]]) / steps.sum()
    uv = np.zeros((n, 2))
    uv[outer] = 0.5 + 0.5 * np.stack([np.cos(angle), np.sin(angle)], axis=1)

    inner = np.setdiff1d(np.arange(n), outer)
    laplacian = sp.diags(np.asarray(weights.sum(axis=1)).ravel()) - weights
    system = laplacian[inner][:, inner].tocsc()
    rhs = -(laplacian[inner][:, outer] @ uv[outer])
    uv[inner] = np.stack([spsolve(system, rhs[:, 0]), spsolve(system, rhs[:, 1])], axis=1)
    return uv[: len(points)]


def _path_to_boundary(points: np.ndarray, faces: np.ndarray, start: int) -> np.ndarray:
    """Vertices of the shortest edge path from ``start`` to the nearest boundary vertex."""
    edges = np.unique(np.sort(np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]), axis=1), axis=0)
    lengths = np.linalg.norm(points[edges[:, 0]] - points[edges[:, 1]], axis=1)
    n = len(points)
    graph = sp.csr_matrix((lengths, (edges[:, 0], edges[:, 1])), shape=(n, n))
    distance, predecessor = dijkstra(graph, directed=False, indices=start, return_predecessors=True)
    boundary = np.concatenate(_boundary_loops(faces))
    node = int(boundary[np.argmin(distance[boundary])])
    path = [node]
    while node != start:
        node = int(predecessor[node])
        path.append(node)
    return np.array(path[::-1])


def _cut_open(faces: np.ndarray, origin: np.ndarray, path: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cut the patch along an edge path (interior tip to boundary): path vertices get one copy per side.

    ``origin`` maps each current vertex to the vertex it was copied from; returns the new faces and origin.
    """
    faces = faces.copy()
    origin = list(origin)
    cut = {frozenset(pair) for pair in zip(path[:-1].tolist(), path[1:].tolist())}
    canonical: dict[int, int] = {}
    for vertex in path.tolist():
        around = np.flatnonzero(np.any(faces == vertex, axis=1))
        group = {int(f): int(f) for f in around}

        def find(f: int) -> int:
            while group[f] != f:
                f = group[f]
            return f

        by_other: dict[int, list[int]] = {}
        for f in around.tolist():
            for other in faces[f].tolist():
                if other != vertex:
                    by_other.setdefault(other, []).append(f)
        for other, sharing in by_other.items():
            if frozenset((vertex, canonical.get(other, other))) in cut:
                continue
            for f in sharing[1:]:
                group[find(f)] = find(sharing[0])
        roots = sorted({find(f) for f in around.tolist()})
        for root in roots[1:]:
            copy = len(origin)
            origin.append(origin[vertex])
            canonical[copy] = vertex
            for f in around.tolist():
                if find(f) == root:
                    faces[f][faces[f] == vertex] = copy
    return faces, np.array(origin)


def chart_corner_uv(points: np.ndarray, faces: np.ndarray, min_area: float = 1e-8, max_cuts: int = 16) -> np.ndarray:
    """(F, 3, 2) chart coordinates of a patch's face corners, cut open where the disk map crushes it.

    A disk map squeezes long closed protrusions (fingers, toes) exponentially. While some triangle's
    U,V area is below ``min_area``, the patch is cut along the shortest path from that triangle to
    the boundary (opening the protrusion like a glove's seam) and mapped again.
    """
    origin = np.arange(len(points))
    for _ in range(max_cuts + 1):
        uv = disk_parameterization(points[origin], faces)
        area = signed_uv_areas(uv[faces])
        worst = int(np.argmin(area))
        if area[worst] >= min_area:
            break
        boundary = set(np.concatenate(_boundary_loops(faces)).tolist())
        inner = [v for v in faces[worst].tolist() if v not in boundary]
        if not inner:
            break
        faces, origin = _cut_open(faces, origin, _path_to_boundary(points[origin], faces, inner[0]))
    return uv[faces]


def build_corner_uv(vertices: np.ndarray, faces: np.ndarray, face_parts: np.ndarray) -> np.ndarray:
    """(F, 3, 2) float32 chart coordinates of each face corner in its own part's chart."""
    corner_uv = np.zeros((len(faces), 3, 2), dtype=np.float32)
    for part in np.unique(face_parts):
        member = np.flatnonzero(face_parts == part)
        used, local = np.unique(faces[member], return_inverse=True)
        corner_uv[member] = chart_corner_uv(vertices[used], local.reshape(-1, 3))
    return corner_uv


def signed_uv_areas(corner_uv: np.ndarray) -> np.ndarray:
    """(F,) signed area of each face's triangle in its chart (positive = counter-clockwise)."""
    d1 = corner_uv[:, 1].astype(np.float64) - corner_uv[:, 0]
    d2 = corner_uv[:, 2].astype(np.float64) - corner_uv[:, 0]
    return 0.5 * (d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0])


class ChartLocator:
    """Finds, per part, the chart triangle under a (U, V) point: build once per topology, query many."""

    def __init__(self, corner_uv: np.ndarray, face_parts: np.ndarray) -> None:
        self.corner_uv = corner_uv.astype(np.float64)
        self.part_faces = {int(p): np.flatnonzero(face_parts == p) for p in np.unique(face_parts)}
        self.trees = {p: cKDTree(self.corner_uv[f].mean(axis=1)) for p, f in self.part_faces.items()}

    def locate(self, part: int, uv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Face index and barycentric coordinates of each (U, V) in ``part``'s chart.

        Points outside the chart (beyond the disk) snap to the nearest chart point.
        """
        faces = self.part_faces[part]
        tri = self.corner_uv[faces]
        face_index = np.zeros(len(uv), dtype=np.int64)
        barycentric = np.zeros((len(uv), 3))
        inside_disk = np.linalg.norm(uv - 0.5, axis=1) < 0.499
        todo = np.arange(len(uv))
        for k in (16, 128, len(faces)):
            k = min(k, len(faces))
            _, near = self.trees[part].query(uv[todo], k=k)
            near = near.reshape(len(todo), k)
            bary = project_to_triangles(uv[todo], tri[near])
            gap = np.linalg.norm(np.einsum("nkc,nkcd->nkd", bary, tri[near]) - uv[todo, None], axis=2)
            best = gap.argmin(axis=1)
            rows = np.arange(len(todo))
            face_index[todo] = faces[near[rows, best]]
            barycentric[todo] = bary[rows, best]
            # Points inside the disk that no candidate contains (a large, far triangle) search wider;
            # points on or beyond the rim keep their nearest rim point.
            todo = todo[(gap[rows, best] > 1e-12) & inside_disk[todo]]
            if len(todo) == 0 or k == len(faces):
                break
        return face_index, barycentric


def surface_to_iuv(
    body: ChartedBody, face_index: np.ndarray, barycentric: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Part I (uint8, 1..24) and chart coordinates U, V (float32) of surface points (face, barycentric)."""
    face_index = np.asarray(face_index)
    corners = body.corner_uv[face_index].astype(np.float64)
    uv = np.einsum("nc,ncd->nd", np.asarray(barycentric, dtype=np.float64), corners)
    return body.face_parts[face_index], uv[:, 0].astype(np.float32), uv[:, 1].astype(np.float32)


def iuv_to_surface(body: ChartedBody, I: np.ndarray, U: np.ndarray, V: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Face index (int64) and barycentric coordinates (float64, (N, 3)) of chart points (I, U, V).

    The inverse of :func:`surface_to_iuv` within a part; (U, V) outside the part's disk snap to its rim.
    """
    I = np.asarray(I).astype(np.int64).ravel()
    uv = np.stack([np.asarray(U, dtype=np.float64).ravel(), np.asarray(V, dtype=np.float64).ravel()], axis=1)
    unknown = np.setdiff1d(np.unique(I), list(body.locator.part_faces))
    if len(unknown):
        raise ValueError(f"part index {int(unknown[0])} is not a body part (1..24)")
    face_index = np.zeros(len(I), dtype=np.int64)
    barycentric = np.zeros((len(I), 3))
    for part in np.unique(I):
        rows = I == part
        face_index[rows], barycentric[rows] = body.locator.locate(int(part), uv[rows])
    return face_index, barycentric


def iuv_to_points(body: ChartedBody, I: np.ndarray, U: np.ndarray, V: np.ndarray) -> np.ndarray:
    """(N, 3) float32 positions on the posed body of chart points (I, U, V)."""
    face_index, barycentric = iuv_to_surface(body, I, U, V)
    corners = body.vertices[body.faces[face_index]].astype(np.float64)
    return np.einsum("nc,ncd->nd", barycentric, corners).astype(np.float32)


def closest_iuv(body: ChartedBody, points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(I, U, V) of the body surface point nearest to each 3D point (e.g. a clothing vertex)."""
    face_index, barycentric, _ = closest_surface_points(body.vertices, body.faces, points)
    return surface_to_iuv(body, face_index, barycentric)
