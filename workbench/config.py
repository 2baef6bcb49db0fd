"""Typed settings for the tokenizer, the model and the training loop.

Each field has a default that trains a useful model on a laptop CPU in about a minute;
the comment beside it says why it matters. All three serialise to JSON through
:func:`dataclasses.asdict` and back through ``from_dict``, which is how artifacts store them.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

from workbench.errors import InputError


class _JsonConfig:
    """Round trip to plain dicts, rejecting keys this version does not know."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls, values: dict[str, Any]):
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(values) - known)
        if unknown:
            raise InputError(
                f"{cls.__name__} got unknown setting(s) {unknown}; "
                f"known settings are {sorted(known)}"
            )
        return cls(**values)


@dataclass
class TokenizerConfig(_JsonConfig):
    # Folding case halves the vocabulary of a small corpus; turn off when case carries meaning.
    lowercase: bool = True
    # "great!" and "great" should share one embedding; off keeps punctuation glued to words.
    split_punctuation: bool = True
    # Words seen fewer times than this become [UNK]: rare words get no useful embedding anyway.
    min_frequency: int = 1
    # Caps embedding memory on large corpora; the most frequent words are kept.
    max_vocab_size: int = 30_000

    def __post_init__(self) -> None:
        if self.min_frequency < 1:
            raise InputError(f"min_frequency must be at least 1, got {self.min_frequency}")
        if self.max_vocab_size < 10:
            raise InputError(f"max_vocab_size must be at least 10, got {self.max_vocab_size}")


@dataclass
class ModelConfig(_JsonConfig):
    # Filled in from the trained tokenizer and the labels; 0 means "not known yet".
    vocab_size: int = 0
    num_labels: int = 0
    # Longer inputs are truncated; position embeddings exist only up to here.
    max_length: int = 128
    # Width of every token vector; the main knob for capacity (and cost, quadratically).
    d_model: int = 128
    # d_model is split across heads, so d_model must divide evenly by num_heads.
    num_heads: int = 4
    # Depth; two layers already capture negation and "but" on short reviews.
    num_layers: int = 2
    # Hidden width of each block's MLP; 2-4x d_model is the usual range.
    d_ff: int = 256
    # Applied to embeddings, attention weights, MLP output and the head: the main regulariser.
    dropout: float = 0.1
    # "mean" averages the word vectors (robust on small data); "cls" reads the [CLS] vector.
    pooling: Literal["mean", "cls"] = "mean"
    # Token id used for padding, so attention masks and mean pooling can skip it.
    pad_token_id: int = 0
    # "bag-of-embeddings" (fastText-style: mean of word vectors -> linear head) is the cheap
    # baseline every transformer should beat; it shares the tokenizer, fit loop, artifact
    # and gradient explainers, and ignores num_heads, num_layers, d_ff and pooling.
    architecture: Literal["transformer", "bag-of-embeddings"] = "transformer"

    def __post_init__(self) -> None:
        if self.num_heads < 1 or self.d_model % self.num_heads:
            raise InputError(
                f"d_model ({self.d_model}) must be divisible by num_heads ({self.num_heads}); "
                "pick e.g. d_model=128 with num_heads=4"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise InputError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.pooling not in ("mean", "cls"):
            raise InputError(f"pooling must be 'mean' or 'cls', got {self.pooling!r}")
        if self.architecture not in ("transformer", "bag-of-embeddings"):
            raise InputError(
                "architecture must be 'transformer' or 'bag-of-embeddings', "
                f"got {self.architecture!r}"
            )
        for name in ("max_length", "d_model", "num_layers", "d_ff"):
            if getattr(self, name) < 1:
                raise InputError(f"{name} must be positive, got {getattr(self, name)}")


@dataclass
class TrainConfig(_JsonConfig):
    # Upper bound; early stopping usually ends sooner.
    num_epochs: int = 8
    # Examples per step; batches are length-bucketed, so padding stays small at any size.
    batch_size: int = 32
    # Peak learning rate after warm-up; from-scratch transformers this small like ~1e-3.
    learning_rate: float = 1e-3
    # AdamW decoupled weight decay (not applied to norms, biases or embeddings' padding row).
    weight_decay: float = 0.01
    # Fraction of all steps spent warming up linearly from 0; stabilises early attention.
    warmup_ratio: float = 0.1
    # Clip the global gradient norm: one outlier batch cannot wreck the weights.
    max_grad_norm: float = 1.0
    # Stop after this many evaluations without improvement of the validation score.
    patience: int = 2
    # Validation metric that picks the best checkpoint: "accuracy", "macro_f1" or "loss".
    monitor: Literal["accuracy", "macro_f1", "loss"] = "accuracy"
    # Softens one-hot targets; a little helps calibration on noisy labels.
    label_smoothing: float = 0.0
    # Hard cap on optimiser steps (a dry run when small); None trains all epochs.
    max_steps: int | None = None
    # One seed drives shuffling, initialisation and dropout: same seed, same CPU result.
    seed: int = 0
    # "auto" picks CUDA, then Apple MPS, then CPU.
    device: str = "auto"
    # torch.compile the model on CUDA; a one-off compile cost for faster steps on long runs.
    compile: bool = False
    # Distillation (used only when the training data carries a teacher's soft labels):
    # both distributions are softened by this temperature before they are compared, which
    # exposes how the teacher ranks the wrong classes (Hinton et al. 2015). A calibrated
    # teacher's probabilities are already soft: on the embedded reviews T = 1 beat T = 2.
    distill_temperature: float = 1.0
    # Weight of the soft (teacher) term; 1 - alpha goes to cross-entropy on the gold labels,
    # which keeps the student honest where a weak teacher is wrong. With a teacher far
    # better than the student (MiniLM 0.905 vs 0.705), learning from it alone did best:
    # 0.775 test accuracy against 0.7525 at alpha 0.5, T 2 (benchmarks/RESULTS.md §7).
    distill_alpha: float = 1.0

    def __post_init__(self) -> None:
        if self.num_epochs < 1:
            raise InputError(f"num_epochs must be at least 1, got {self.num_epochs}")
        if self.batch_size < 1:
            raise InputError(f"batch_size must be at least 1, got {self.batch_size}")
        if self.learning_rate <= 0:
            raise InputError(f"learning_rate must be positive, got {self.learning_rate}")
        if self.weight_decay < 0:
            raise InputError(f"weight_decay must be non-negative, got {self.weight_decay}")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise InputError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")
        if not 0.0 <= self.warmup_ratio < 1.0:
            raise InputError(f"warmup_ratio must be in [0, 1), got {self.warmup_ratio}")
        if self.monitor not in ("accuracy", "macro_f1", "loss"):
            raise InputError(
                f"monitor must be 'accuracy', 'macro_f1' or 'loss', got {self.monitor!r}"
            )
        if not 0 < self.distill_temperature < math.inf:
            raise InputError(
                f"distill_temperature must be positive and finite, got {self.distill_temperature}"
            )
        if not 0.0 <= self.distill_alpha <= 1.0:
            raise InputError(f"distill_alpha must be in [0, 1], got {self.distill_alpha}")
        if self.max_steps is not None and self.max_steps < 1:
            raise InputError(f"max_steps must be at least 1 (or None), got {self.max_steps}")
