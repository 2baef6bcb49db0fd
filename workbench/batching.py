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
from typing import cast

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from workbench.data import check_count
from workbench.errors import InputError


def check_soft_labels(soft_labels: np.ndarray, n: int, k: int | None = None) -> np.ndarray:
    """``soft_labels`` as float32 ``(n, k)`` after checking they are probabilities.

    Raises:
        InputError: on a wrong shape, negative or non-finite values, or rows that do not
            sum to 1 (logits passed by mistake).
    """
    soft = np.asarray(soft_labels, dtype=np.float32)
    if soft.ndim != 2 or len(soft) != n or (k is not None and soft.shape[1] != k):
        expected = f"({n}, {k})" if k is not None else f"({n}, number of classes)"
        raise InputError(
            f"soft_labels must have shape {expected}, one row per text and one column per "
            f"class in sorted label order; got {soft.shape}"
        )
    if not np.isfinite(soft).all() or (soft < 0).any():
        raise InputError("soft_labels must be finite, non-negative probabilities")
    off = np.abs(soft.sum(axis=1) - 1)
    if len(off) and off.max() > 1e-3:
        row = int(off.argmax())
        raise InputError(
            f"soft_labels rows must sum to 1; data row {row + 1} sums to {soft[row].sum():.4g}. "
            "Pass probabilities (a teacher's predict_proba), not logits"
        )
    return soft


@dataclass
class TokenizedDataset(Dataset):
    """Token id lists (``[CLS]`` first) and, for training, label indices.

    ``soft_labels`` (optional, ``(n, k)``): a teacher's class probabilities per example,
    for distillation. A label of -1 means "no gold label": such an example (an augmented
    transfer text) learns from its soft label only.
    """

    input_ids: list[list[int]]
    labels: list[int] | None = None
    soft_labels: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.soft_labels is not None:
            self.soft_labels = check_soft_labels(self.soft_labels, len(self.input_ids))

    def __len__(self) -> int:
        return len(self.input_ids)

    def __getitem__(self, index: int) -> tuple[list[int], int, np.ndarray | None]:
        label = -1 if self.labels is None else self.labels[index]
        soft = None if self.soft_labels is None else self.soft_labels[index]
        return self.input_ids[index], label, soft


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
    """A ``DataLoader`` of ``{"input_ids", "attention_mask", "labels"}`` bucketed batches,
    plus ``"soft_labels"`` ``(B, k)`` float32 when the dataset has them."""
    sampler = BucketBatchSampler(
        [len(ids) for ids in dataset.input_ids],
        batch_size,
        shuffle=shuffle,
        seed=seed,
        num_replicas=num_replicas,
        rank=rank,
    )

    def collate(items: list[tuple[list[int], int, np.ndarray | None]]) -> dict[str, torch.Tensor]:
        input_ids, attention_mask = pad_batch([ids for ids, _, _ in items], pad_id)
        labels = torch.tensor([label for _, label, _ in items], dtype=torch.long)
        batch = {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}
        if dataset.soft_labels is not None:
            # a dataset with soft labels has one for every item
            softs = cast(list[np.ndarray], [soft for _, _, soft in items])
            batch["soft_labels"] = torch.from_numpy(np.stack(softs))
        return batch

    return DataLoader(dataset, batch_sampler=sampler, collate_fn=collate, pin_memory=pin_memory)


@torch.inference_mode()
def batched_logits(
    network: torch.nn.Module,
    ids: Sequence[Sequence[int]],
    pad_id: int,
    num_classes: int,
    device: torch.device,
    batch_size: int,
) -> np.ndarray:
    """``network``'s logits ``(n, num_classes)`` for encoded texts, in their input order.

    Texts are sorted by length into batches, so each batch pads only to its own longest.
    """
    batch_size = check_count("batch_size", batch_size, 1)
    order = np.argsort([len(i) for i in ids], kind="stable")
    logits = np.empty((len(ids), num_classes), dtype=np.float64)
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        input_ids, mask = pad_batch([ids[i] for i in rows], pad_id)
        out = network(input_ids.to(device), mask.to(device))
        logits[rows] = out.logits.double().cpu().numpy()
    return logits
