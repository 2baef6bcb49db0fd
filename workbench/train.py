"""The fit loop: AdamW, warm-up then linear decay, clipping, early stopping, a clean stop.

What it knows of the model, the data and the loss is a :class:`Task`: by default
:class:`ClassificationTask`, which calls ``model(input_ids, attention_mask, labels)`` for an
object with ``loss`` and ``logits`` and, when the training data carries a teacher's soft
labels, distils (:func:`distillation_loss`); ``workbench.seq2seq`` passes its own for the
encoder–decoder. Callbacks hear named events (see
:class:`Callback`); notebooks hang their live plots on them. Ctrl-C, a set ``stop_event``
or a callback setting ``state.should_stop`` all end training the same way: the best
weights seen so far are restored and the history says it was interrupted.
"""

from __future__ import annotations

import copy
import math
import os
import random
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from sklearn.metrics import accuracy_score, f1_score
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm

from workbench.artifacts import atomic_write, read_json
from workbench.batching import TokenizedDataset, make_loader
from workbench.config import TrainConfig
from workbench.distributed import Ranks, gather_across_ranks, setup, sum_across_ranks
from workbench.errors import InputError
from workbench.progress import progress_bar
from workbench.threads import CpuThreads


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices): the one place seeding happens."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def resolve_device(name: str = "auto") -> torch.device:
    """``"auto"`` picks CUDA, then Apple MPS, then CPU; anything else is checked."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise InputError(f"device {name!r} asked for, but no CUDA GPU is visible; use 'cpu'")
    if name == "mps" and not torch.backends.mps.is_available():
        raise InputError("device 'mps' asked for, but Apple MPS is not available; use 'cpu'")
    try:
        return torch.device(name)
    except RuntimeError as exc:
        raise InputError(f"unknown device {name!r}; use auto, cpu, cuda or mps") from exc


@dataclass
class TrainState:
    """What callbacks see. Set ``should_stop = True`` to end training after this step."""

    epoch: int = 0
    step: int = 0
    total_steps: int = 0
    loss: float = math.nan  # the last batch's loss
    epoch_loss: float = math.nan  # mean training loss of this epoch so far
    learning_rate: float = 0.0
    metrics: dict[str, float] = field(default_factory=dict)  # latest validation metrics
    best_score: float | None = None
    best_epoch: int | None = None
    should_stop: bool = False


class Callback:
    """Override any of these; each receives the live :class:`TrainState`."""

    def on_train_start(self, state: TrainState) -> None: ...
    def on_batch_end(self, state: TrainState) -> None: ...
    def on_evaluate(self, state: TrainState) -> None: ...
    def on_epoch_end(self, state: TrainState) -> None: ...
    def on_train_end(self, state: TrainState) -> None: ...


@dataclass
class History:
    """Per-epoch records (train loss, validation metrics, seconds) and how training ended."""

    epochs: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int | None = None
    best_score: float | None = None
    steps: int = 0
    stopped_early: bool = False
    interrupted: bool = False
    seconds: float = 0.0
    device: str = "cpu"

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    @classmethod
    def from_artifact(cls, path: Path) -> History:
        """The history an artifact's ``metrics.json`` holds (empty when it has none)."""
        history = read_json(path / "metrics.json").get("history", {})
        try:
            return cls(**history)
        except TypeError as exc:
            raise InputError(
                f"{path}/metrics.json: malformed training history ({exc}); save the model again"
            ) from exc


def _lr_lambda(warmup_steps: int, total_steps: int):
    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        remaining = max(total_steps - warmup_steps, 1)
        return max(0.0, (total_steps - step) / remaining)

    return factor


def _optimizer(model: nn.Module, config: TrainConfig, device: torch.device):
    # Decay only matrices: decaying norms, biases and embeddings hurts small models.
    decay: list[nn.Parameter] = []
    no_decay: list[nn.Parameter] = []
    for name, param in model.named_parameters():
        if param.requires_grad:
            is_matrix = param.ndim >= 2 and "embedding" not in name
            (decay if is_matrix else no_decay).append(param)
    groups = [
        {"params": decay, "weight_decay": config.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    # The fused kernel also exists on CPU: one kernel for every parameter, not a Python loop.
    fused = device.type in ("cuda", "cpu")
    return torch.optim.AdamW(groups, lr=config.learning_rate, fused=fused)


def autocast(device: torch.device):
    """bfloat16 autocast on CUDA, nothing elsewhere: how every forward of the loop runs."""
    return torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else nullcontext()


def distillation_loss(
    logits: torch.Tensor,
    teacher_proba: torch.Tensor,
    labels: torch.Tensor,
    *,
    temperature: float,
    alpha: float,
    label_smoothing: float = 0.0,
) -> torch.Tensor:
    """``alpha * T² * KL(p_T ‖ q_T) + (1 - alpha) * CE(q, labels)``, averaged over the batch.

    Hinton et al. 2015: ``p_T`` is the teacher's distribution softened by the temperature
    ``T``, ``q_T = softmax(logits / T)`` the student's; ``T²`` keeps the soft term's
    gradients on the scale of the hard term's whatever ``T`` is. The cross-entropy is the
    mean over the examples that have a gold label; label -1 (an augmented transfer text)
    means none, and such an example learns from the teacher only.

    Args:
        logits: student scores ``(B, k)``.
        teacher_proba: the teacher's probabilities *at temperature 1* ``(B, k)``, as its
            ``predict_proba`` returns them. Softening them here, ``softmax(log p / T)``,
            equals ``softmax(z / T)`` of a softmax teacher's logits ``z`` exactly (the
            log-normaliser cancels), needs no logits (a TF-IDF teacher has none), and lets
            ``T`` change without asking the teacher again.
        labels: gold class indices ``(B,)``, -1 where there is none.
        temperature, alpha: ``TrainConfig.distill_temperature`` / ``distill_alpha``.
        label_smoothing: applied to the cross-entropy term, as without a teacher.
    """
    if teacher_proba.shape != logits.shape:
        raise InputError(
            f"soft labels have {teacher_proba.shape[-1]} columns but the model predicts "
            f"{logits.shape[-1]} classes; give one teacher probability per class"
        )
    log_q = F.log_softmax(logits / temperature, dim=-1)  # (B, k)
    # A teacher probability of exactly 0 would give log 0; 1e-12 changes nothing visible.
    log_p = F.log_softmax(teacher_proba.clamp_min(1e-12).log() / temperature, dim=-1)  # (B, k)
    kl = (log_p.exp() * (log_p - log_q)).sum(-1).mean()
    labelled = (labels >= 0).sum().clamp_min(1)
    ce = (
        F.cross_entropy(
            logits, labels, ignore_index=-1, reduction="sum", label_smoothing=label_smoothing
        )
        / labelled
    )
    return alpha * temperature**2 * kl + (1 - alpha) * ce


_MODEL_INPUTS = ("input_ids", "attention_mask", "labels")


@torch.no_grad()
def evaluate_loss(
    model: nn.Module, loader, device: torch.device, ranks: Ranks | None = None
) -> tuple[float, np.ndarray, np.ndarray]:
    """Mean loss, predicted and true label indices over a loader (model in eval mode).

    In a distributed run each rank scores its shard and the results are combined, so every
    rank returns the same numbers for the whole set.
    """
    ranks = ranks or Ranks()
    model.eval()
    total, count = 0.0, 0
    # Start from empty tensors: a rank whose shard is empty still has something to gather.
    preds, golds = [torch.empty(0, dtype=torch.long)], [torch.empty(0, dtype=torch.long)]
    for batch in loader:
        # Hard labels only: validation scores the student against the gold labels.
        batch = {k: batch[k].to(device, non_blocking=True) for k in _MODEL_INPUTS}
        with autocast(device):
            out = model(**batch)
        total += out.loss.item() * len(batch["labels"])
        count += len(batch["labels"])
        preds.append(out.logits.argmax(-1).cpu())
        golds.append(batch["labels"].cpu())
    loss_sum, examples = sum_across_ranks([total, count], ranks)
    all_preds = gather_across_ranks(torch.cat(preds).numpy(), ranks)
    all_golds = gather_across_ranks(torch.cat(golds).numpy(), ranks)
    return loss_sum / max(examples, 1), all_preds, all_golds


def _score(metrics: dict[str, float], monitor: str) -> float:
    # Higher is better for every monitored quantity once loss is negated.
    return -metrics["loss"] if monitor == "loss" else metrics[monitor]


def _save_checkpoint(model: nn.Module, directory: Path) -> None:
    weights = {k: v.contiguous() for k, v in model.state_dict().items()}
    atomic_write(directory / "best.safetensors", lambda path: save_file(weights, path))


class EarlyStopping:
    """The best validation score so far, its weights, the patience count and the checkpoint.

    Call :meth:`update` after each evaluation; :attr:`should_stop` turns true after
    ``patience`` evaluations in a row without a gain (a tie is no gain), and
    :meth:`restore_best` puts the best weights back into the model.

    Args:
        monitor: the validation metric that picks the best weights: "accuracy",
            "macro_f1" or "loss" (lower is better).
        patience: evaluations without a gain that end training.
        checkpoint_dir: if given, each new best is also written there as
            ``best.safetensors``.
    """

    def __init__(
        self,
        monitor: str = "accuracy",
        patience: int = 2,
        checkpoint_dir: str | os.PathLike | None = None,
    ) -> None:
        self.monitor = monitor
        self.patience = patience
        self.checkpoint_dir = None if checkpoint_dir is None else Path(checkpoint_dir)
        self.best_score: float | None = None  # higher is better: a loss is negated
        self.best_epoch: int | None = None
        self.best_weights: dict[str, torch.Tensor] | None = None
        self.evaluations_without_gain = 0

    def update(self, model: nn.Module, metrics: dict[str, float], epoch: int) -> bool:
        """Record one evaluation of ``model``; True (and its weights kept) if it is the best."""
        score = _score(metrics, self.monitor)
        if self.best_score is not None and score <= self.best_score:
            self.evaluations_without_gain += 1
            return False
        self.best_score, self.best_epoch = score, epoch
        # A copy: on the CPU .cpu() returns the very tensors training goes on to change.
        self.best_weights = copy.deepcopy({k: v.cpu() for k, v in model.state_dict().items()})
        self.evaluations_without_gain = 0
        if self.checkpoint_dir is not None:
            _save_checkpoint(model, self.checkpoint_dir)
        return True

    @property
    def should_stop(self) -> bool:
        return self.evaluations_without_gain >= self.patience

    @property
    def best_value(self) -> float | None:
        """The best value of the monitored metric as it reads: a loss as a loss."""
        if self.best_score is None or self.monitor != "loss":
            return self.best_score
        return -self.best_score

    def restore_best(self, model: nn.Module) -> None:
        """Load the best weights into ``model``; without an evaluation it stays as it is."""
        if self.best_weights is not None:
            model.load_state_dict(self.best_weights)


class Task:
    """What :func:`fit` asks of the kind of model it trains: a check of the training data,
    batches, the training loss of one batch and the validation metrics.

    The loop itself (optimiser, schedule, clipping, callbacks, early stopping, the stop
    button, checkpoints, threads, ranks) is the same for every task. Each batch is a dict
    of tensors whose ``"labels"`` has one row per example (the loop counts examples by it).
    """

    def check(self, train_data: Any) -> None:
        """Raise :class:`InputError` when ``train_data`` cannot be trained on."""
        raise NotImplementedError

    def make_loader(self, data: Any, batch_size: int, pad_id: int, **options: Any) -> Any:
        """Batches of ``data``, bucketed and padded with ``pad_id``: this rank's share.
        ``options`` are :func:`workbench.batching.make_loader`'s (``shuffle``, ``seed``,
        ``num_replicas``, ``rank``, ``pin_memory``)."""
        return make_loader(data, batch_size, pad_id, **options)

    def loss(self, model: nn.Module, batch: dict, config: TrainConfig) -> torch.Tensor:
        """The training loss of one batch already on the device (inside autocast)."""
        raise NotImplementedError

    def evaluate(
        self, model: nn.Module, loader: Any, device: torch.device, ranks: Ranks
    ) -> dict[str, float]:
        """Validation metrics over ``loader`` for the whole set (all ranks): ``"loss"``
        and every quantity ``TrainConfig.monitor`` may name for this task."""
        raise NotImplementedError


class ClassificationTask(Task):
    """Text classification: label indices (or a teacher's soft labels) per text; validation
    reports loss, accuracy and macro-F1 on the gold labels."""

    def check(self, train_data: TokenizedDataset) -> None:
        _check_training_data(train_data)

    def loss(self, model: nn.Module, batch: dict, config: TrainConfig) -> torch.Tensor:
        logits = model(batch["input_ids"], batch["attention_mask"]).logits
        return _batch_loss(logits, batch, config)

    def evaluate(
        self, model: nn.Module, loader: Any, device: torch.device, ranks: Ranks
    ) -> dict[str, float]:
        val_loss, preds, golds = evaluate_loss(model, loader, device, ranks)
        return {
            "loss": val_loss,
            "accuracy": float(accuracy_score(golds, preds)),
            "macro_f1": float(f1_score(golds, preds, average="macro", zero_division=0)),
        }


@dataclass
class _Run:
    """What :func:`fit` sets up before the first step."""

    model: nn.Module
    device: torch.device
    ranks: Ranks
    eval_model: nn.Module  # the model, compiled when asked
    step_model: nn.Module  # eval_model, wrapped in DistributedDataParallel across ranks
    train_loader: Any
    val_loader: Any | None
    total_steps: int
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    task: Task


def _check_training_data(train_data: TokenizedDataset) -> None:
    if train_data.labels is None or len(train_data) == 0:
        raise InputError("training data needs at least one labelled example")
    if train_data.soft_labels is None and min(train_data.labels) < 0:
        raise InputError(
            "training examples with label -1 (no gold label) need soft_labels (a teacher's "
            "probabilities) to learn from; label them or give soft labels"
        )


def _setup(
    model: nn.Module,
    train_data: Any,
    val_data: Any | None,
    config: TrainConfig,
    pad_id: int,
    task: Task,
) -> _Run:
    """Device and ranks, the model placed (compiled, wrapped), loaders, optimiser, schedule."""
    device = resolve_device(config.device)
    ranks = setup(device.type)
    if ranks.distributed and device.type == "cuda":
        device = torch.device("cuda", ranks.local_rank)
    model.to(device)
    # torch.compile types its result as a callable; given a Module it returns a Module
    eval_model: nn.Module = (
        torch.compile(model)  # type: ignore[assignment]
        if config.compile and device.type == "cuda"
        else model
    )
    step_model = eval_model
    if ranks.distributed:  # gradients are averaged across ranks in backward
        step_model = DistributedDataParallel(
            eval_model, device_ids=[ranks.local_rank] if device.type == "cuda" else None
        )
    pin = device.type == "cuda"
    shards: dict[str, Any] = {
        "num_replicas": ranks.world_size,
        "rank": ranks.rank,
        "pin_memory": pin,
    }
    train_loader = task.make_loader(
        train_data, config.batch_size, pad_id, shuffle=True, seed=config.seed, **shards
    )
    val_loader = (
        task.make_loader(val_data, config.batch_size * 4, pad_id, shuffle=False, **shards)
        if val_data is not None and len(val_data)
        else None
    )
    total_steps = len(train_loader) * config.num_epochs
    if config.max_steps is not None:
        total_steps = min(total_steps, config.max_steps)
    optimizer = _optimizer(model, config, device)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, _lr_lambda(int(config.warmup_ratio * total_steps), total_steps)
    )
    return _Run(
        model=model,
        device=device,
        ranks=ranks,
        eval_model=eval_model,
        step_model=step_model,
        train_loader=train_loader,
        val_loader=val_loader,
        total_steps=total_steps,
        optimizer=optimizer,
        scheduler=scheduler,
        task=task,
    )


def _batch_loss(logits: torch.Tensor, batch: dict, config: TrainConfig) -> torch.Tensor:
    if "soft_labels" in batch:
        return distillation_loss(
            logits.float(),
            batch["soft_labels"],
            batch["labels"],
            temperature=config.distill_temperature,
            alpha=config.distill_alpha,
            label_smoothing=config.label_smoothing,
        )
    return F.cross_entropy(logits.float(), batch["labels"], label_smoothing=config.label_smoothing)


def _notify(callbacks: Sequence[Callback], event: str, state: TrainState) -> None:
    for callback in callbacks:
        getattr(callback, event)(state)


def _cpu_threads(config: TrainConfig, device: torch.device) -> CpuThreads | None:
    """What sets the thread count of a training on the CPU: a fixed count when the config
    gives one, else one that follows the free cores (see workbench/threads.py)."""
    return CpuThreads(fixed=config.cpu_threads) if device.type == "cpu" else None


def _train_epoch(
    run: _Run,
    config: TrainConfig,
    state: TrainState,
    bar: tqdm,
    callbacks: Sequence[Callback],
    stop_requested: Callable[[], bool],
    threads: CpuThreads | None,
) -> int:
    """One pass over this rank's shard, ending early at the step cap or a stop request.

    Sets ``state.epoch_loss`` to the mean over all ranks; returns how many examples all
    ranks trained on (0: the run was over before this epoch began).
    """
    run.train_loader.batch_sampler.set_epoch(state.epoch)
    run.model.train()
    epoch_loss, epoch_examples = 0.0, 0
    for batch in run.train_loader:
        if state.step >= run.total_steps or stop_requested():
            break
        if threads is not None:
            threads.adjust()
        batch = {k: v.to(run.device, non_blocking=True) for k, v in batch.items()}
        with autocast(run.device):
            loss = run.task.loss(run.step_model, batch, config)
        run.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(run.model.parameters(), config.max_grad_norm)
        run.optimizer.step()
        run.scheduler.step()
        state.step += 1
        state.loss = loss.item()
        state.learning_rate = float(run.scheduler.get_last_lr()[0])
        epoch_loss += state.loss * len(batch["labels"])
        epoch_examples += len(batch["labels"])
        state.epoch_loss = epoch_loss / epoch_examples
        bar.update(1)
        # refresh=False: redraw at tqdm's own pace, not every step; a forced redraw per
        # step floods a notebook's output channel (hundreds of messages per epoch).
        bar.set_postfix(loss=f"{state.loss:.4f}", epoch=state.epoch + 1, refresh=False)
        _notify(callbacks, "on_batch_end", state)
    # A float from here: the sums travel between ranks as float64.
    loss_sum, examples = sum_across_ranks([epoch_loss, epoch_examples], run.ranks)
    if examples:
        state.epoch_loss = loss_sum / examples
    return int(examples)


def _validate(run: _Run, state: TrainState, stopper: EarlyStopping) -> dict[str, float]:
    """Score the validation set into ``state.metrics``, let ``stopper`` judge it, and
    return the epoch record's ``val_`` entries."""
    state.metrics = run.task.evaluate(run.eval_model, run.val_loader, run.device, run.ranks)
    stopper.update(run.model, state.metrics, state.epoch + 1)
    state.best_score, state.best_epoch = stopper.best_score, stopper.best_epoch
    return {f"val_{k}": v for k, v in state.metrics.items()}


def fit(
    model: nn.Module,
    train_data: Any,
    val_data: Any | None,
    config: TrainConfig,
    *,
    pad_id: int,
    task: Task | None = None,
    callbacks: Sequence[Callback] = (),
    stop_event: threading.Event | None = None,
    checkpoint_dir: str | os.PathLike | None = None,
    progress: bool = True,
) -> History:
    """Train ``model`` in place and leave it holding the best validation weights.

    Args:
        model: called as ``model(input_ids=, attention_mask=, labels=)`` (by the default
            task; another ``task`` calls it its own way).
        train_data, val_data: tokenized examples with label indices (a
            :class:`~workbench.batching.TokenizedDataset`, or what ``task`` reads). Without
            validation data there is no early stopping and the last weights are kept. When
            ``train_data`` has ``soft_labels`` the loss is :func:`distillation_loss`;
            validation always uses the gold labels.
        config: optimiser, schedule, stopping, distillation and device settings.
        pad_id: the tokenizer's padding id, for dynamic padding.
        task: the data, loss and validation metrics; None is :class:`ClassificationTask`.
        callbacks: notified on train start, batch end, evaluation, epoch end, train end.
        stop_event: set it from another thread (a Stop button) to end training cleanly.
        checkpoint_dir: if given, the best weights are also written there as safetensors.
        progress: show a ``tqdm.auto`` bar.
    """
    task = task or ClassificationTask()
    task.check(train_data)
    set_seed(config.seed)
    run = _setup(model, train_data, val_data, config, pad_id, task)
    main_rank = run.ranks.is_main
    stopper = EarlyStopping(config.monitor, config.patience, checkpoint_dir if main_rank else None)
    state = TrainState(total_steps=run.total_steps)
    history = History(device=str(run.device))
    threads = _cpu_threads(config, run.device)
    started = time.perf_counter()
    bar = progress_bar(
        total=run.total_steps, show=progress and main_rank, desc="training", unit="step"
    )
    _notify(callbacks, "on_train_start", state)

    def stop_requested() -> bool:
        return state.should_stop or (stop_event is not None and stop_event.is_set())

    try:
        for epoch in range(config.num_epochs):
            state.epoch, epoch_start = epoch, time.perf_counter()
            if _train_epoch(run, config, state, bar, callbacks, stop_requested, threads) == 0:
                break
            record = {
                "epoch": epoch + 1,
                "step": state.step,
                "train_loss": state.epoch_loss,
                "learning_rate": state.learning_rate,
            }
            if run.val_loader is not None:
                record.update(_validate(run, state, stopper))
                _notify(callbacks, "on_evaluate", state)
            record["seconds"] = time.perf_counter() - epoch_start
            history.epochs.append(record)
            _notify(callbacks, "on_epoch_end", state)
            if stopper.should_stop:  # never without validation: nothing was counted
                history.stopped_early = True
                break
            if state.step >= run.total_steps or stop_requested():
                break
    except KeyboardInterrupt:
        # Ctrl-C in a terminal or "interrupt kernel" in Jupyter: keep what was learned.
        state.should_stop = True
    finally:
        bar.close()
        if threads is not None:
            threads.restore()
    history.interrupted = stop_requested()
    stopper.restore_best(model)
    model.eval()
    history.best_epoch, history.best_score = stopper.best_epoch, stopper.best_value
    history.steps, history.seconds = state.step, time.perf_counter() - started
    _notify(callbacks, "on_train_end", state)
    return history
