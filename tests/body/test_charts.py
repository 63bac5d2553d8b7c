"""U,V charts: inside the unit disk, one-to-one per part, and (I,U,V) <-> surface round trips."""

from __future__ import annotations

import numpy as np
import trimesh

from human3d.body import PosedBody, closest_iuv, iuv_to_points, iuv_to_surface, surface_to_iuv
from human3d.body.charts import signed_uv_areas
from human3d.geometry.closest import closest_surface_points, project_to_triangles


def test_charts_lie_in_the_unit_disk(rest_body: PosedBody) -> None:
    uv = rest_body.corner_uv.reshape(-1, 2)
    assert uv.min() >= 0.0 and uv.max() <= 1.0
    assert np.linalg.norm(uv - 0.5, axis=1).max() <= 0.5 + 1e-6


def test_no_chart_triangle_is_flipped(rest_body: PosedBody) -> None:
    area = signed_uv_areas(rest_body.corner_uv)
    assert area.min() > 0.0, f"{np.sum(area <= 0)} flipped or degenerate chart triangles"


def _containing_counts(triangles: np.ndarray, points: np.ndarray) -> np.ndarray:
    """How many triangles strictly contain each 2D point."""
    counts = np.zeros(len(points), dtype=np.int64)
    a, b, c = triangles[:, 0], triangles[:, 1], triangles[:, 2]
    for start in range(0, len(points), 256):
        p = points[start : start + 256, None, :]

        def cross(o, u, w):
            return (u[..., 0] - o[..., 0]) * (w[..., 1] - o[..., 1]) - (u[..., 1] - o[..., 1]) * (w[..., 0] - o[..., 0])

        inside = (cross(a, b, p) > 1e-12) & (cross(b, c, p) > 1e-12) & (cross(c, a, p) > 1e-12)
        counts[start : start + 256] = inside.sum(axis=1)
    return counts


def test_charts_are_one_to_one_and_fill_the_disk(rest_body: PosedBody) -> None:
    rng = np.random.default_rng(0)
    radius = 0.45 * np.sqrt(rng.uniform(size=1500))
    angle = rng.uniform(0, 2 * np.pi, size=1500)
    points = 0.5 + np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    area = signed_uv_areas(rest_body.corner_uv)
    for part in range(1, 25):
        member = rest_body.face_parts == part
        counts = _containing_counts(rest_body.corner_uv[member].astype(np.float64), points)
        assert counts.max() == 1, f"part {part}: chart triangles overlap"
        assert np.mean(counts == 1) > 0.99, f"part {part}: chart leaves holes in the disk"
        # With no overlap and no flip, the chart triangles tile the rim polygon: area <= the disk's.
        assert area[member].sum() <= np.pi / 4 + 1e-6


def test_surface_to_iuv_to_surface_round_trips(rest_body: PosedBody, posed_bodies) -> None:
    rng = np.random.default_rng(1)
    for body in (rest_body, posed_bodies[5][2]):
        faces = rng.integers(0, len(body.faces), size=3000)
        bary = rng.dirichlet(np.ones(3), size=3000)
        points = np.einsum("nc,ncd->nd", bary, body.vertices[body.faces[faces]].astype(np.float64))
        I, U, V = surface_to_iuv(body, faces, bary)
        assert I.dtype == np.uint8 and np.array_equal(I, body.face_parts[faces])
        back_faces, back_bary = iuv_to_surface(body, I, U, V)
        back = np.einsum("nc,ncd->nd", back_bary, body.vertices[body.faces[back_faces]].astype(np.float64))
        assert np.array_equal(body.face_parts[back_faces], I)
        assert np.abs(back - points).max() < 1e-4  # float32 U,V on the most squeezed fingertip
        assert np.median(np.abs(back - points).max(axis=1)) < 1e-6


def test_iuv_to_point_to_iuv_round_trips(posed_bodies) -> None:
    body = posed_bodies[3][2]
    rng = np.random.default_rng(2)
    I = rng.integers(1, 25, size=2000).astype(np.uint8)
    radius = 0.48 * np.sqrt(rng.uniform(size=2000))
    angle = rng.uniform(0, 2 * np.pi, size=2000)
    U = (0.5 + radius * np.cos(angle)).astype(np.float32)
    V = (0.5 + radius * np.sin(angle)).astype(np.float32)
    points = iuv_to_points(body, I, U, V)
    I2, U2, V2 = closest_iuv(body, points)
    assert np.mean(I2 == I) > 0.995  # a point on a seam between parts may go to either
    same = I2 == I
    assert np.abs(U2[same] - U[same]).max() < 1e-4 and np.abs(V2[same] - V[same]).max() < 1e-4
    assert np.median(np.abs(U2[same] - U[same])) < 1e-5


def test_points_outside_the_disk_snap_to_the_rim(rest_body: PosedBody) -> None:
    I = np.full(4, 9, dtype=np.uint8)
    U = np.array([0.0, 1.0, 0.0, 1.0], dtype=np.float32)
    V = np.array([0.0, 0.0, 1.0, 1.0], dtype=np.float32)
    faces, bary = iuv_to_surface(rest_body, I, U, V)
    assert np.all(rest_body.face_parts[faces] == 9) and np.all(bary >= 0)
    _, U2, V2 = surface_to_iuv(rest_body, faces, bary)
    assert np.all(np.hypot(U2 - 0.5, V2 - 0.5) > 0.49)


def test_closest_surface_points_match_trimesh(rest_body: PosedBody) -> None:
    rng = np.random.default_rng(3)
    mesh = rest_body.to_trimesh()
    surface, _ = trimesh.sample.sample_surface(mesh, 300, seed=3)
    points = surface + rng.normal(scale=0.02, size=surface.shape)
    _, _, distance = closest_surface_points(rest_body.vertices, rest_body.faces, points)
    _, expected, _ = trimesh.proximity.closest_point_naive(mesh, points)
    assert np.abs(distance - expected).max() < 1e-6
    # A subset of the faces (one part) over the full vertex array.
    torso = rest_body.faces[rest_body.face_parts == 2]
    _, _, distance = closest_surface_points(rest_body.vertices, torso, points)
    _, expected, _ = trimesh.proximity.closest_point_naive(trimesh.Trimesh(rest_body.vertices, torso), points)
    assert np.abs(distance - expected).max() < 1e-6


def test_project_to_triangles_stays_on_the_triangle() -> None:
    tri = np.array([[[[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]]]).repeat(4, axis=0)
    points = np.array([[0.2, 0.2], [2.0, -1.0], [-1.0, -1.0], [1.0, 1.0]])
    bary = project_to_triangles(points, tri)[:, 0]
    closest = bary @ tri[0, 0]
    assert np.allclose(closest, [[0.2, 0.2], [1.0, 0.0], [0.0, 0.0], [0.5, 0.5]])
