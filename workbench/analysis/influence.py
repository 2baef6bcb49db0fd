"""Influential training examples: the training texts that most supported and most opposed
a prediction, by TracInCP, and a check that they matter.

**TracInCP** (Pruthi et al. 2020, "Estimating Training Data Influence by Tracing Gradient
Descent") scores a training example z against a test example z' by how much the training
steps on z lowered the loss on z', approximated at the checkpoints kept during training::

    score(z, z') = Σ_i η_i · ∇θ ℓ(θ_i, z) · ∇θ ℓ(θ_i, z')

where θ_i are the kept weights and η_i the learning rate they stand for. A positive score
(a **proponent**) means the example's gradient steps made the prediction more likely; a
negative one (an **opponent**), less. The test loss is taken at the model's predicted
label (or at ``targets=``), so proponents are the examples behind *this* prediction.

**Checkpoints** come from the fit loop through a callback, so nothing in training changes:
``clf.fit(texts, labels, callbacks=[keeper := KeepCheckpoints(clf)])`` keeps the weights
at each epoch's end (in memory, or as safetensors in a directory) with the mean learning
rate of that epoch's steps. The mean, not the learning rate at the checkpoint: with the
workbench's schedule (warm-up, then linear decay to zero) the last epoch ends at rate 0 and
would count for nothing. AdamW's steps are not plain gradient steps, so the scores are
TracIn's approximation (as in the paper's own experiments), not an exact account.

**Which parameters** (``layers=``): ``"all"`` (the default) uses every parameter, with
Captum's ``TracInCP`` (one backward pass per training example and checkpoint; the test
texts' gradients are held in memory, parameters × checkpoints × test texts floats, in
chunks of at most 512 MB). ``"last"`` uses the weight of the linear head only, with Captum's
``TracInCPFast``: the head's weight gradient is the outer product of the head's input and
the loss gradient at the logits, so a training example costs one forward pass per
checkpoint: on the 1,280 embedded training reviews with 5 checkpoints of the tiny
transformer, 5.2 s against 46 s for ``"all"`` (0.4 and 8.6 trainings' time). It is the faster
answer, not the same one: on a tiny transformer fitted to 300 texts of the tests' cue-word
corpus, its top 10 proponents of each positive prediction were all *negative* training
texts (dot products of pooled vectors can be negative), while ``"all"`` listed mostly
texts of the predicted label. Captum fits the workbench's networks once they are wrapped to return
logits (:class:`_Logits`) and fed padded batches of ``(input_ids, attention_mask,
label)``, so the scores are Captum's; the tests check both settings against a direct
computation of the formula above. Costs and the removal check on the embedded reviews:
``benchmarks/influence_check.py``.

**Checked, not assumed**: :func:`removal_check` trains a small model, removes the top-k
proponents of a test prediction, retrains from the same seed and measures how far the
predicted class's probability falls, against removing k random examples, over several seeds.
On the embedded reviews (``benchmarks/influence_check.py``, k = 40 of 1,280, 5 seeds) the
top proponents by ``"all"`` flipped the first test review's prediction in 5 of 5 seeds
(mean drop 0.98) where random removal moved it by 0.15 on average (median 0.016); on the
next two test reviews, predicted at 0.99, neither removal moved the prediction in most
seeds (proponents: mean drops -0.004 and 0.002; random: 0.02 and 0.17, each mostly from
one seed: a drop of 0.11, and a retrained model that flipped to the other label on its
own). That is why random removal is measured beside it, and the check reported per text.

Models: the from-scratch :class:`~workbench.classifier.TextClassifier` and a fine-tuned
pretrained encoder (``PretrainedEncoderClassifier(mode="finetune")``: its fit takes the same
callbacks). A model without a torch network (a scikit-learn pipeline, the TF-IDF baseline,
a frozen-encoder probe) is refused with a message saying what to use instead.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
import pandas as pd
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn
from torch.utils.data import DataLoader

from workbench.artifacts import atomic_write
from workbench.batching import pad_batch
from workbench.config import ModelConfig, TrainConfig
from workbench.data import as_text_list, check_count, plain, plain_labels
from workbench.errors import InputError
from workbench.estimators import TextModel, check_fitted
from workbench.progress import announce, duration, progress_bar, timed_pieces
from workbench.threads import CpuThreads
from workbench.train import Callback, TrainState

__all__ = [
    "Checkpoint",
    "InfluenceResult",
    "KeepCheckpoints",
    "RemovalCheck",
    "influence",
    "load_checkpoints",
    "removal_check",
]

Layers = Literal["last", "all"]
LAYERS = ("last", "all")
# Training texts per Captum call: a small first piece, timed for the estimate, then larger
# ones (a bar that moves, and the test gradients of "all" recomputed only now and then).
_FIRST_PIECE = 64
_PIECE_TEXTS = 2048
# Runs over this many training texts or more announce an estimate of their time.
ESTIMATE_FROM = 200
# layers="all": bytes of per-example gradients held at once (a training batch, and the
# test texts' gradients at every checkpoint); bounds memory on a large network.
_GRADIENT_BYTES = 512 * 2**20
_CHECKPOINT_PATTERN = "epoch-*.safetensors"


# --------------------------------------------------------------------- checkpoints
@dataclass
class Checkpoint:
    """One kept state of the network: its weights (in memory, or a safetensors file) and
    the learning rate TracInCP weights it by (the mean over the steps it stands for)."""

    epoch: int
    learning_rate: float
    weights: dict[str, torch.Tensor] | None = field(default=None, repr=False)
    path: Path | None = None

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The weights, read from ``path`` when they are not held in memory."""
        if self.weights is not None:
            return self.weights
        if self.path is None:
            raise InputError(f"checkpoint of epoch {self.epoch} has neither weights nor a path")
        return load_file(self.path)


class KeepCheckpoints(Callback):
    """A fit-loop callback that keeps the network's weights at each epoch's end.

    Args:
        model: the :class:`~workbench.classifier.TextClassifier` being fitted (its network
            ``model_`` is read at each epoch's end: fit builds it, so it does not exist
            before), or a torch network trained with :func:`workbench.train.fit`.
        directory: write each checkpoint there as ``epoch-N.safetensors`` (learning rate
            and epoch in its metadata; :func:`load_checkpoints` reads them back) instead of
            holding it in memory.
        every: when to keep one; ``"epoch"`` (the only choice, and TracInCP's usual one).

    After fit, ``checkpoints`` holds a :class:`Checkpoint` per epoch. Its learning rate is
    the mean of the rates the fit loop reported after each step of the epoch; an epoch cut
    short (``max_steps``, a stop) is weighted by the share of a full epoch it ran.

    Example:
        >>> keeper = KeepCheckpoints(clf)  # doctest: +SKIP
        >>> clf.fit(texts, labels, callbacks=[keeper])  # doctest: +SKIP
        >>> influence(clf, ["not bad"], texts, labels, keeper.checkpoints)  # doctest: +SKIP
    """

    def __init__(
        self,
        model: Any,
        directory: str | Path | None = None,
        every: Literal["epoch"] = "epoch",
    ) -> None:
        if every != "epoch":
            raise InputError(f"every must be 'epoch' (a checkpoint per epoch), got {every!r}")
        self.model = model
        self.directory = None if directory is None else Path(directory)
        self.every = every
        self.checkpoints: list[Checkpoint] = []
        self._rates: list[float] = []
        self._full_epoch: int | None = None

    def _network(self) -> nn.Module:
        network = self.model if isinstance(self.model, nn.Module) else None
        network = network or getattr(self.model, "model_", None)
        if not isinstance(network, nn.Module):
            raise InputError(
                f"KeepCheckpoints needs a torch network or a model whose fit builds one "
                f"(model_); {type(self.model).__name__} has none"
            )
        return network

    def on_train_start(self, state: TrainState) -> None:
        self.checkpoints, self._rates, self._full_epoch = [], [], None
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
            for old in self.directory.glob(_CHECKPOINT_PATTERN):  # a previous fit's
                old.unlink()

    def on_batch_end(self, state: TrainState) -> None:
        self._rates.append(state.learning_rate)

    def on_epoch_end(self, state: TrainState) -> None:
        if not self._rates:
            return
        self._full_epoch = self._full_epoch or len(self._rates)
        rate = sum(self._rates) / self._full_epoch
        self._rates = []
        # A copy: on the CPU .cpu() returns the very tensors training goes on to change.
        weights = {
            k: v.detach().cpu().clone().contiguous()
            for k, v in self._network().state_dict().items()
        }
        epoch = state.epoch + 1
        if self.directory is None:
            self.checkpoints.append(Checkpoint(epoch, rate, weights=weights))
            return
        path = self.directory / f"epoch-{epoch}.safetensors"
        metadata = {"format": "pt", "epoch": str(epoch), "learning_rate": repr(rate)}
        atomic_write(path, lambda target: save_file(weights, target, metadata=metadata))
        self.checkpoints.append(Checkpoint(epoch, rate, path=path))


def load_checkpoints(directory: str | Path) -> list[Checkpoint]:
    """The checkpoints :class:`KeepCheckpoints` wrote to ``directory``, in epoch order."""
    folder = Path(directory)
    found = []
    for path in folder.glob(_CHECKPOINT_PATTERN):
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
        try:
            found.append(
                Checkpoint(int(metadata["epoch"]), float(metadata["learning_rate"]), path=path)
            )
        except (KeyError, ValueError):
            raise InputError(
                f"{path}: no epoch and learning_rate in its metadata; it was not written by "
                "KeepCheckpoints"
            ) from None
    if not found:
        raise InputError(
            f"no checkpoints ({_CHECKPOINT_PATTERN}) in {folder}; fit with "
            "callbacks=[KeepCheckpoints(model, directory=...)] first"
        )
    return sorted(found, key=lambda c: c.epoch)


def _as_checkpoints(checkpoints: Any) -> list[Checkpoint]:
    if isinstance(checkpoints, KeepCheckpoints):
        checkpoints = checkpoints.checkpoints
    elif isinstance(checkpoints, (str, Path)):
        return load_checkpoints(checkpoints)
    kept = list(checkpoints or [])
    if not kept or not all(isinstance(c, Checkpoint) for c in kept):
        raise InputError(
            "influence needs the checkpoints kept while the model trained: fit with "
            "callbacks=[keeper := KeepCheckpoints(model)] and pass keeper.checkpoints (or the "
            f"directory it wrote); got {type(checkpoints).__name__} "
            f"{'(empty)' if not kept else ''}".rstrip()
        )
    if not all(math.isfinite(c.learning_rate) and c.learning_rate >= 0 for c in kept):
        raise InputError("checkpoint learning rates must be finite and non-negative")
    return kept


# ------------------------------------------------------------------- the network
class _Logits(nn.Module):
    """The workbench forward contract narrowed to what Captum calls: ``(input_ids,
    attention_mask) -> logits`` in float32."""

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network = network

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.network(input_ids, attention_mask).logits.float()  # (B, k)


@dataclass
class _Reader:
    """How a model turns texts into ids for its network."""

    network: nn.Module
    encode: Callable[[list[str]], list[list[int]]]
    pad_id: int


def _reader(model: Any) -> _Reader:
    """The model's network and encoder, or a message saying why influence cannot run."""
    network = getattr(model, "model_", None)
    name = type(model).__name__
    if not isinstance(network, nn.Module):
        probe = getattr(model, "mode", None) == "probe"
        raise InputError(
            "influence (TracInCP) needs a torch network trained by the workbench's fit loop "
            "and the checkpoints it kept (KeepCheckpoints); "
            + (
                f"this {name} is a frozen-encoder probe, whose head is a scikit-learn "
                "logistic regression. Fine-tune it (mode='finetune') for influence"
                if probe
                else f"{name} has no torch network (a scikit-learn model has no checkpoints "
                "or gradients). Train a TextClassifier with callbacks=[KeepCheckpoints(clf)] "
                "for influence, or explain this model's predictions with shap or lime and "
                "its global behaviour with global_attributions"
            )
        )
    check_fitted(model, "classes_")
    tokenizer = getattr(model, "tokenizer_", None)
    config = getattr(network, "config", None)
    if tokenizer is not None and config is not None:  # the from-scratch classifier
        max_length = int(config.max_length)
        return _Reader(network, lambda t: tokenizer.encode_ids(t, max_length), tokenizer.pad_id)
    hf_tokenizer = getattr(model, "hf_tokenizer_", None)
    if hf_tokenizer is not None and callable(getattr(model, "_encode_ids", None)):
        return _Reader(network, model._encode_ids, int(hf_tokenizer.pad_token_id))
    raise InputError(
        f"influence supports the workbench's TextClassifier and fine-tuned encoders; {name} "
        "has a network but no tokenizer the workbench knows how to call"
    )


def _head(network: nn.Module) -> nn.Linear:
    head = getattr(network, "head", None)
    if not isinstance(head, nn.Linear):
        raise InputError(
            f"layers='last' needs a network whose last layer is a linear 'head'; "
            f"{type(network).__name__} has none. Use layers='all'"
        )
    return head


def _batch(ids: Sequence[list[int]], labels: Sequence[int], pad_id: int) -> tuple:
    input_ids, mask = pad_batch(ids, pad_id)
    return input_ids, mask, torch.tensor(list(labels), dtype=torch.long)


def _on(batch: tuple, device: torch.device) -> tuple:
    return tuple(t.to(device) for t in batch)


# ------------------------------------------------------------------------ result
@dataclass
class InfluenceResult:
    """Per test text, its proponents and opponents among the training examples.

    Attributes:
        test_texts, targets: the test texts and the label whose loss was traced (the
            predicted one unless ``targets=`` said otherwise).
        train_texts, train_labels: the training examples scored.
        scores: ``(n_test, n_train)`` TracInCP scores (positive: the example supported the
            target label).
        top: how many proponents and opponents each test text lists.
        layers: ``"last"`` or ``"all"``; method: which Captum class computed the scores.
        checkpoints: how many checkpoints were summed; seconds: the time it took.
    """

    test_texts: list[str]
    targets: list
    train_texts: list[str]
    train_labels: list
    scores: np.ndarray
    top: int
    layers: str
    method: str
    checkpoints: int
    seconds: float

    def proponents(self, i: int = 0) -> list[int]:
        """Indices of the training examples that most supported test text ``i`` (positive
        scores only, largest first)."""
        order = np.argsort(-self.scores[i], kind="stable")[: self.top]
        return [int(j) for j in order if self.scores[i, j] > 0]

    def opponents(self, i: int = 0) -> list[int]:
        """Indices of the training examples that most opposed test text ``i`` (negative
        scores only, most negative first)."""
        order = np.argsort(self.scores[i], kind="stable")[: self.top]
        return [int(j) for j in order if self.scores[i, j] < 0]

    def to_frame(self) -> pd.DataFrame:
        """One row per (test text, listed training example): test, test_text, target,
        kind ("proponent"/"opponent"), rank, train_index, train_text, train_label, score."""
        rows = []
        for i, text in enumerate(self.test_texts):
            for kind, indices in (
                ("proponent", self.proponents(i)),
                ("opponent", self.opponents(i)),
            ):
                for rank, j in enumerate(indices, start=1):
                    rows.append(
                        {
                            "test": i,
                            "test_text": text,
                            "target": self.targets[i],
                            "kind": kind,
                            "rank": rank,
                            "train_index": j,
                            "train_text": self.train_texts[j],
                            "train_label": self.train_labels[j],
                            "score": float(self.scores[i, j]),
                        }
                    )
        columns = ["test", "test_text", "target", "kind", "rank", "train_index"]
        return pd.DataFrame(rows, columns=[*columns, "train_text", "train_label", "score"])

    def to_dict(self) -> dict:
        """Plain JSON: the settings and, per test text, its proponents and opponents."""

        def listed(i: int, indices: list[int]) -> list[dict]:
            return [
                {
                    "train_index": j,
                    "text": self.train_texts[j],
                    "label": plain(self.train_labels[j]),
                    "score": float(self.scores[i, j]),
                }
                for j in indices
            ]

        return {
            "method": self.method,
            "layers": self.layers,
            "checkpoints": self.checkpoints,
            "top": self.top,
            "seconds": self.seconds,
            "n_train": len(self.train_texts),
            "tests": [
                {
                    "text": text,
                    "target": plain(self.targets[i]),
                    "proponents": listed(i, self.proponents(i)),
                    "opponents": listed(i, self.opponents(i)),
                }
                for i, text in enumerate(self.test_texts)
            ],
        }


# ------------------------------------------------------------------- influence
def influence(
    model: TextModel,
    test_texts: Sequence[str],
    train_texts: Sequence[str],
    train_labels: Sequence,
    checkpoints: KeepCheckpoints | Sequence[Checkpoint] | str | Path,
    *,
    top: int = 5,
    layers: Layers = "all",
    targets: Sequence | None = None,
    batch_size: int = 64,
    progress: bool = True,
) -> InfluenceResult:
    """The training examples that most supported and most opposed each test prediction.

    Args:
        model: a fitted TextClassifier (or fine-tuned encoder) whose network the
            checkpoints belong to; it is not changed (a copy loads the checkpoints).
        test_texts: the texts whose predictions are traced.
        train_texts, train_labels: the training examples to score (those the model was
            trained on; labels as given to fit).
        checkpoints: what :class:`KeepCheckpoints` kept (the callback itself, its
            ``checkpoints``, or the directory it wrote).
        top: proponents and opponents listed per test text.
        layers: ``"all"`` (every parameter; one backward pass per training example and
            checkpoint) or ``"last"`` (the head's weight; fast, cruder: see the module's
            notes).
        targets: per test text, the label whose loss is traced; default the prediction.
        batch_size: training texts per forward pass.
        progress: a progress bar over the training texts, and an estimate of the whole
            run announced after the first texts when there are 200 or more.

    Raises:
        InputError: a model without a torch network (scikit-learn), no checkpoints,
            checkpoints that do not fit the network, a training label the model does not
            know, mismatched lengths.
    """
    reader = _reader(model)
    if layers not in LAYERS:
        raise InputError(f"layers must be 'last' or 'all', got {layers!r}")
    tests = as_text_list(test_texts, "test_texts")
    train = as_text_list(train_texts, "train_texts")
    labels = plain_labels(list(train_labels))
    if len(labels) != len(train):
        raise InputError(
            f"train_labels has {len(labels)} labels for {len(train)} train_texts; give one each"
        )
    if not tests or not train:
        raise InputError("influence needs at least one test text and one training text")
    top = min(check_count("top", top, 1), len(train))
    batch_size = check_count("batch_size", batch_size, 1)
    kept = _as_checkpoints(checkpoints)
    classes = [plain(c) for c in np.asarray(model.classes_).tolist()]
    train_targets = _label_indices(labels, classes, "train_labels")
    if targets is None:
        test_targets = [int(i) for i in model.predict_proba(tests).argmax(axis=1)]
    else:
        test_targets = _label_indices(plain_labels(list(targets)), classes, "targets")
        if len(test_targets) != len(tests):
            raise InputError(f"targets has {len(test_targets)} labels for {len(tests)} test_texts")

    started = time.perf_counter()
    work = copy.deepcopy(reader.network).eval()  # the user's model keeps its weights
    device = next(work.parameters()).device
    states = [c.state_dict() for c in kept]
    try:
        for state in states:
            work.load_state_dict(state)
    except RuntimeError as exc:
        raise InputError(
            "the checkpoints do not fit this model's network (were they kept while another "
            f"model trained?): {str(exc).splitlines()[0]}"
        ) from None
    wrapper = _Logits(work)
    head = _head(work) if layers == "last" else None

    def load(net: nn.Module, key: str) -> float:
        # Captum hands over the wrapper; its network is ``work``.
        number = int(key)
        work.load_state_dict(states[number])
        return kept[number].learning_rate

    train_ids, test_ids = reader.encode(train), reader.encode(tests)
    gradient_floats = sum(p.numel() for p in work.parameters()) if layers == "all" else 0
    if layers == "all":
        batch_size = max(1, min(batch_size, _GRADIENT_BYTES // (4 * gradient_floats)))
    test_chunk = (
        max(1, _GRADIENT_BYTES // (4 * gradient_floats * len(kept)))
        if layers == "all"
        else len(tests)
    )
    scores = np.zeros((len(tests), len(train)))
    order = np.argsort([len(i) for i in train_ids], kind="stable")  # little padding
    threads = CpuThreads() if device.type == "cpu" else None
    method = "captum.influence.TracInCPFast" if layers == "last" else "captum.influence.TracInCP"
    bar = progress_bar(total=len(train), show=progress, desc=f"influence ({layers})", unit="text")
    try:
        for number, (begin, end) in enumerate(timed_pieces(len(order), _FIRST_PIECE, _PIECE_TEXTS)):
            if threads is not None:
                threads.adjust()
            rows = order[begin:end]
            loader: DataLoader = DataLoader(
                cast(Any, [(train_ids[j], train_targets[j]) for j in rows]),
                batch_size=batch_size,
                collate_fn=lambda items: _on(
                    _batch([i for i, _ in items], [y for _, y in items], reader.pad_id), device
                ),
            )
            tracin = _tracin(wrapper, head, loader, [str(n) for n in range(len(kept))], load)
            for start in range(0, len(tests), test_chunk):
                chunk = slice(start, start + test_chunk)
                test_batch = _on(
                    _batch(test_ids[chunk], test_targets[chunk], reader.pad_id), device
                )
                piece = tracin.influence(test_batch, k=None)
                scores[chunk, rows] = piece.detach().double().cpu().numpy()
            bar.update(len(rows))
            if number == 0 and len(order) >= ESTIMATE_FROM and end < len(order):
                elapsed = time.perf_counter() - started
                announce(
                    f"influence ({layers}, {len(kept)} checkpoints) over {len(train)} training "
                    f"texts: about {duration(elapsed * len(order) / end)} in all (the first "
                    f"{end} took {elapsed:.1f} s)",
                    bar,
                    progress,
                )
    finally:
        bar.close()
        if threads is not None:
            threads.restore()
    return InfluenceResult(
        test_texts=tests,
        targets=[classes[i] for i in test_targets],
        train_texts=train,
        train_labels=labels,
        scores=scores,
        top=top,
        layers=layers,
        method=method,
        checkpoints=len(kept),
        seconds=time.perf_counter() - started,
    )


def _label_indices(labels: list, classes: list, what: str) -> list[int]:
    index = {label: i for i, label in enumerate(classes)}
    unknown = [i for i, label in enumerate(labels) if label not in index]
    if unknown:
        raise InputError(
            f"{what}: label {labels[unknown[0]]!r} (item {unknown[0]}) is not one the model "
            f"knows ({', '.join(map(repr, classes))})"
        )
    return [index[label] for label in labels]


def _tracin(
    wrapper: _Logits,
    head: nn.Linear | None,
    loader: DataLoader,
    keys: list[str],
    load: Callable[[nn.Module, str], float],
) -> Any:
    """Captum's TracInCPFast over the head (``head`` given) or TracInCP over every
    parameter. Captum is imported here: it is needed only when influence runs."""
    from captum.influence import TracInCP, TracInCPFast

    if head is not None:
        # "sum": each example's own gradient, with no 1/batch factor to undo.
        return TracInCPFast(
            wrapper,
            head,
            loader,
            keys,
            checkpoints_load_func=load,
            loss_fn=nn.CrossEntropyLoss(reduction="sum"),
            batch_size=None,
        )
    # Per-example losses: Captum differentiates each example's loss alone.
    return TracInCP(
        wrapper,
        loader,
        keys,
        checkpoints_load_func=load,
        loss_fn=nn.CrossEntropyLoss(reduction="none"),
        batch_size=None,
    )


# ------------------------------------------------------------------ the check
@dataclass
class RemovalCheck:
    """What :func:`removal_check` measured: one row per seed, and their summary.

    ``rows``: seed, the predicted label, its probability with every training example
    (``p_full``), without the top-k proponents (``p_without_top``) and without k random
    examples (``p_without_random``), the drops ``p_full - p_without_...`` and the seconds
    of one training and of the influence computation.
    """

    test_text: str
    k: int
    layers: str
    n_train: int
    rows: list[dict]

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows)

    def summary(self) -> dict:
        """Mean drops, their ratio, how many seeds the top-k removal beat the random one,
        and the mean seconds of a training and of influence."""
        top = np.array([r["drop_top"] for r in self.rows])
        rand = np.array([r["drop_random"] for r in self.rows])
        mean_top, mean_random = float(top.mean()), float(rand.mean())
        return {
            "seeds": len(self.rows),
            "k": self.k,
            "n_train": self.n_train,
            "mean_drop_top": mean_top,
            "mean_drop_random": mean_random,
            "median_drop_top": float(np.median(top)),
            "median_drop_random": float(np.median(rand)),
            "mean_abs_change_top": float(np.abs(top).mean()),
            "mean_abs_change_random": float(np.abs(rand).mean()),
            "ratio": mean_top / mean_random if mean_random else math.inf,
            "seeds_top_beats_random": int((top > rand).sum()),
            "train_seconds": float(np.mean([r["train_seconds"] for r in self.rows])),
            "influence_seconds": float(np.mean([r["influence_seconds"] for r in self.rows])),
        }

    def to_dict(self) -> dict:
        return {
            "test_text": self.test_text,
            "k": self.k,
            "layers": self.layers,
            "n_train": self.n_train,
            "rows": self.rows,
            "summary": self.summary(),
        }


def removal_check(
    train_texts: Sequence[str],
    train_labels: Sequence,
    test_text: str,
    *,
    k: int = 10,
    seeds: Sequence[int] = (0, 1, 2),
    model_config: ModelConfig | None = None,
    train_config: TrainConfig | None = None,
    layers: Layers = "all",
    progress: bool = False,
) -> RemovalCheck:
    """Does removing the top-k proponents change a prediction more than removing k random
    training examples? Measured by retraining, per seed.

    Per seed: train a TextClassifier (``train_config`` with that seed; no validation
    split, no calibration, so the probability is the network's own softmax, the one whose
    loss TracIn traces), compute influence for ``test_text``'s predicted label, retrain from
    the same seed without the k strongest proponents, and again without k examples drawn at
    random (a generator seeded by the seed). A larger drop for the proponents than for random
    removal says the ranking found examples the prediction rests on.

    Args:
        train_texts, train_labels: a small training set (each seed trains three models).
        test_text: the prediction to trace.
        k: examples removed.
        seeds: training seeds (one row each).
        model_config, train_config: the model to train (default: the "tiny" preset's
            transformer without dropout, whose random draws would differ between the
            runs compared; 3 epochs, batch 16, one CPU thread, so a seed gives one model).
        layers: as in :func:`influence`.
    """
    from workbench.classifier import TextClassifier  # the check trains; influence does not

    texts = as_text_list(train_texts, "train_texts")
    labels = plain_labels(list(train_labels))
    k = check_count("k", k, 1)
    if k >= len(texts):
        raise InputError(f"k ({k}) must be smaller than the training set ({len(texts)} texts)")
    if not isinstance(test_text, str):
        raise InputError("test_text must be one string")
    seeds = [check_count("seed", s, 0) for s in seeds]
    if not seeds:
        raise InputError("seeds must list at least one seed")
    model_config = model_config or ModelConfig(
        d_model=32, num_heads=2, num_layers=1, d_ff=64, max_length=64, dropout=0.0
    )
    # One CPU thread: the same seed gives the same model, whatever else the machine runs.
    base = train_config or TrainConfig(
        num_epochs=3, batch_size=16, learning_rate=5e-3, device="cpu", cpu_threads=1
    )

    def train(rows: Sequence[int], seed: int, keeper: bool) -> tuple[Any, KeepCheckpoints | None]:
        clf = TextClassifier(model_config, replace(base, seed=seed), calibrate=False)
        callback = KeepCheckpoints(clf) if keeper else None
        clf.fit(
            [texts[i] for i in rows],
            [labels[i] for i in rows],
            val_size=0.0,
            callbacks=[callback] if callback else [],
            progress=False,
        )
        return clf, callback

    def probability(clf: Any, label: Any) -> float:
        column = [plain(c) for c in clf.classes_.tolist()].index(label)
        return float(clf.predict_proba([test_text])[0, column])

    everything = list(range(len(texts)))
    results = []
    for seed in progress_bar(seeds, show=progress, desc="removal check", unit="seed"):
        started = time.perf_counter()
        clf, keeper = train(everything, seed, keeper=True)
        train_seconds = time.perf_counter() - started
        assert keeper is not None  # asked for above
        found = influence(
            clf, [test_text], texts, labels, keeper, top=k, layers=layers, progress=False
        )
        predicted = found.targets[0]
        top = np.argsort(-found.scores[0], kind="stable")[:k]
        rng = np.random.default_rng(seed)
        drawn = rng.choice(len(texts), size=k, replace=False)
        p_full = probability(clf, predicted)
        without_top = probability(
            train(np.setdiff1d(everything, top).tolist(), seed, False)[0], predicted
        )
        without_random = probability(
            train(np.setdiff1d(everything, drawn).tolist(), seed, False)[0], predicted
        )
        results.append(
            {
                "seed": seed,
                "predicted": predicted,
                "p_full": p_full,
                "p_without_top": without_top,
                "p_without_random": without_random,
                "drop_top": p_full - without_top,
                "drop_random": p_full - without_random,
                "top_scores_positive": int((found.scores[0, top] > 0).sum()),
                "train_seconds": train_seconds,
                "influence_seconds": found.seconds,
            }
        )
    return RemovalCheck(test_text, k, layers, len(texts), results)
