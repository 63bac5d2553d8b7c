"""On-disk formats: the synthetic dataset's sample layout and DensePose-COCO JSON."""
