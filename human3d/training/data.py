"""Endless, rank-sharded batches for step-based training."""

from __future__ import annotations

from typing import Any, Callable, Iterator

from torch.utils.data import DataLoader, Dataset
from torch.utils.data.distributed import DistributedSampler

from human3d.errors import Human3DError
from human3d.training.runtime import Runtime


def infinite_batches(
    dataset: Dataset,
    batch_size: int,
    runtime: Runtime,
    seed: int = 0,
    workers: int = 0,
    collate_fn: Callable[[list], Any] | None = None,
) -> Iterator[Any]:
    """Batches of ``dataset`` forever: each rank reads its own shard, in a new order every pass."""
    if len(dataset) == 0:
        raise Human3DError("the training set is empty")
    sampler = DistributedSampler(dataset, num_replicas=runtime.world_size, rank=runtime.rank, shuffle=True,
                                 seed=seed, drop_last=False)
    loader = DataLoader(dataset, batch_size=batch_size, sampler=sampler, num_workers=workers,
                        collate_fn=collate_fn, drop_last=False, persistent_workers=workers > 0,
                        pin_memory=runtime.device.type == "cuda")
    epoch = 0
    while True:
        sampler.set_epoch(epoch)
        yield from loader
        epoch += 1
