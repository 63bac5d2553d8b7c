"""human3d: photos and videos of people into 3D (PIFuHD-style reconstruction, DensePose-style dense pose).

The public API is imported lazily (PEP 562): ``import human3d`` imports no torch; the first use of
``human3d.load_pifuhd`` (say) imports the module that defines it.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "load_pifuhd": "human3d.pifuhd.model",
    "PifuhdPredictor": "human3d.pifuhd.predictor",
    "reconstruct": "human3d.pifuhd.pipeline",
    "build_densepose": "human3d.densepose.predictor",
    "densepose_predictor": "human3d.densepose.predictor",
    "get_body_model": "human3d.body.model",
    "find_people": "human3d.people.finder",
    "PeopleFinder": "human3d.people.finder",
    "BodyFitter": "human3d.fit.body_fit",
    "fit_bodies": "human3d.fit.body_fit",
    "Human3DError": "human3d.errors",
    "list_weights": "human3d.weights.registry",
    "get_weights": "human3d.weights.registry",
    "weights_dir": "human3d.weights.registry",
    "resolve_weights": "human3d.weights.resolve",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    """Import the public name ``name`` from its module on first use."""
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The module's names, the lazy public API included."""
    return sorted(set(globals()) | set(__all__))
