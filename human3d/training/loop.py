"""The step loop every trainer shares: DDP wrapping, resume, mixed precision, progress bar, metrics log.

A trainer supplies an ``nn.Module`` whose ``forward(batch)`` returns a dict of scalar losses (the total
under ``"loss"``), an endless batch iterator, an optimizer, and a ``save_checkpoint(step)`` callback
that writes the model in its official format. :func:`fit` does the rest.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from human3d.errors import Human3DError
from human3d.io.atomic import atomic_path
from human3d.training.metrics_log import MetricsLog
from human3d.training.runtime import Runtime, autocast, reduce_mean


@dataclass
class FitResult:
    """What a :func:`fit` call did: the losses of every step it ran, and where it stopped."""

    losses: list[tuple[int, dict[str, float]]] = field(default_factory=list)
    steps_done: int = 0
    resumed_from: int = 0


def state_path(run_dir: str | Path, stage: str) -> Path:
    """The resume state of ``stage`` (model, optimizer, scheduler, step)."""
    return Path(run_dir) / f"{stage}.state.pt"


def to_device(batch: Any, device: torch.device) -> Any:
    """``batch`` with every tensor inside (dicts, lists, tuples) moved to ``device``."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, dict):
        return {key: to_device(value, device) for key, value in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(to_device(value, device) for value in batch)
    return batch


def _load_state(path: Path, module: nn.Module, optimizer: torch.optim.Optimizer, scheduler: Any) -> int:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        module.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None and state.get("scheduler") is not None:
            scheduler.load_state_dict(state["scheduler"])
        return int(state["step"])
    except (RuntimeError, KeyError, ValueError, OSError) as error:
        raise Human3DError.for_path(path, f"cannot resume from this training state ({error})") from error


def _save_state(path: Path, module: nn.Module, optimizer: torch.optim.Optimizer, scheduler: Any, step: int) -> None:
    state = {
        "model": module.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "step": step,
    }
    with atomic_path(path) as temporary:
        torch.save(state, temporary)


def fit(
    module: nn.Module,
    batches: Iterator[Any],
    optimizer: torch.optim.Optimizer,
    runtime: Runtime,
    steps: int,
    run_dir: str | Path,
    stage: str,
    save_checkpoint: Callable[[int], None],
    checkpoint_every: int = 500,
    log_every: int = 10,
    scheduler: Any = None,
    amp: bool = False,
    grad_clip: float | None = None,
    batch_size: int = 1,
    find_unused_parameters: bool = False,
    progress: bool = True,
) -> FitResult:
    """Train ``module`` until ``steps`` optimizer steps are done, resuming from ``run_dir`` if it can.

    Every rank must call this with the same arguments. Rank 0 shows the bar, logs every ``log_every``
    steps (losses averaged over ranks), and every ``checkpoint_every`` steps and at the end writes the
    resume state and calls ``save_checkpoint(step)``. A non-finite loss stops with a ``Human3DError``.
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    module.to(runtime.device)
    resume = state_path(run_dir, stage)
    start = _load_state(resume, module, optimizer, scheduler) if resume.is_file() else 0
    log = MetricsLog(run_dir) if runtime.is_main else None
    if log is not None:
        log.drop_after(stage, start)
    result = FitResult(steps_done=start, resumed_from=start)
    if start >= steps:
        return result
    if runtime.distributed:
        device_ids = [runtime.device.index] if runtime.device.type == "cuda" else None
        model: nn.Module = DistributedDataParallel(module, device_ids=device_ids,
                                                   find_unused_parameters=find_unused_parameters)
    else:
        model = module
    model.train()
    bar = tqdm(total=steps, initial=start, desc=stage, unit="step", disable=not (progress and runtime.is_main),
               dynamic_ncols=True)
    started, window_start, window_steps = time.perf_counter(), time.perf_counter(), 0
    for step in range(start + 1, steps + 1):
        batch = to_device(next(batches), runtime.device)
        with autocast(runtime, amp):
            outputs = model(batch)
        loss = outputs["loss"]
        if not torch.isfinite(loss.detach()):
            raise Human3DError(f"{stage}: the loss became {float(loss.detach())} at step {step} (lower --lr?)")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if grad_clip is not None:
            nn.utils.clip_grad_norm_(module.parameters(), grad_clip)
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        values = {name: float(value.detach()) for name, value in outputs.items()}
        result.losses.append((step, values))
        result.steps_done = step
        window_steps += 1
        if step % log_every == 0 or step == steps:
            averaged = {name: reduce_mean(value, runtime) for name, value in values.items()}
            rate = window_steps * batch_size * runtime.world_size / max(time.perf_counter() - window_start, 1e-9)
            window_start, window_steps = time.perf_counter(), 0
            bar.set_postfix(loss=f"{averaged['loss']:.4g}", samples_s=f"{rate:.2f}")
            if log is not None:
                log.append({"stage": stage, "step": step, "time_s": round(time.perf_counter() - started, 3),
                            "samples_per_s": round(rate, 4), "lr": optimizer.param_groups[0]["lr"],
                            **{name: v if math.isfinite(v) else None for name, v in averaged.items()}})
        bar.update(1)
        if step % checkpoint_every == 0 or step == steps:
            if runtime.is_main:
                save_checkpoint(step)
                _save_state(resume, module, optimizer, scheduler, step)
            if runtime.distributed:
                torch.distributed.barrier()
    bar.close()
    return result
