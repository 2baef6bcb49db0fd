"""Typed settings for the tokenizer, the model and the training loop.

Each field has a default that trains a useful model on a laptop CPU in about a minute;
the comment beside it says why it matters. All three serialise to JSON through
:func:`dataclasses.asdict` and back through ``from_dict``, which is how artifacts store them.
A field the command line offers (``workbench train --num-layers``) carries its one-line
``help`` in its metadata; the flag takes its name, type and default from the field.
"""

from __future__ import annotations

import math
import numbers
import typing
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from workbench.errors import InputError

# Upper bounds no real run comes near; they stop a mistyped or hostile value (a config.json
# saying d_model: 10^9) from allocating gigabytes before anything else can object.
MAX_VOCAB_SIZE = 2_000_000
MAX_LABELS = 100_000
MAX_LENGTH = 16_384
MAX_D_MODEL = 8_192
MAX_D_FF = 65_536
MAX_LAYERS = 128
MAX_EPOCHS = 100_000
MAX_BATCH_SIZE = 65_536
MAX_MIN_FREQUENCY = 1_000_000_000
MAX_SEED = 2**32 - 1  # NumPy's seeding accepts 0 .. 2^32 - 1
MAX_CPU_THREADS = 1_024


class _JsonConfig:
    """Round trip to plain dicts, rejecting keys this version does not know, and a check
    of every value's type against its annotation (run by each ``__post_init__``)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls, values: dict[str, Any]):
        if not isinstance(values, dict):
            raise InputError(
                f"{cls.__name__} settings must be a JSON object of name: value pairs, "
                f"got {type(values).__name__}"
            )
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(values) - known)
        if unknown:
            raise InputError(
                f"{cls.__name__} got unknown setting(s) {unknown}; "
                f"known settings are {sorted(known)}"
            )
        return cls(**values)

    def _check_types(self) -> None:
        """Each field holds its annotated type; NumPy numbers become Python ones.

        An int setting takes an integer (not a bool, not 32.0: a float there is a typo or a
        damaged file, never meant), a float setting any real number, a choice one of its
        listed strings.
        """
        hints = typing.get_type_hints(type(self))
        for f in fields(self):  # type: ignore[arg-type]
            kind, value = hints[f.name], getattr(self, f.name)
            if typing.get_origin(kind) is not Literal and typing.get_args(kind):
                if value is None:  # "int | None": None is allowed
                    continue
                kind = typing.get_args(kind)[0]
            setattr(self, f.name, _typed(f.name, value, kind))

    def _check_range(self, name: str, low: float, high: float = math.inf) -> None:
        """``low <= value <= high``, or an error that names the setting and the range."""
        value = getattr(self, name)
        if not low <= value <= high:  # also false for NaN
            allowed = f"at least {low:,}" if high == math.inf else f"from {low:,} to {high:,}"
            raise InputError(f"{name} must be {allowed}, got {value!r}")


def _typed(name: str, value: Any, kind: Any) -> Any:
    """``value`` as the plain Python value of ``kind``, or an error naming the setting."""
    if typing.get_origin(kind) is Literal:
        choices = typing.get_args(kind)
        if value not in choices or not isinstance(value, str):
            raise InputError(
                f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}"
            )
        return value
    is_bool = isinstance(value, bool)
    if kind is bool and is_bool:
        return value
    if kind is int and isinstance(value, numbers.Integral) and not is_bool:
        return int(value)
    if kind is float and isinstance(value, numbers.Real) and not is_bool:
        return float(value)
    if kind is str and isinstance(value, str):
        return value
    wanted = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
    raise InputError(f"{name} must be {wanted[kind]}, got {value!r} ({type(value).__name__})")


@dataclass
class TokenizerConfig(_JsonConfig):
    # Folding case halves the vocabulary of a small corpus; turn off when case carries meaning.
    lowercase: bool = True
    # "great!" and "great" should share one embedding; off keeps punctuation glued to words.
    split_punctuation: bool = True
    # Words seen fewer times than this become [UNK]: rare words get no useful embedding anyway.
    min_frequency: int = field(default=1, metadata={"help": "rarer words become [UNK]"})
    # Caps embedding memory on large corpora; the most frequent words are kept.
    max_vocab_size: int = 30_000
    # How text without spaces between words (Chinese, Japanese) is cut into words: "auto"
    # uses jieba/janome when installed and one unit per character otherwise (see
    # workbench.segment); "none" keeps a run whole, as models before segmentation did.
    segmenter: Literal["auto", "characters", "none"] = "auto"

    def __post_init__(self) -> None:
        self._check_types()
        self._check_range("min_frequency", 1, MAX_MIN_FREQUENCY)
        self._check_range("max_vocab_size", 10, MAX_VOCAB_SIZE)


@dataclass
class ModelConfig(_JsonConfig):
    # Filled in from the trained tokenizer and the labels; 0 means "not known yet".
    vocab_size: int = 0
    num_labels: int = 0
    # Longer inputs are truncated; position embeddings exist only up to here. It counts
    # [CLS], so 2 is the least that reads a word.
    max_length: int = field(default=128, metadata={"help": "tokens kept per text"})
    # Width of every token vector; the main knob for capacity (and cost, quadratically).
    d_model: int = field(default=128, metadata={"help": "model width"})
    # d_model is split across heads, so d_model must divide evenly by num_heads.
    num_heads: int = field(default=4, metadata={"help": "attention heads"})
    # Depth; two layers already capture negation and "but" on short reviews.
    num_layers: int = field(default=2, metadata={"help": "transformer blocks"})
    # Hidden width of each block's MLP; 2-4x d_model is the usual range.
    d_ff: int = 256
    # Applied to embeddings, attention weights, MLP output and the head: the main regulariser.
    dropout: float = field(default=0.1, metadata={"help": "dropout rate"})
    # "mean" averages the word vectors (robust on small data); "cls" reads the [CLS] vector.
    pooling: Literal["mean", "cls"] = "mean"
    # Token id used for padding, so attention masks and mean pooling can skip it.
    pad_token_id: int = 0
    # "bag-of-embeddings" (fastText-style: mean of word vectors -> linear head) is the cheap
    # baseline every transformer should beat; it shares the tokenizer, fit loop, artifact
    # and gradient explainers, and ignores num_heads, num_layers, d_ff and pooling.
    architecture: Literal["transformer", "bag-of-embeddings"] = "transformer"

    def __post_init__(self) -> None:
        self._check_types()
        self._check_range("vocab_size", 0, MAX_VOCAB_SIZE)
        self._check_range("num_labels", 0, MAX_LABELS)
        if self.max_length < 2:
            raise InputError(
                f"max_length must be at least 2, got {self.max_length}: it counts the [CLS] "
                "token, so with less no word fits and the model predicts one constant"
            )
        self._check_range("max_length", 2, MAX_LENGTH)
        _check_block_sizes(self)
        self._check_range("num_layers", 1, MAX_LAYERS)
        if self.vocab_size > 0:
            self._check_range("pad_token_id", 0, self.vocab_size - 1)
        else:
            self._check_range("pad_token_id", 0, MAX_VOCAB_SIZE - 1)


def _check_block_sizes(config: ModelConfig | Seq2SeqConfig) -> None:
    """The transformer block's sizes, shared by the classifier's and the seq2seq config."""
    config._check_range("d_model", 1, MAX_D_MODEL)
    config._check_range("num_heads", 1, config.d_model)
    if config.d_model % config.num_heads:
        raise InputError(
            f"d_model ({config.d_model}) must be divisible by num_heads ({config.num_heads}); "
            "pick e.g. d_model=128 with num_heads=4"
        )
    config._check_range("d_ff", 1, MAX_D_FF)
    if not 0.0 <= config.dropout < 1.0:
        raise InputError(f"dropout must be in [0, 1), got {config.dropout}")


# Named model sizes, as ModelConfig settings (vocabulary and labels come from fit): the
# training panel offers them, and the compare registry's "transformer-small" is "small".
# "base" is ModelConfig's defaults.
MODEL_PRESETS: dict[str, dict[str, Any]] = {
    "tiny": {"d_model": 32, "num_heads": 2, "num_layers": 1, "d_ff": 64},
    "small": {"d_model": 64, "num_heads": 2, "num_layers": 1, "d_ff": 128},
    "base": {"d_model": 128, "num_heads": 4, "num_layers": 2, "d_ff": 256},
}


@dataclass
class Seq2SeqConfig(_JsonConfig):
    """The encoder–decoder transformer of ``workbench.seq2seq`` (the same blocks as the
    classifier's, plus causal self-attention and cross-attention in the decoder).

    Vocabulary sizes and the special ids are filled in by ``Translator.fit`` from its two
    word tokenizers; 0 means "not known yet". The defaults are the ``"synthetic"`` entry of
    :data:`SEQ2SEQ_PRESETS`.
    """

    # Source words + the tokenizer's specials; the target's also counts [EOS] (its last id).
    source_vocab_size: int = 0
    target_vocab_size: int = 0
    # Source tokens read, counting the leading [CLS]; longer sources are cut, with a note.
    max_source_length: int = 64
    # Decoder positions, counting the start token: at most this many tokens are generated.
    max_target_length: int = 64
    # Width, heads and MLP width of every block, encoder and decoder alike.
    d_model: int = 64
    num_heads: int = 4
    d_ff: int = 256
    num_encoder_layers: int = 2
    num_decoder_layers: int = 2
    # On embeddings, attention weights, residual branches (not on the output layer).
    dropout: float = 0.1
    # "sinusoidal": the fixed sines and cosines of Vaswani et al. 2017, defined at every
    # position, also past the longest training sentence (token vectors are then scaled by
    # sqrt(d_model)); "learned": a trained vector per position, as the classifier's. On the
    # synthetic corpus's long split sinusoidal reached BLEU 40-41 against 27-33 (seeds 0, 1).
    positions: Literal["learned", "sinusoidal"] = "sinusoidal"
    # The target tokenizer's ids: padding, the start token ([CLS]) and end of sequence.
    pad_token_id: int = 0
    bos_token_id: int = 2
    eos_token_id: int = 0

    def __post_init__(self) -> None:
        self._check_types()
        self._check_range("source_vocab_size", 0, MAX_VOCAB_SIZE)
        self._check_range("target_vocab_size", 0, MAX_VOCAB_SIZE)
        self._check_range("max_source_length", 1, MAX_LENGTH)
        self._check_range("max_target_length", 2, MAX_LENGTH)
        _check_block_sizes(self)
        self._check_range("num_encoder_layers", 1, MAX_LAYERS)
        self._check_range("num_decoder_layers", 1, MAX_LAYERS)
        top = max(self.target_vocab_size - 1, 0) if self.target_vocab_size else MAX_VOCAB_SIZE
        for name in ("pad_token_id", "bos_token_id", "eos_token_id"):
            self._check_range(name, 0, top)


# Named seq2seq sizes, as Seq2SeqConfig settings (vocabularies come from fit). "synthetic"
# is the default: with SEQ2SEQ_RECIPE on make_synthetic_corpus() it reached 0.968 test exact
# match after 4 epochs (seeds 0 and 1), passing 0.95 after 23-35 CPU-seconds of training, far
# inside issue 13's 5 CPU-minutes (benchmarks/seq2seq_synthetic.py, RESULTS.md).
SEQ2SEQ_PRESETS: dict[str, dict[str, Any]] = {
    "tiny": {
        "d_model": 32,
        "num_heads": 2,
        "d_ff": 64,
        "num_encoder_layers": 1,
        "num_decoder_layers": 1,
    },
    "synthetic": {
        "positions": "sinusoidal",
        "d_model": 64,
        "num_heads": 4,
        "d_ff": 256,
        "num_encoder_layers": 2,
        "num_decoder_layers": 2,
    },
}

# The training settings that go with the "synthetic" preset (TrainConfig fields): 4 epochs of
# 20k pairs took 46 CPU-seconds (the only recipe measured; others may do as well).
SEQ2SEQ_RECIPE: dict[str, Any] = {
    "num_epochs": 4,
    "batch_size": 64,
    "learning_rate": 2e-3,
    "warmup_ratio": 0.05,
    "patience": 2,
    "monitor": "accuracy",
    "seed": 0,
}


# The workbench's fine-tuning recipe for a small pretrained encoder
# (pretrained.finetuned_encoder, the CLI's --encoder). Learning rate 1e-4, batch 16,
# 128 pieces: benchmarks/encoder_reviews.py measures what it reaches on the embedded
# reviews; the more usual 2e-5 learnt too slowly for so few epochs in issue 10's trials.
# 3 epochs: validation accuracy on the embedded reviews was 0.922, 0.914 and 0.938 after
# epochs 1, 2 and 3.
ENCODER_RECIPE: dict[str, Any] = {
    "mode": "finetune",
    "learning_rate": 1e-4,
    "batch_size": 16,
    "num_epochs": 3,
    "max_length": 128,
    "seed": 0,
    "device": "auto",
}


@dataclass
class TrainConfig(_JsonConfig):
    # Upper bound; early stopping usually ends sooner.
    num_epochs: int = field(default=8, metadata={"help": "maximum number of epochs"})
    # Examples per step; batches are length-bucketed, so padding stays small at any size.
    batch_size: int = field(default=32, metadata={"help": "examples per step"})
    # Peak learning rate after warm-up; from-scratch transformers this small like ~1e-3.
    learning_rate: float = field(default=1e-3, metadata={"help": "peak learning rate"})
    # AdamW decoupled weight decay (not applied to norms, biases or embeddings' padding row).
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW weight decay"})
    # Fraction of all steps spent warming up linearly from 0; stabilises early attention.
    warmup_ratio: float = 0.1
    # Clip the global gradient norm: one outlier batch cannot wreck the weights.
    max_grad_norm: float = 1.0
    # Stop after this many evaluations without improvement of the validation score.
    patience: int = 2
    # Validation metric that picks the best checkpoint: "accuracy", "macro_f1" or "loss".
    monitor: Literal["accuracy", "macro_f1", "loss"] = "accuracy"
    # Softens one-hot targets; a little helps calibration on noisy labels.
    label_smoothing: float = field(default=0.0, metadata={"help": "soften one-hot targets"})
    # Hard cap on optimiser steps (a dry run when small); None trains all epochs.
    max_steps: int | None = field(
        default=None, metadata={"help": "stop after this many steps (a dry run)"}
    )
    # One seed drives shuffling, initialisation and dropout: same seed, same CPU result.
    seed: int = field(default=0, metadata={"help": "random seed"})
    # "auto" picks CUDA, then Apple MPS, then CPU.
    device: str = field(default="auto", metadata={"help": "auto, cpu, cuda or mps"})
    # CPU threads for training; None follows the machine's free cores as they change
    # (workbench/threads.py: a fixed count collapses when other processes share the cores).
    cpu_threads: int | None = field(
        default=None, metadata={"help": "CPU threads (default: the cores other work leaves free)"}
    )
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
        self._check_types()
        self._check_range("num_epochs", 1, MAX_EPOCHS)
        self._check_range("batch_size", 1, MAX_BATCH_SIZE)
        if not 0 < self.learning_rate < math.inf:
            raise InputError(f"learning_rate must be positive and finite, got {self.learning_rate}")
        if not 0 <= self.weight_decay < math.inf:
            raise InputError(
                f"weight_decay must be non-negative and finite, got {self.weight_decay}"
            )
        if not self.max_grad_norm > 0:  # inf is allowed: no clipping
            raise InputError(f"max_grad_norm must be positive, got {self.max_grad_norm}")
        self._check_range("patience", 1)
        if not 0.0 <= self.label_smoothing < 1.0:
            raise InputError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")
        if not 0.0 <= self.warmup_ratio < 1.0:
            raise InputError(f"warmup_ratio must be in [0, 1), got {self.warmup_ratio}")
        self._check_range("seed", 0, MAX_SEED)
        if not 0 < self.distill_temperature < math.inf:
            raise InputError(
                f"distill_temperature must be positive and finite, got {self.distill_temperature}"
            )
        if not 0.0 <= self.distill_alpha <= 1.0:
            raise InputError(f"distill_alpha must be in [0, 1], got {self.distill_alpha}")
        if self.cpu_threads is not None:
            self._check_range("cpu_threads", 1, MAX_CPU_THREADS)
        if self.max_steps is not None and self.max_steps < 1:
            raise InputError(f"max_steps must be at least 1 (or None), got {self.max_steps}")
