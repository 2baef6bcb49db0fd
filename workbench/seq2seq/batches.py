"""Pairs of token id lists as length-bucketed batches, and the fit loop's seq2seq task.

A batch holds the source (``input_ids``, ``attention_mask``), the decoder's input (the
start token, then the gold target words: teacher forcing) and ``labels``, the same words
shifted by one with end-of-sequence last and ``IGNORE_INDEX`` on padding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from workbench.batching import BucketBatchSampler, pad_batch
from workbench.config import TrainConfig
from workbench.distributed import Ranks, sum_across_ranks
from workbench.errors import InputError
from workbench.seq2seq.network import IGNORE_INDEX, sequence_loss
from workbench.train import Task, autocast


@dataclass
class PairDataset(Dataset):
    """Encoded pairs: source ids (``[CLS]`` first) and target ids (the start token first).

    ``eos_id`` ends every label sequence.
    """

    source_ids: list[list[int]]
    target_ids: list[list[int]]
    eos_id: int

    def __post_init__(self) -> None:
        if len(self.source_ids) != len(self.target_ids):
            raise InputError(
                f"{len(self.source_ids)} sources but {len(self.target_ids)} targets; "
                "give one target per source"
            )

    def __len__(self) -> int:
        return len(self.source_ids)

    def __getitem__(self, index: int) -> tuple[list[int], list[int]]:
        return self.source_ids[index], self.target_ids[index]


def collate_pairs(
    items: Sequence[tuple[Sequence[int], Sequence[int]]], pad_id: int, eos_id: int
) -> dict[str, torch.Tensor]:
    """Pad a list of ``(source ids, target ids)`` into one teacher-forcing batch."""
    input_ids, attention_mask = pad_batch([source for source, _ in items], pad_id)
    decoder_input_ids, decoder_mask = pad_batch([target for _, target in items], pad_id)
    shifted, _ = pad_batch([[*target[1:], eos_id] for _, target in items], pad_id)
    return {
        "input_ids": input_ids,
        "attention_mask": attention_mask,
        "decoder_input_ids": decoder_input_ids,
        "decoder_attention_mask": decoder_mask,
        "labels": shifted.masked_fill(~decoder_mask, IGNORE_INDEX),
    }


def make_pair_loader(
    dataset: PairDataset,
    batch_size: int,
    pad_id: int,
    *,
    shuffle: bool,
    seed: int = 0,
    num_replicas: int = 1,
    rank: int = 0,
    pin_memory: bool = False,
) -> DataLoader:
    """Batches of pairs of similar length (source plus target tokens), as
    :func:`workbench.batching.make_loader` makes them for texts."""
    lengths = [len(s) + len(t) for s, t in zip(dataset.source_ids, dataset.target_ids, strict=True)]
    sampler = BucketBatchSampler(
        lengths, batch_size, shuffle=shuffle, seed=seed, num_replicas=num_replicas, rank=rank
    )
    return DataLoader(
        dataset,
        batch_sampler=sampler,
        collate_fn=lambda items: collate_pairs(items, pad_id, dataset.eos_id),
        pin_memory=pin_memory,
    )


_INPUTS = ("input_ids", "attention_mask", "decoder_input_ids", "decoder_attention_mask")


class Seq2SeqTask(Task):
    """Teacher-forced cross-entropy per target token; validation reports ``loss`` (per
    token), ``token_accuracy`` and ``accuracy``, the share of pairs whose every token is
    the arg-max. The latter is exactly greedy decoding's exact match (each step then
    feeds the gold token greedy would have chosen), found in one forward pass."""

    def check(self, train_data: PairDataset) -> None:
        if len(train_data) == 0:
            raise InputError("training data needs at least one (source, target) pair")

    def make_loader(self, data: PairDataset, batch_size: int, pad_id: int, **options: Any) -> Any:
        return make_pair_loader(data, batch_size, pad_id, **options)

    def loss(self, model: nn.Module, batch: dict, config: TrainConfig) -> torch.Tensor:
        logits = model(**{k: batch[k] for k in _INPUTS}).logits
        return sequence_loss(logits, batch["labels"], config.label_smoothing)

    @torch.no_grad()
    def evaluate(
        self, model: nn.Module, loader: Any, device: torch.device, ranks: Ranks
    ) -> dict[str, float]:
        model.eval()
        loss_sum, tokens, right_tokens, pairs, right_pairs = 0.0, 0, 0, 0, 0
        for batch in loader:
            batch = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
            with autocast(device):
                logits = model(**{k: batch[k] for k in _INPUTS}).logits
            labels = batch["labels"]
            real = labels != IGNORE_INDEX
            count = int(real.sum())
            loss_sum += sequence_loss(logits, labels).item() * count
            right = (logits.argmax(-1) == labels) & real
            tokens += count
            right_tokens += int(right.sum())
            pairs += len(labels)
            right_pairs += int((right | ~real).all(dim=1).sum())
        total, n_tokens, n_right_tokens, n_pairs, n_right_pairs = sum_across_ranks(
            [loss_sum, tokens, right_tokens, pairs, right_pairs], ranks
        )
        return {
            "loss": total / max(n_tokens, 1),
            "accuracy": n_right_pairs / max(n_pairs, 1),
            "token_accuracy": n_right_tokens / max(n_tokens, 1),
        }
