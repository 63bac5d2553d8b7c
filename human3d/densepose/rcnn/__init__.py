"""DensePose R-CNN (detectron2 layout): backbone + FPN, RPN, ROI heads, DensePose head; ``.pkl`` loading; predictor."""
