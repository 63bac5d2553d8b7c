"""human3d: photos and videos of people into 3D (PIFuHD-style reconstruction, DensePose-style dense pose)."""

__version__ = "0.1.0"
