"""DensePose R-CNN in plain PyTorch: people detection and dense image-to-surface correspondence (I, U, V)."""
