"""Targets of the light model's training: the centre heatmap, box sizes and sub-cell offsets."""

from __future__ import annotations

import math

import numpy as np
import pytest

from human3d.densepose.train.light import heat_targets


def test_heat_targets_peak_at_the_centre_cell_with_sizes_and_offsets():
    heat, cells, log_size, offset = heat_targets(np.array([[8.0, 10.0, 40.0, 74.0]]), 24)
    assert heat.shape == (24, 24) and heat.max() == 1.0
    assert tuple(np.argwhere(heat == 1.0)[0]) == (10, 6) == tuple(cells[0])  # centre (24, 42) px -> cell row 10, col 6
    np.testing.assert_allclose(log_size[0], [math.log(8), math.log(16)], rtol=1e-6)
    np.testing.assert_allclose(offset[0], [0.0, 0.5], atol=1e-6)
    assert heat[10, 5] == pytest.approx(heat[10, 7]) and heat[10, 5] < 1.0
    assert heat[9, 6] > heat[10, 4]  # the Gaussian is taller than wide, as the box
