"""Input and output at the edges: images, meshes, video, atomic files."""
