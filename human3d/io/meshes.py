"""Writing and reading triangle meshes with vertex colours: OBJ, PLY or GLB by the file's extension."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import trimesh

from human3d.errors import Human3DError
from human3d.io.atomic import atomic_path

MESH_FORMATS = (".obj", ".ply", ".glb")


def check_mesh_path(path: str | Path) -> Path:
    """``path`` if its extension is a mesh format we write, else a one-line error."""
    path = Path(path)
    if path.suffix.lower() not in MESH_FORMATS:
        raise Human3DError.for_path(path, f"unsupported mesh format (use one of {', '.join(MESH_FORMATS)})")
    return path


def write_mesh(path: str | Path, vertices: np.ndarray, faces: np.ndarray, colors: np.ndarray | None = None) -> None:
    """Write a mesh atomically; ``colors`` are per-vertex RGB floats in [0, 1] or uint8.

    Faces must be outward-oriented (counter-clockwise seen from outside).
    """
    path = check_mesh_path(path)
    mesh = trimesh.Trimesh(vertices=np.asarray(vertices, dtype=np.float64), faces=np.asarray(faces), process=False)
    if colors is not None:
        colors = np.asarray(colors)
        if colors.dtype != np.uint8:
            colors = np.clip(np.round(colors * 255.0), 0, 255).astype(np.uint8)
        mesh.visual.vertex_colors = np.concatenate([colors, np.full((len(colors), 1), 255, np.uint8)], 1)
    file_type = path.suffix.lower()[1:]
    with atomic_path(path) as tmp:
        if file_type == "obj":
            data = trimesh.exchange.obj.export_obj(mesh, include_color=colors is not None, include_normals=False)
            tmp.write_text(data)
        else:
            mesh.export(tmp, file_type=file_type)


def read_mesh(path: str | Path) -> trimesh.Trimesh:
    """Read a mesh written by :func:`write_mesh` (vertex order and colours kept)."""
    path = Path(path)
    if not path.is_file():
        raise Human3DError.for_path(path, "mesh not found")
    try:
        loaded = trimesh.load(path, process=False, force="mesh")
    except Exception as error:  # noqa: BLE001 - any parser failure becomes one line
        raise Human3DError.for_path(path, f"not a readable mesh ({type(error).__name__})") from None
    if not isinstance(loaded, trimesh.Trimesh) or len(loaded.faces) == 0:
        raise Human3DError.for_path(path, "not a readable mesh (no faces)")
    return loaded
