"""The ``human3d densepose`` command's input/output side: runs over images, folders and videos; dumps; pictures."""
