"""Neural-network building blocks shared by the models (DensePose R-CNN, PIFuHD)."""
