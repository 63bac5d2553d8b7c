"""From an implicit occupancy field to a mesh: grids, coarse-to-fine evaluation, marching cubes."""
