"""Training of DensePose R-CNN and of the light model: config, augmentation, targets, losses, trainers, driver."""
