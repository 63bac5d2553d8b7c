"""Textured scans a user owns (THuman2.0-style: OBJ + MTL + texture image, metres, y up), rendered
into the same layout as synthetic people.

A scan becomes one "person" of a sample: placed on the floor (lowest vertex at y = 0), centred on
x = z = 0, turned by a random yaw. Colours come from the texture sampled at the vertices (or the
file's vertex colours; grey if it has neither). Scans carry no body model, so their DensePose
part is 0 (unlabelled): IUV, parts and the COCO points stay empty, every other map is written.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from human3d.errors import Human3DError
from human3d.geometry.cameras import yaw_matrix
from human3d.synth.renderer import Material, Surface

SCAN_SUFFIXES = (".obj", ".ply", ".glb", ".gltf", ".off", ".stl")
GREY = Material((0.7, 0.7, 0.7), (0.7, 0.7, 0.7))


def scan_files(folder: str | Path) -> tuple[Path, ...]:
    """Every mesh file directly in ``folder`` or one level down (THuman2.0 keeps one folder per scan)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise Human3DError.for_path(folder, "scan folder not found")
    files = sorted(p for pattern in ("*", "*/*") for p in folder.glob(pattern) if p.suffix.lower() in SCAN_SUFFIXES)
    if not files:
        raise Human3DError.for_path(folder, f"no scans ({', '.join(SCAN_SUFFIXES)})")
    return tuple(files)


@functools.lru_cache(maxsize=2)
def load_scan(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Vertices (V, 3) float32 on the floor and centred, faces (F, 3) int32, vertex colours (V, 3) in [0, 1] or None."""
    import trimesh

    try:
        mesh = trimesh.load(path, force="mesh", process=False)
    except Exception as error:  # trimesh raises many types for broken files
        message = f"not a readable mesh ({error.__class__.__name__}: {error})".splitlines()[0]
        raise Human3DError.for_path(path, message) from error
    if not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) == 0 or not np.isfinite(mesh.vertices).all():
        raise Human3DError.for_path(path, "not a readable mesh (no triangles)")
    colours = None
    visual = mesh.visual
    try:
        if visual.kind == "texture":
            colours = np.asarray(visual.to_color().vertex_colors, dtype=np.float32)[:, :3] / 255.0
        elif visual.kind == "vertex":
            colours = np.asarray(visual.vertex_colors, dtype=np.float32)[:, :3] / 255.0
    except Exception as error:  # a missing or broken texture image
        raise Human3DError.for_path(path, f"unreadable texture ({error.__class__.__name__})") from error
    vertices = np.asarray(mesh.vertices, dtype=np.float64)
    low, high = vertices.min(0), vertices.max(0)
    vertices = vertices - [(low[0] + high[0]) / 2, low[1], (low[2] + high[2]) / 2]
    return vertices.astype(np.float32), np.asarray(mesh.faces, dtype=np.int32), colours


def placed_scan(path: Path, rng: np.random.Generator) -> tuple[dict, Surface]:
    """One scan turned by a random yaw about y: its JSON-ready description and its render surface
    (the scene makes it a person; a scan has no keypoints)."""
    vertices, faces, colours = load_scan(Path(path))
    yaw = rng.uniform(-np.pi, np.pi)
    placed = (vertices.astype(np.float64) @ yaw_matrix(yaw).T).astype(np.float32)
    surface = Surface(
        vertices=placed,
        faces=faces,
        face_parts=np.zeros(len(faces), dtype=np.uint8),
        corner_uv=np.zeros((len(faces), 3, 2), dtype=np.float32),
        material=GREY,
        instance=1,
        label=1,
        corner_colors=None if colours is None else colours[faces],
    )
    description = {"scan": Path(path).name, "yaw": round(float(yaw), 6)}
    return description, surface
