"""Geometry shared by several packages: closest points, winding numbers, sampling, cameras, the crop frame."""
