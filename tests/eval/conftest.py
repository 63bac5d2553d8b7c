"""Fixtures shared by the benchmark tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def blind_checkpoint(tmp_path_factory) -> Path:
    """A tiny PIFuHD in the official format whose fine MLP sees no one (occupancy ~0 everywhere)."""
    import torch

    from human3d.pifuhd.checkpoint import save_checkpoint
    from human3d.pifuhd.model import PifuhdNet, checkpoint_dict
    from human3d.pifuhd.train_config import named_options

    torch.manual_seed(0)
    model = PifuhdNet(named_options("tiny")).eval()
    with torch.no_grad():
        model.mlp.filters[-1].bias.fill_(-20.0)
    path = tmp_path_factory.mktemp("blind") / "blind.pt"
    save_checkpoint(checkpoint_dict(model, "blind"), path, location="cpu")
    return path
