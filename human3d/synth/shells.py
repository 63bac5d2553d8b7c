"""Closed triangle shells for garments: offset slabs over a body region, generalized cylinders,
ellipsoids. Every shell is closed and outward oriented, so winding numbers are robust."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import trimesh

from human3d.synth.renderer import vertex_normals


@dataclass
class Shell:
    """A closed mesh with DensePose labels per face corner (see :class:`renderer.Surface`)."""

    vertices: np.ndarray  # (V, 3) float32
    faces: np.ndarray  # (F, 3) int32
    face_parts: np.ndarray  # (F,) uint8
    corner_uv: np.ndarray  # (F, 3, 2) float32
    shading_normals: np.ndarray | None = None  # (V, 3) normals to shade with (None: from the faces)


def orient_outward(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """``faces`` flipped if needed so that the enclosed signed volume is positive."""
    tri = vertices[faces].astype(np.float64)
    volume = np.einsum("ij,ij->i", tri[:, 0], np.cross(tri[:, 1], tri[:, 2])).sum() / 6.0
    return faces if volume >= 0 else faces[:, ::-1].copy()


def offset_shell(
    vertices: np.ndarray,
    faces: np.ndarray,
    face_parts: np.ndarray,
    corner_uv: np.ndarray,
    selected: np.ndarray,
    thickness: np.ndarray,
    normals: np.ndarray | None = None,
    inset: float = 0.004,
) -> Shell:
    """A closed slab over the selected faces of an outward-oriented surface.

    The outer layer is the region moved out by ``thickness`` (per vertex, metres) along the vertex
    normals, the inner layer is moved in by ``inset`` (so it lies inside the body) and reversed,
    and the boundary loops are stitched by a rim of quads. Faces of both layers keep the DensePose
    part and U,V of the body face they come from: a garment pixel takes the part and U,V beneath it.
    """
    normals = vertex_normals(vertices, faces) if normals is None else normals
    face_index = np.flatnonzero(selected)
    sub = faces[face_index]
    used, local = np.unique(sub, return_inverse=True)
    local = local.reshape(-1, 3)
    count = len(used)
    base, direction = vertices[used].astype(np.float64), normals[used].astype(np.float64)
    outer = base + direction * np.asarray(thickness, dtype=np.float64)[used, None]
    inner = base - direction * inset
    parts, uv = face_parts[face_index], corner_uv[face_index]

    # Directed boundary edges: (a -> b) of a face whose reverse (b -> a) is in no selected face.
    edges = np.concatenate([local[:, [0, 1]], local[:, [1, 2]], local[:, [2, 0]]])
    edge_face = np.tile(np.arange(len(local)), 3)
    edge_corners = np.concatenate(
        [np.tile([0, 1], (len(local), 1)), np.tile([1, 2], (len(local), 1)), np.tile([2, 0], (len(local), 1))]
    )
    keys = edges[:, 0] * count + edges[:, 1]
    reverse = edges[:, 1] * count + edges[:, 0]
    boundary = ~np.isin(reverse, keys)
    a, b = edges[boundary, 0], edges[boundary, 1]
    rim_face, rim_corner = edge_face[boundary], edge_corners[boundary]
    # Rim: (outer b, outer a, inner a) and (outer b, inner a, inner b); inner vertices are offset by count.
    rim = np.concatenate([np.stack([b, a, a + count], 1), np.stack([b, a + count, b + count], 1)])
    uv_a = uv[rim_face, rim_corner[:, 0]]
    uv_b = uv[rim_face, rim_corner[:, 1]]
    rim_uv = np.concatenate([np.stack([uv_b, uv_a, uv_a], 1), np.stack([uv_b, uv_a, uv_b], 1)])
    all_faces = np.concatenate([local, local[:, ::-1] + count, rim]).astype(np.int32)
    # Shade with the outer layer's own normals everywhere (the rim and inner layer included), so the
    # garment's edge reads as the cloth's continuation instead of a dark fold.
    outer_normals = vertex_normals(outer, local)
    return Shell(
        vertices=np.concatenate([outer, inner]).astype(np.float32),
        faces=all_faces,
        face_parts=np.concatenate([parts, parts, parts[rim_face], parts[rim_face]]).astype(np.uint8),
        corner_uv=np.concatenate([uv, uv[:, ::-1], rim_uv]).astype(np.float32),
        shading_normals=np.concatenate([outer_normals, outer_normals]),
    )


def closed_tube(rings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A closed, outward-oriented mesh through ``rings`` (R, S, 3) (R rings of S points) with
    flat caps at both ends (a centre vertex each)."""
    count, segments = rings.shape[:2]
    vertices = np.concatenate([rings.reshape(-1, 3), rings[0].mean(0, keepdims=True), rings[-1].mean(0, keepdims=True)])
    r, s = np.meshgrid(np.arange(count - 1), np.arange(segments), indexing="ij")
    a = r * segments + s
    b = r * segments + (s + 1) % segments
    c = a + segments
    d = b + segments
    side = np.concatenate([np.stack([a, b, d], -1).reshape(-1, 3), np.stack([a, d, c], -1).reshape(-1, 3)])
    top, bottom = count * segments, count * segments + 1
    s = np.arange(segments)
    cap_top = np.stack([np.full(segments, top), (s + 1) % segments, s], 1)
    last = (count - 1) * segments
    cap_bottom = np.stack([np.full(segments, bottom), last + s, last + (s + 1) % segments], 1)
    faces = np.concatenate([side, cap_top, cap_bottom]).astype(np.int32)
    return vertices.astype(np.float32), orient_outward(vertices, faces)


def ellipsoid(
    centre: np.ndarray, axes: np.ndarray, radii: np.ndarray, subdivisions: int = 3
) -> tuple[np.ndarray, np.ndarray]:
    """A closed ellipsoid mesh: unit icosphere scaled by ``radii`` along the rows of ``axes`` (3, 3)."""
    sphere = trimesh.creation.icosphere(subdivisions=subdivisions)
    vertices = (np.asarray(sphere.vertices) * radii) @ np.asarray(axes) + centre
    return vertices.astype(np.float32), np.asarray(sphere.faces, dtype=np.int32)
