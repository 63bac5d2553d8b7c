"""human3d's light single-stage DensePose model: network and bundled weights, predictor, ONNX export/runtime."""
