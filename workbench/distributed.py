"""Data-parallel training across processes, when launched by ``torchrun``.

``torchrun --nproc_per_node=N`` sets ``WORLD_SIZE``, ``RANK`` and ``LOCAL_RANK``; :func:`setup`
then joins the process group (NCCL on GPUs, gloo on CPU) and the fit loop shards batches,
wraps the model in ``DistributedDataParallel``, reduces metrics across ranks, and lets only
rank 0 print, draw progress bars and write files. Batch explanation shards the same way:
each rank explains every N-th text and the results are gathered in order. Launched
normally, everything here is a no-op for a single process, so the same code runs both ways.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Ranks:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def setup(device_type: str) -> Ranks:
    """Join the process group that ``torchrun`` describes in the environment (once)."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return Ranks()
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device_type == "cuda" else "gloo")
    return Ranks(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))


def is_main_process() -> bool:
    """True unless this is a non-zero rank of an initialised process group."""
    return not dist.is_initialized() or dist.get_rank() == 0


def sum_across_ranks(values: list[float], ranks: Ranks) -> list[float]:
    """Element-wise sum of ``values`` over all ranks (unchanged for one process)."""
    if not ranks.distributed:
        return values
    tensor = torch.tensor(values, dtype=torch.float64)
    if dist.get_backend() == "nccl":
        tensor = tensor.cuda()
    dist.all_reduce(tensor)
    return tensor.cpu().tolist()


def gather_objects(item: object, ranks: Ranks) -> list:
    """Every rank's ``item``, in rank order, on every rank (``[item]`` for one process)."""
    if not ranks.distributed:
        return [item]
    parts: list = [None] * ranks.world_size
    dist.all_gather_object(parts, item)
    return parts


def gather_across_ranks(array: np.ndarray, ranks: Ranks) -> np.ndarray:
    """Concatenate every rank's ``array`` in rank order (unchanged for one process)."""
    return np.concatenate(gather_objects(array, ranks)) if ranks.distributed else array
