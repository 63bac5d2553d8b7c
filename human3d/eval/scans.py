"""Real scans as a reconstruction benchmark: cut off the plinth, close the cut, scale to life size.

The statues in ``../shared/scans`` stand on plinths and are normalised to a height of 1.0 (plinth
included). Before ``human3d synth --scans`` renders them, each is cut at its plinth's top (the faces
below are dropped and every boundary loop left at the cut is closed by a flat cap, so the figure stays
a closed surface where the scan was one) and scaled uniformly so that the figure, plinth removed, has a
given height in metres. The result is written as binary PLY (vertices, faces).

    human3d prepare-scans SRC OUT --plinth NAME=Y ... --height H [--height NAME=H ...]
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, Mapping

import numpy as np
import trimesh
from scipy.spatial import Delaunay, QhullError
from skimage.measure import points_in_poly

from human3d.errors import Human3DError
from human3d.io.atomic import atomic_path


def _cap(loop: np.ndarray, vertices: np.ndarray) -> np.ndarray:
    """Downward-facing triangles (K, 3) filling one closed boundary loop (vertex indices) seen from below."""
    ring = loop[:-1] if loop[0] == loop[-1] else loop
    if len(ring) < 3:
        return np.zeros((0, 3), dtype=np.int64)
    flat = vertices[ring][:, [0, 2]]
    try:
        triangles = Delaunay(flat).simplices
    except QhullError:  # a degenerate (collinear) loop has nothing to fill
        return np.zeros((0, 3), dtype=np.int64)
    triangles = triangles[points_in_poly(flat[triangles].mean(axis=1), flat)]
    faces = ring[triangles]
    corners = vertices[faces]
    upward = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])[:, 1] > 0
    faces[upward] = faces[upward][:, ::-1]
    return faces


def cut_plinth(mesh: trimesh.Trimesh, top: float) -> trimesh.Trimesh:
    """The part of ``mesh`` above height ``top`` (y up): faces reaching below it are dropped and the
    closed boundary loops left at the cut are capped."""
    vertices = np.asarray(mesh.vertices, dtype=np.float64)
    faces = np.asarray(mesh.faces, dtype=np.int64)
    above = vertices[faces][:, :, 1].min(axis=1) >= top
    if not above.any():
        raise Human3DError(f"nothing of the scan lies above the plinth top y = {top}")
    on_cut = np.zeros(len(vertices), dtype=bool)
    on_cut[faces[~above]] = True  # vertices of dropped faces: a loop made only of them was opened by the cut
    used, kept = np.unique(faces[above], return_inverse=True)
    figure = trimesh.Trimesh(vertices[used], kept.reshape(-1, 3), process=False)
    caps = [
        _cap(np.asarray(entity.points), vertices[used])
        for entity in figure.outline().entities
        if entity.closed and on_cut[used[entity.points]].all()
    ]
    return trimesh.Trimesh(figure.vertices, np.concatenate([figure.faces, *caps]), process=False)


def scale_to_height(mesh: trimesh.Trimesh, height: float) -> trimesh.Trimesh:
    """``mesh`` scaled uniformly about the origin so that its y extent is ``height``."""
    low, high = mesh.bounds[:, 1]
    scaled = mesh.copy()
    scaled.apply_scale(height / (high - low))
    return scaled


def prepare_scans(source: Path, out: Path, plinths: Mapping[str, float], heights: Mapping[str, float],
                  default_height: float | None = None) -> Iterator[tuple[Path, trimesh.Trimesh]]:
    """Prepare every scan of ``source`` into ``out`` (one binary PLY per scan, same stem); yields (file, mesh).

    ``plinths`` maps a scan's file name to its plinth top (cut there); ``heights`` to its figure height
    in metres (else ``default_height``; None keeps the units). A name that is not a scan of ``source``
    is a one-line error before anything is written.
    """
    from human3d.synth.scans import scan_files
    from human3d.synth.writer import write_ply

    files = scan_files(source)
    unknown = sorted((set(plinths) | set(heights)) - {p.name for p in files})
    if unknown:
        raise Human3DError.for_path(source, f"no scan named {', '.join(unknown)}")
    out.mkdir(parents=True, exist_ok=True)
    for path in files:
        mesh = trimesh.load(path, force="mesh", process=False)
        if path.name in plinths:
            mesh = cut_plinth(mesh, plinths[path.name])
        height = heights.get(path.name, default_height)
        if height is not None:
            mesh = scale_to_height(mesh, height)
        target = out / f"{path.stem}.ply"
        with atomic_path(target) as tmp:
            write_ply(tmp, np.asarray(mesh.vertices, dtype=np.float32), np.asarray(mesh.faces, dtype=np.int32))
        yield target, mesh
