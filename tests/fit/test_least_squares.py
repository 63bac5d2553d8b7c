"""Levenberg-Marquardt on a batch of small problems."""

from __future__ import annotations

import torch

from human3d.fit.least_squares import levenberg_marquardt


def test_a_batch_of_curve_fits_finds_each_curve():
    x = torch.linspace(0, 2, 20, dtype=torch.float64)
    truth = torch.tensor([[1.5, -0.7], [0.3, 1.2], [2.0, 0.1]], dtype=torch.float64)  # a * exp(b x) per problem
    observed = truth[:, :1] * torch.exp(truth[:, 1:] * x)

    def residuals(params: torch.Tensor, problem: torch.Tensor) -> torch.Tensor:
        return params[:, :1] * torch.exp(params[:, 1:] * x) - observed[problem]

    fitted = levenberg_marquardt(residuals, torch.ones(3, 2, dtype=torch.float64), iterations=40)
    assert torch.allclose(fitted, truth, atol=1e-4)


def test_a_step_that_raises_the_cost_is_refused():
    def residuals(params: torch.Tensor, problem: torch.Tensor) -> torch.Tensor:
        return torch.cat([params - 3.0, 10.0 * torch.sin(5 * params)], dim=1)  # many local minima

    start = torch.tensor([[2.9]], dtype=torch.float64)
    cost = residuals(start, torch.zeros(1, dtype=torch.long)).pow(2).sum()
    fitted = levenberg_marquardt(residuals, start, iterations=10)
    assert residuals(fitted, torch.zeros(1, dtype=torch.long)).pow(2).sum() <= cost
