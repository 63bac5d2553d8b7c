"""DensePose in plain PyTorch: people detection and dense image-to-surface correspondence (I, U, V).

Subpackages and modules:

* :mod:`.result` -- :class:`~.result.DensePoseResult`, the one result type every predictor returns;
* :mod:`.predictor` -- the :class:`~.predictor.DensePosePredictor` protocol and the factories
  (``build_densepose``, ``predictor_for``, ``densepose_predictor``);
* :mod:`.rcnn` -- DensePose R-CNN (detectron2 model-zoo checkpoints): network, configs, ``.pkl`` loading,
  predictor;
* :mod:`.light` -- human3d's light single-stage model: network, bundled weights, predictor, ONNX export/runtime;
* :mod:`.train` -- training of both models (augmentation, targets, losses, drivers);
* :mod:`.app` -- the ``human3d densepose`` command's input/output side: runs over images, folders and videos,
  dumps, pictures.

Importing this package imports nothing heavy (no torch).
"""
