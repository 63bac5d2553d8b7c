"""Levenberg-Marquardt for a batch of small, independent least-squares problems, without autograd.

A fit refined from a good start (a video frame started from the last one) converges in a few
Gauss-Newton steps, where gradient descent needs dozens; with ~50 parameters the Jacobian is cheapest by
forward differences, all probes of all problems evaluated in one batched call of the residuals.
"""

from __future__ import annotations

from typing import Callable

import torch

Residuals = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""``residuals(params [N, P], problem [N])`` -> [N, R]: each row's residuals, ``problem`` saying which of the
batch's problems the row belongs to (rows of one problem may repeat)."""


def levenberg_marquardt(residuals: Residuals, start: torch.Tensor, iterations: int = 8, probe: float = 1e-4,
                        damping: float = 1e-3) -> torch.Tensor:
    """Parameters [B, P] minimising each problem's sum of squared ``residuals``, from ``start`` [B, P].

    Each iteration takes the damped Gauss-Newton step ``(J^T J + damping * diag(J^T J)) d = -J^T r`` and
    keeps it where it lowers the cost (then the damping shrinks), else grows the damping. ``probe``: the
    forward-difference step. Work in float64: differences of float32 residuals lose too many digits."""
    params = start.clone()
    batch, size = params.shape
    problems = torch.arange(batch, device=params.device)
    offsets = torch.cat([params.new_zeros(1, size), probe * torch.eye(size, dtype=params.dtype,
                                                                       device=params.device)])
    lam = params.new_full((batch,), damping)
    for _ in range(iterations):
        probes = (params[:, None] + offsets[None]).reshape(-1, size)
        values = residuals(probes, problems.repeat_interleave(size + 1)).reshape(batch, size + 1, -1)
        current = values[:, 0]
        jacobian = (values[:, 1:] - current[:, None]) / probe  # [B, P, R]
        normal = jacobian @ jacobian.transpose(1, 2)
        gradient = jacobian @ current[..., None]
        damped = normal + (lam[:, None, None] * torch.diagonal(normal, dim1=1, dim2=2).diag_embed()
                           + 1e-9 * torch.eye(size, dtype=params.dtype, device=params.device))
        step = -torch.linalg.solve(damped, gradient)[..., 0]
        candidate = params + step
        better = residuals(candidate, problems).pow(2).sum(-1) < current.pow(2).sum(-1)
        params = torch.where(better[:, None], candidate, params)
        lam = torch.where(better, lam / 3.0, lam * 4.0)
    return params
