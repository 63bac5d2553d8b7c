"""The lazy public API of ``import human3d``."""

from __future__ import annotations

import os
import subprocess
import sys

import human3d

EXPECTED = {
    "load_pifuhd": ("human3d.pifuhd.model", "load_pifuhd"),
    "PifuhdPredictor": ("human3d.pifuhd.predictor", "PifuhdPredictor"),
    "reconstruct": ("human3d.pifuhd.pipeline", "reconstruct"),
    "build_densepose": ("human3d.densepose.predictor", "build_densepose"),
    "densepose_predictor": ("human3d.densepose.predictor", "densepose_predictor"),
    "find_people": ("human3d.people.finder", "find_people"),
    "PeopleFinder": ("human3d.people.finder", "PeopleFinder"),
    "BodyFitter": ("human3d.fit.body_fit", "BodyFitter"),
    "fit_bodies": ("human3d.fit.body_fit", "fit_bodies"),
    "get_body_model": ("human3d.body.model", "get_body_model"),
    "Human3DError": ("human3d.errors", "Human3DError"),
    "list_weights": ("human3d.weights.registry", "list_weights"),
    "get_weights": ("human3d.weights.registry", "get_weights"),
    "weights_dir": ("human3d.weights.registry", "weights_dir"),
    "resolve_weights": ("human3d.weights.resolve", "resolve_weights"),
}


def run_python(code: str) -> str:
    """Run ``code`` in a fresh interpreter (this checkout's human3d first on the path); its stdout."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return result.stdout.strip()


def test_every_exported_name_is_the_object_of_its_module():
    import importlib

    assert set(EXPECTED) <= set(human3d.__all__)
    for name, (module, attribute) in EXPECTED.items():
        assert getattr(human3d, name) is getattr(importlib.import_module(module), attribute), name


def test_dir_lists_the_public_api():
    assert set(EXPECTED) | {"__version__"} <= set(dir(human3d))


def test_an_unknown_name_is_an_attribute_error():
    import pytest

    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        human3d.nothing_here  # noqa: B018


def test_import_human3d_imports_no_torch():
    code = ("import sys, human3d; names = dir(human3d); human3d.Human3DError; human3d.list_weights(); "
            "print(human3d.__file__, 'torch' in sys.modules)")
    path, torch_loaded = run_python(code).rsplit(" ", 1)
    assert path == human3d.__file__ and torch_loaded == "False"
