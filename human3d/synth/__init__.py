"""The licence-free data engine: synthetic clothed people, rendering, exact labels, datasets."""
