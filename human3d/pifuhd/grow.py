"""A trained PIFuHD network grown into a body-guided one that starts out computing exactly the same thing.

The body features are new inputs at the end of every MLP layer that reads the per-point feature (the first
layer and the skip layers, of both levels), and the body's normal maps new input channels of both normal
generators' first convolution; their weights start at zero. Training then learns to use them from the
network's current answers rather than from scratch.
"""

from __future__ import annotations

import dataclasses

from human3d.pifuhd.body_guide import BODY_CHANNELS
from human3d.pifuhd.model import PifuhdNet
from human3d.pifuhd.options import PifuhdConfig


def body_guided_options(options: PifuhdConfig) -> PifuhdConfig:
    """``options`` with the body's features in both MLPs and its normal maps in the generators."""
    coarse, fine = options.coarse, options.fine
    extra = BODY_CHANNELS - coarse.body_channels
    coarse = dataclasses.replace(coarse, body_channels=BODY_CHANNELS, body_normal_maps=True,
                                 mlp_dim=(coarse.mlp_dim[0] + extra, *coarse.mlp_dim[1:]))
    fine = dataclasses.replace(fine, mlp_dim=(fine.mlp_dim[0] + extra, *fine.mlp_dim[1:]))
    return dataclasses.replace(options, coarse=coarse, fine=fine)


def grown_for_body(net: PifuhdNet) -> PifuhdNet:
    """A body-guided copy of ``net`` (trainable) whose new input weights are zero: the same outputs for any body."""
    grown = PifuhdNet(body_guided_options(net.options))
    state = grown.state_dict()
    for key, old in net.state_dict().items():
        new = state[key]
        if new.shape == old.shape:
            new.copy_(old)
        else:  # the same layer with more inputs (dimension 1), appended after the old ones
            new.zero_()
            new[:, : old.shape[1]] = old
    grown.load_state_dict(state)
    return grown.requires_grad_(True)
