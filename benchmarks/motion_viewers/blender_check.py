"""Import the sample into Blender and compare what Blender evaluates with anny (prints one line per frame).

Run by hand: ``blender -b --python benchmarks/motion_viewers/blender_check.py -- OUT_DIR`` after
``write_sample.py OUT_DIR``. glTF: the skinned meshes Blender evaluates, vertex by vertex; BVH: the pose
bones' heads. Blender is z-up: a file point (x, y, z) is Blender's (x, -z, y).
"""

import builtins
import json
import sys
from pathlib import Path

import bpy
import numpy
from mathutils import Vector

numpy.bool = bool  # Blender 3.4's glTF importer uses numpy.bool, gone from the numpy Debian ships with it


def _blender(point) -> Vector:
    x, y, z = point
    return Vector((x, -z, y))


def check_gltf(folder: Path) -> None:
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.import_scene.gltf(filepath=str(folder / "people.glb"))
    expected = json.loads((folder / "vertices.json").read_text())
    scene = bpy.context.scene
    print("glTF objects:", [(o.name, o.type, o.parent.name if o.parent else None) for o in bpy.data.objects])
    print("glTF actions:", [(a.name, tuple(a.frame_range)) for a in bpy.data.actions])
    for armature in (o for o in bpy.data.objects if o.type == "ARMATURE"):
        data = armature.animation_data
        print(f"armature {armature.name}: {len(armature.data.bones)} bones, active action",
              data.action.name if data.action else None, "NLA", [t.name for t in data.nla_tracks])
    for mesh_object in (o for o in bpy.data.objects if o.type == "MESH"):
        person = mesh_object.name.split("_")[0]
        armature = mesh_object.find_armature()
        armature.animation_data.action = next(a for a in bpy.data.actions if a.name.startswith(person))
        frame = 0
        while f"{person}_{frame}" in expected:
            scene.frame_set(frame)
            evaluated = mesh_object.evaluated_get(bpy.context.evaluated_depsgraph_get())
            mesh = evaluated.to_mesh()
            got = [mesh_object.matrix_world @ v.co for v in mesh.vertices]
            evaluated.to_mesh_clear()
            errors = [(g - _blender(e)).length for g, e in zip(got, expected[f"{person}_{frame}"])]
            print(f"glTF {person} frame {frame}: {len(got)} vertices, max error {1e3 * max(errors):.3f} mm")
            frame += 1


def check_bvh(folder: Path) -> None:
    import io_anim_bvh.import_bvh as import_bvh

    def text_open(path, mode="r", *args, **kwargs):  # Blender 3.4's BVH importer opens with "rU" (Python < 3.11)
        return builtins.open(path, mode.replace("U", ""), *args, **kwargs)

    import_bvh.open = text_open
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.import_anim.bvh(filepath=str(folder / "person1.bvh"), frame_start=1, use_fps_scale=False)
    expected = json.loads((folder / "joints.json").read_text())
    armature = next(o for o in bpy.data.objects if o.type == "ARMATURE")
    print(f"BVH armature {armature.name}: {len(armature.data.bones)} bones")
    for frame, joints in expected.items():
        bpy.context.scene.frame_set(1 + int(frame))
        errors = [(armature.matrix_world @ armature.pose.bones[n].head - _blender(p)).length for n, p in joints.items()]
        print(f"BVH frame {frame}: {len(errors)} joints, max error {1e3 * max(errors):.4f} mm")


folder = Path(sys.argv[sys.argv.index("--") + 1])
check_gltf(folder)
check_bvh(folder)
