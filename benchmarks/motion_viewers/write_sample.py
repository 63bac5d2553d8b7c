"""Write a two-person sample of the motion export and what anny says it should show, for the viewer checks.

Run by hand: ``python benchmarks/motion_viewers/write_sample.py OUT_DIR``; then ``blender_check.py`` and
``three_check.mjs`` (see docs/results/2026-12-motion-export-viewers.md). Writes ``people.glb``,
``person1.bvh``, ``vertices.json`` (per ``person<id>_<frame>``: forward_unplaced skin vertices + translation)
and ``joints.json`` (person 1, per frame: bone label -> joint head). Motions: 24 fps (Blender's default).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from human3d.body import BodyParams, get_body_model
from human3d.body.motion import BodyMotion
from human3d.io.bvh import write_bvh
from human3d.io.gltf_motion import write_motion_glb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    model = get_body_model()
    rng = np.random.default_rng(0)
    motions = [
        BodyMotion({"age": 0.6}, rng.normal(0, 0.2, (5, 104, 3)), rng.normal(0, 1, (5, 3)), 24.0, 1),
        BodyMotion({"gender": 1.0}, rng.normal(0, 0.2, (4, 104, 3)), rng.normal(0, 1, (4, 3)), 24.0, 4),
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    write_motion_glb(args.out / "people.glb", motions, model)
    write_bvh(args.out / "person1.bvh", motions[0], model)
    vertices, joints = {}, {}
    for motion in motions:
        for frame in range(motion.frames):
            out = model.forward_unplaced(BodyParams(motion.phenotype, motion.poses[frame]))
            placed = out["vertices"][model.skin_vertices] + motion.translations[frame]
            vertices[f"person{motion.id}_{frame}"] = placed.round(7).tolist()
            if motion.id == 1:
                heads = out["joints"] + motion.translations[frame]
                joints[str(frame)] = dict(zip(model.bone_names, heads.tolist()))
    (args.out / "vertices.json").write_text(json.dumps(vertices))
    (args.out / "joints.json").write_text(json.dumps(joints))


if __name__ == "__main__":
    main()
