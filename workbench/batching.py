"""Length-bucketed batches with dynamic padding: the ``BucketIterator`` idea on plain torch.

Texts of similar length go into the same batch and each batch is padded only to its own
longest text, so a corpus of short phrases with a few long reviews is not padded to the
longest review. Order within the run stays random: buckets are shuffled, then batches.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler


@dataclass
class TokenizedDataset(Dataset):
    """Token id lists (``[CLS]`` first) and, for training, label indices."""

    input_ids: list[list[int]]
    labels: list[int] | None = None

    def __len__(self) -> int:
        return len(self.input_ids)

    def __getitem__(self, index: int) -> tuple[list[int], int]:
        return self.input_ids[index], -1 if self.labels is None else self.labels[index]


class BucketBatchSampler(Sampler[list[int]]):
    """Yields lists of indices whose texts have similar lengths.

    With ``shuffle``, indices are shuffled, cut into pools of ``batch_size * pool_batches``,
    each pool is sorted by length and cut into batches, and the batches are shuffled: similar
    lengths share a batch while the epoch order stays random. Without ``shuffle`` the whole
    set is sorted by length (fastest for inference). ``num_replicas``/``rank`` give each
    process of a distributed run its own share of the batches: equal counts when
    shuffling (training steps stay in lockstep), each batch exactly once otherwise.
    """

    def __init__(
        self,
        lengths: Sequence[int],
        batch_size: int,
        *,
        shuffle: bool = True,
        seed: int = 0,
        pool_batches: int = 50,
        num_replicas: int = 1,
        rank: int = 0,
    ) -> None:
        self.lengths = np.asarray(lengths)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.pool_batches = pool_batches
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Reshuffle differently each epoch (same contract as ``DistributedSampler``)."""
        self.epoch = epoch

    def _all_batches(self) -> list[np.ndarray]:
        if not self.shuffle:
            order = np.argsort(self.lengths, kind="stable")
            return [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        rng = np.random.default_rng((self.seed, self.epoch))
        order = rng.permutation(len(self.lengths))
        pool = self.batch_size * self.pool_batches
        batches = []
        for start in range(0, len(order), pool):
            chunk = order[start : start + pool]
            chunk = chunk[np.argsort(self.lengths[chunk], kind="stable")]
            batches += [
                chunk[i : i + self.batch_size] for i in range(0, len(chunk), self.batch_size)
            ]
        return [batches[i] for i in rng.permutation(len(batches))]

    def _my_batches(self) -> list[np.ndarray]:
        batches = self._all_batches()
        if self.num_replicas == 1:
            return batches
        if not self.shuffle:  # evaluation: every example exactly once, shards may differ
            return batches[self.rank :: self.num_replicas]
        # Training: every rank must take the same number of steps, or the gradient
        # all-reduce hangs; wrap around so the batch count divides evenly.
        total = math.ceil(len(batches) / self.num_replicas) * self.num_replicas
        return [batches[i % len(batches)] for i in range(self.rank, total, self.num_replicas)]

    def __iter__(self) -> Iterator[list[int]]:
        return (batch.tolist() for batch in self._my_batches())

    def __len__(self) -> int:
        return len(self._my_batches())


def pad_batch(sequences: Sequence[Sequence[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad to the longest sequence in this batch; returns ``input_ids`` and a bool mask."""
    lengths = np.fromiter(map(len, sequences), dtype=np.int64, count=len(sequences))
    attention_mask = np.arange(lengths.max()) < lengths[:, None]  # (B, T) bool
    input_ids = np.full(attention_mask.shape, pad_id, dtype=np.int64)
    # Row-major order of the mask's True cells is the order of the concatenated ids, so one
    # vectorised assignment replaces a Python loop over rows.
    input_ids[attention_mask] = np.fromiter(
        itertools.chain.from_iterable(sequences), dtype=np.int64, count=int(lengths.sum())
    )
    return torch.from_numpy(input_ids), torch.from_numpy(attention_mask)


def make_loader(
    dataset: TokenizedDataset,
    batch_size: int,
    pad_id: int,
    *,
    shuffle: bool,
    seed: int = 0,
    num_replicas: int = 1,
    rank: int = 0,
    pin_memory: bool = False,
) -> DataLoader:
    """A ``DataLoader`` of ``{"input_ids", "attention_mask", "labels"}`` bucketed batches."""
    sampler = BucketBatchSampler(
        [len(ids) for ids in dataset.input_ids],
        batch_size,
        shuffle=shuffle,
        seed=seed,
        num_replicas=num_replicas,
        rank=rank,
    )

    def collate(items: list[tuple[list[int], int]]) -> dict[str, torch.Tensor]:
        input_ids, attention_mask = pad_batch([ids for ids, _ in items], pad_id)
        labels = torch.tensor([label for _, label in items], dtype=torch.long)
        return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}

    return DataLoader(dataset, batch_sampler=sampler, collate_fn=collate, pin_memory=pin_memory)
