"""Where a training process runs: single process, or one rank of a ``torchrun`` job (DDP).

``torchrun`` sets ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``; :func:`setup_runtime` reads them and joins
the process group (gloo on CPU, NCCL on CUDA). Without them it is a plain single process.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import ContextManager

import torch
import torch.distributed as dist

from human3d.errors import Human3DError


@dataclass(frozen=True)
class Runtime:
    """This process's place in the job and the device it trains on."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device
    distributed: bool

    @property
    def is_main(self) -> bool:
        """Rank 0: the process that prints, logs and writes checkpoints."""
        return self.rank == 0


def setup_runtime(device: str = "cpu") -> Runtime:
    """Join the ``torchrun`` process group if there is one; pick this rank's device.

    ``device`` is ``cpu``, ``cuda`` or ``cuda:N``; with several ranks on CUDA each uses ``cuda:LOCAL_RANK``.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    on_cuda = device.startswith("cuda")
    if on_cuda and not torch.cuda.is_available():
        raise Human3DError(f"--device {device}: CUDA is not available on this machine (use --device cpu)")
    if on_cuda and world_size > 1:
        torch_device = torch.device("cuda", local_rank)
    else:
        torch_device = torch.device(device)
    if on_cuda:
        torch.cuda.set_device(torch_device)
    distributed = world_size > 1
    if distributed and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if on_cuda else "gloo")
    return Runtime(rank=rank, world_size=world_size, local_rank=local_rank, device=torch_device,
                   distributed=distributed)


def teardown(runtime: Runtime) -> None:
    """Leave the process group (after the last collective call)."""
    if runtime.distributed and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def autocast(runtime: Runtime, enabled: bool) -> ContextManager:
    """Mixed precision (bfloat16 autocast) on CUDA when ``enabled``; a no-op on CPU."""
    if enabled and runtime.device.type == "cuda":
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def reduce_mean(value: float | torch.Tensor, runtime: Runtime) -> float:
    """The mean of ``value`` over all ranks (the value itself in a single process)."""
    tensor = torch.as_tensor(value, dtype=torch.float64).detach().reshape(())
    if not runtime.distributed:
        return float(tensor)
    tensor = tensor.to(runtime.device if runtime.device.type == "cuda" else "cpu")
    dist.all_reduce(tensor)
    return float(tensor) / runtime.world_size
