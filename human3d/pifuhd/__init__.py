"""PIFuHD: multi-level pixel-aligned implicit function for single-image clothed-human reconstruction."""
