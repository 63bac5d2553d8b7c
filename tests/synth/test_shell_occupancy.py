"""Winding numbers on the data engine's surfaces: the body, every garment, the clothed solid vs the rendered depth."""

from __future__ import annotations

import numpy as np
import trimesh

from human3d.geometry.winding import WindingNumber
from human3d.synth.clothing import BOTTOMS, HAIR, TOPS, Outfit, dress_body
from human3d.synth.renderer import vertex_normals


def test_points_just_off_the_body_surface(body_model):
    body = body_model.pose(body_model.rest_params())
    normals = vertex_normals(body.vertices.astype(np.float64), body.faces)
    step, every = 0.003, slice(None, None, 5)  # every 5th vertex: ~2,700 of them, all over the body
    winding = WindingNumber(body.vertices, body.faces)
    inside = winding(body.vertices[every] - step * normals[every]) > 0.5
    outside = winding(body.vertices[every] + step * normals[every]) <= 0.5
    # Toes, fingers, ears and lips touch their neighbours within millimetres (anny's mesh), so a point
    # stepped off there can land inside the neighbour; everywhere else the answer is exact.
    tight = np.isin(body.vertex_parts[every], [3, 4, 5, 6, 23, 24])
    assert inside[~tight].all() and outside[~tight].mean() > 0.999
    assert inside.mean() > 0.99 and outside.mean() > 0.98


def test_every_garment_is_a_closed_outward_shell(body_model):
    from human3d.body.poses import sample_body_params

    rng = np.random.default_rng(3)
    body = body_model.pose(sample_body_params(rng, kind="standing", model=body_model))
    seen = set()
    for k in range(len(BOTTOMS)):
        outfit = Outfit(top=TOPS[k % len(TOPS)], bottom=BOTTOMS[k], hair=HAIR[k % len(HAIR)], looseness=k / 4)
        for garment in dress_body(body, outfit):
            mesh = trimesh.Trimesh(garment.shell.vertices, garment.shell.faces, process=False)
            assert mesh.is_watertight and mesh.is_winding_consistent, garment.name
            assert mesh.volume > 0, garment.name
            assert garment.shell.face_parts.min() >= 1 and garment.shell.face_parts.max() <= 24
            seen.add(garment.name)
    assert {"tshirt", "shirt", "jacket", "tank", "trousers", "shorts", "skirt", "shoes"} <= seen


def test_clothed_occupancy_agrees_with_rendered_depth(memory_sample):
    """Rays through the mask enter the clothed solid at the front depth and leave at the back depth."""
    sample = memory_sample
    camera, maps = sample.camera, sample.maps
    rows, cols = np.nonzero(maps.mask)
    pick = np.random.default_rng(0).choice(len(rows), 1500, replace=False)
    rows, cols = rows[pick], cols[pick]
    view_inverse = np.linalg.inv(camera.view)
    half = 1.0 / camera.projection[0, 0]
    x = ((cols + 0.5) / camera.width * 2 - 1) * half
    y = (1 - (rows + 0.5) / camera.height * 2) * half

    def world(depth):
        cam = np.stack([x, y, -depth, np.ones_like(x)], axis=1)
        return (cam @ view_inverse.T)[:, :3]

    winding = WindingNumber(sample.mesh_vertices, sample.mesh_faces)
    eps = 0.002
    front, back = maps.depth_front[rows, cols], maps.depth_back[rows, cols]
    assert (winding(world(front - eps)) < 0.5).mean() > 0.99
    assert (winding(world(front + eps)) > 0.5).mean() > 0.97
    assert (winding(world(back - eps)) > 0.5).mean() > 0.97
    assert (winding(world(back + eps)) < 0.5).mean() > 0.99
    # Outside the mask, whole rays miss the clothed body.
    empty_rows, empty_cols = np.nonzero(~maps.mask)
    pick = np.random.default_rng(1).choice(len(empty_rows), 500, replace=False)
    rows, cols = empty_rows[pick], empty_cols[pick]
    x = ((cols + 0.5) / camera.width * 2 - 1) * half
    y = (1 - (rows + 0.5) / camera.height * 2) * half
    for depth in np.linspace(4.0, 6.0, 9):
        assert (winding(world(np.full(len(x), depth))) < 0.5).all()
