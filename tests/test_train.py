"""Tests for workbench.train: history, schedule, callbacks, stopping, checkpoints, seeds."""

from __future__ import annotations

import json
import math
import random
import threading
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from sklearn.metrics import accuracy_score

from workbench.batching import TokenizedDataset, make_loader
from workbench.config import ModelConfig, TrainConfig
from workbench.errors import InputError
from workbench.model import TransformerClassifier
from workbench.tokenizer import WordTokenizer
from workbench.train import (
    Callback,
    EarlyStopping,
    History,
    distillation_loss,
    evaluate_loss,
    fit,
    resolve_device,
)

BATCH_SIZE = 8
NUM_TRAIN = 32
STEPS_PER_EPOCH = NUM_TRAIN // BATCH_SIZE  # one length-bucket pool, so exactly 4 batches
LEARNING_RATE = 5e-3


class Recorder(Callback):
    """Records every event with the step and epoch it saw, and the learning rates."""

    def __init__(self) -> None:
        self.events: list[tuple[str, int, int]] = []
        self.learning_rates: list[float] = []

    def _note(self, name, state) -> None:
        self.events.append((name, state.step, state.epoch))

    def on_train_start(self, state):
        self._note("train_start", state)

    def on_batch_end(self, state):
        self._note("batch_end", state)
        self.learning_rates.append(state.learning_rate)

    def on_evaluate(self, state):
        self._note("evaluate", state)

    def on_epoch_end(self, state):
        self._note("epoch_end", state)

    def on_train_end(self, state):
        self._note("train_end", state)

    def names(self) -> list[str]:
        return [name for name, _, _ in self.events]


class AtStep(Callback):
    """Calls ``action(state)`` at the end of batch ``step``."""

    def __init__(self, step: int, action) -> None:
        self.step, self.action = step, action

    def on_batch_end(self, state):
        if state.step == self.step:
            self.action(state)


@pytest.fixture(scope="module")
def task(make_corpus):
    texts, labels = make_corpus(NUM_TRAIN, seed=3)
    val_texts, val_labels = make_corpus(16, seed=4)
    tokenizer = WordTokenizer.train(texts)
    index = {"negative": 0, "positive": 1}

    def encode(some_texts, some_labels):
        ids = [e.ids for e in tokenizer.encode_batch(some_texts, 32)]
        return TokenizedDataset(ids, [index[y] for y in some_labels])

    val = encode(val_texts, val_labels)
    return SimpleNamespace(
        tokenizer=tokenizer,
        pad_id=tokenizer.pad_id,
        train=encode(texts, labels),
        val=val,
        # Same texts with every label flipped: the better the model learns, the worse it does.
        flipped_val=TokenizedDataset(val.input_ids, [1 - y for y in val.labels]),
    )


def build_model(task, seed: int = 0, dropout: float = 0.1) -> TransformerClassifier:
    torch.manual_seed(seed)
    return TransformerClassifier(
        ModelConfig(
            vocab_size=task.tokenizer.vocab_size,
            num_labels=2,
            pad_token_id=task.pad_id,
            d_model=32,
            num_heads=2,
            num_layers=1,
            d_ff=64,
            max_length=32,
            dropout=dropout,
        )
    )


def train_config(**overrides) -> TrainConfig:
    settings = {
        "num_epochs": 2,
        "batch_size": BATCH_SIZE,
        "learning_rate": LEARNING_RATE,
        "device": "cpu",
        "seed": 0,
        "patience": 100,
    }
    return TrainConfig(**{**settings, **overrides})


def run_fit(task, config, *, val="val", model=None, **kwargs):
    model = model if model is not None else build_model(task)
    val_data = getattr(task, val) if val is not None else None
    history = fit(model, task.train, val_data, config, pad_id=task.pad_id, progress=False, **kwargs)
    return model, history


def test_fit_returns_history_with_per_epoch_records(task):
    model, history = run_fit(task, train_config(num_epochs=3))

    assert isinstance(history, History)
    assert [r["epoch"] for r in history.epochs] == [1, 2, 3]
    assert [r["step"] for r in history.epochs] == [4, 8, 12]
    for record in history.epochs:
        for key in ("train_loss", "val_loss", "val_accuracy", "val_macro_f1", "seconds"):
            assert math.isfinite(record[key]), key
        assert record["train_loss"] > 0
        assert 0.0 <= record["val_accuracy"] <= 1.0
        assert 0.0 <= record["val_macro_f1"] <= 1.0
        assert record["seconds"] > 0
    # The task is learnable: the loss falls and the best model beats chance.
    assert history.epochs[-1]["train_loss"] < history.epochs[0]["train_loss"]
    assert history.steps == 3 * STEPS_PER_EPOCH
    assert not history.stopped_early and not history.interrupted
    assert history.device == "cpu"
    best = history.epochs[history.best_epoch - 1]
    assert history.best_score == best["val_accuracy"]
    assert history.best_score == max(r["val_accuracy"] for r in history.epochs)
    assert history.best_score > 0.6
    assert history.seconds >= sum(r["seconds"] for r in history.epochs)
    assert not model.training
    assert json.loads(json.dumps(history.to_dict()))["steps"] == history.steps


def test_learning_rate_warms_up_then_decays(task):
    recorder = Recorder()
    run_fit(task, train_config(num_epochs=4, warmup_ratio=0.25), callbacks=[recorder])
    rates = recorder.learning_rates

    assert len(rates) == 4 * STEPS_PER_EPOCH
    peak = rates.index(max(rates))
    assert max(rates) == pytest.approx(LEARNING_RATE)
    assert peak >= 1, "no warm-up: the first step already ran at the peak rate"
    assert all(a < b for a, b in zip(rates[:peak], rates[1 : peak + 1], strict=True))
    assert all(a >= b for a, b in zip(rates[peak:], rates[peak + 1 :], strict=False))
    assert rates[0] <= LEARNING_RATE / 2
    assert rates[-2] < LEARNING_RATE
    assert rates[-1] == pytest.approx(0.0, abs=1e-12)


def test_callbacks_receive_events_in_order(task):
    recorder = Recorder()
    run_fit(task, train_config(num_epochs=2), callbacks=[recorder])

    epoch = ["batch_end"] * STEPS_PER_EPOCH + ["evaluate", "epoch_end"]
    assert recorder.names() == ["train_start", *epoch, *epoch, "train_end"]
    batch_events = [(step, ep) for name, step, ep in recorder.events if name == "batch_end"]
    assert [step for step, _ in batch_events] == list(range(1, 2 * STEPS_PER_EPOCH + 1))
    assert [ep for _, ep in batch_events] == [0] * STEPS_PER_EPOCH + [1] * STEPS_PER_EPOCH


def test_callbacks_see_validation_metrics_on_evaluate(task):
    seen = []

    class Metrics(Callback):
        def on_evaluate(self, state):
            seen.append(dict(state.metrics))

    _, history = run_fit(task, train_config(num_epochs=2), callbacks=[Metrics()])

    assert [set(m) for m in seen] == [{"loss", "accuracy", "macro_f1"}] * 2
    assert [m["accuracy"] for m in seen] == [r["val_accuracy"] for r in history.epochs]
    assert [m["loss"] for m in seen] == [r["val_loss"] for r in history.epochs]


def test_max_steps_caps_the_steps_exactly(task):
    recorder = Recorder()
    _, history = run_fit(task, train_config(num_epochs=10, max_steps=6), callbacks=[recorder])

    assert history.steps == 6
    assert recorder.names().count("batch_end") == 6
    assert [r["step"] for r in history.epochs] == [4, 6]
    assert not history.interrupted and not history.stopped_early
    # The schedule is laid out over the capped run, so it reaches zero at the cap.
    assert recorder.learning_rates[-1] == pytest.approx(0.0, abs=1e-12)


def test_early_stopping_when_validation_cannot_improve(task):
    # Every validation text is the same token sequence with alternating labels: any model
    # predicts one class for all of them, so accuracy is 0.5 forever and never improves.
    same = task.train.input_ids[0]
    constant_val = TokenizedDataset([list(same)] * 8, [0, 1] * 4)
    model = build_model(task)
    history = fit(
        model,
        task.train,
        constant_val,
        train_config(num_epochs=20, patience=2),
        pad_id=task.pad_id,
        progress=False,
    )

    assert history.stopped_early
    assert not history.interrupted
    assert len(history.epochs) == 3  # the first evaluation, then `patience` without gain
    assert history.steps == 3 * STEPS_PER_EPOCH
    assert [r["val_accuracy"] for r in history.epochs] == [0.5, 0.5, 0.5]
    assert history.best_epoch == 1


def test_best_weights_are_restored(task):
    # On flipped validation labels the loss grows as the model learns the training task,
    # so the best epoch (lowest validation loss) comes before the last one.
    snapshots = []

    class Snapshot(Callback):
        def __init__(self, model):
            self.model = model

        def on_evaluate(self, state):
            snapshots.append({k: v.detach().clone() for k, v in self.model.state_dict().items()})

    model = build_model(task)
    config = train_config(num_epochs=4, monitor="loss")
    history = fit(
        model,
        task.train,
        task.flipped_val,
        config,
        pad_id=task.pad_id,
        callbacks=[Snapshot(model)],
        progress=False,
    )
    losses = [r["val_loss"] for r in history.epochs]
    best = history.best_epoch

    assert best < len(history.epochs), f"setup: best epoch should not be the last ({losses})"
    assert history.best_score == pytest.approx(min(losses))
    assert losses[best - 1] == min(losses)
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, snapshots[best - 1][name]), name
    loader = make_loader(task.flipped_val, 32, task.pad_id, shuffle=False)
    loss, preds, golds = evaluate_loss(model, loader, torch.device("cpu"))
    assert loss == pytest.approx(losses[best - 1], rel=1e-5)
    assert loss != pytest.approx(losses[-1], rel=1e-3)
    assert accuracy_score(golds, preds) == history.epochs[best - 1]["val_accuracy"]


def test_stop_event_set_from_callback_stops_training(task):
    stop = threading.Event()
    recorder = Recorder()
    _, history = run_fit(
        task,
        train_config(num_epochs=5),
        callbacks=[AtStep(3, lambda state: stop.set()), recorder],
        stop_event=stop,
    )

    assert history.interrupted
    assert not history.stopped_early
    assert history.steps == 3
    assert recorder.names().count("batch_end") == 3
    assert recorder.names()[-1] == "train_end"
    assert [r["step"] for r in history.epochs] == [3]


def test_should_stop_set_by_callback_stops_training(task):
    def request_stop(state):
        state.should_stop = True

    recorder = Recorder()
    _, history = run_fit(
        task, train_config(num_epochs=5), callbacks=[AtStep(5, request_stop), recorder]
    )

    assert history.interrupted
    assert history.steps == 5
    assert recorder.names().count("batch_end") == 5
    assert recorder.names()[-1] == "train_end"


def test_keyboard_interrupt_from_callback_ends_training_cleanly(task):
    def interrupt(state):
        raise KeyboardInterrupt

    recorder = Recorder()
    model, history = run_fit(
        task, train_config(num_epochs=5), callbacks=[recorder, AtStep(6, interrupt)]
    )

    assert history.interrupted
    assert history.steps == 6
    assert recorder.names().count("batch_end") == 6
    assert recorder.names()[-1] == "train_end"
    assert not model.training
    # The finished epoch was evaluated; its best weights are what the model holds now.
    assert history.best_epoch == 1
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_checkpoint_dir_gets_best_safetensors(task, tmp_path):
    checkpoints = tmp_path / "nested" / "ckpt"
    model, _ = run_fit(task, train_config(num_epochs=2), checkpoint_dir=checkpoints)

    assert sorted(p.name for p in checkpoints.iterdir()) == ["best.safetensors"]
    weights = load_file(checkpoints / "best.safetensors")
    state = model.state_dict()
    assert set(weights) == set(state)
    for name, tensor in state.items():
        assert torch.equal(weights[name], tensor), name


def test_without_validation_trains_all_epochs_and_keeps_last_weights(task):
    _, history = run_fit(task, train_config(num_epochs=3, patience=1), val=None)

    assert history.steps == 3 * STEPS_PER_EPOCH
    assert len(history.epochs) == 3
    assert not history.stopped_early
    assert history.best_epoch is None and history.best_score is None
    assert all("val_loss" not in r for r in history.epochs)


def _fit_weights_and_history(task, seed, global_rng_state):
    model = build_model(task)  # the same initial weights every time
    # Leave the global RNGs somewhere else each run: only the config seed may matter.
    torch.manual_seed(global_rng_state)
    np.random.seed(global_rng_state)
    random.seed(global_rng_state)
    model, history = run_fit(task, train_config(num_epochs=2, seed=seed), model=model)
    records = [{k: v for k, v in r.items() if k != "seconds"} for r in history.epochs]
    return model.state_dict(), records


def test_same_seed_gives_bitwise_identical_weights_and_history(task):
    first_weights, first_history = _fit_weights_and_history(task, 7, global_rng_state=1)
    second_weights, second_history = _fit_weights_and_history(task, 7, global_rng_state=2)
    other_weights, _ = _fit_weights_and_history(task, 8, global_rng_state=1)

    assert first_history == second_history
    assert set(first_weights) == set(second_weights)
    for name in first_weights:
        assert torch.equal(first_weights[name], second_weights[name]), name
    assert any(not torch.equal(first_weights[n], other_weights[n]) for n in first_weights)


def test_empty_training_data_raises_input_error(task):
    with pytest.raises(InputError, match="at least one labelled example"):
        fit(build_model(task), TokenizedDataset([], []), None, train_config(), pad_id=0)


# ---------------------------------------------------------------- early stopping


def _linear(value: float) -> torch.nn.Linear:
    layer = torch.nn.Linear(2, 1)
    with torch.no_grad():
        layer.weight.fill_(value)
        layer.bias.fill_(value)
    return layer


def _metrics(accuracy: float = 0.5, loss: float = 1.0) -> dict[str, float]:
    return {"loss": loss, "accuracy": accuracy, "macro_f1": accuracy}


def test_early_stopping_keeps_the_best_and_stops_after_patience_evaluations_without_gain():
    stopper = EarlyStopping(monitor="accuracy", patience=2)
    model = _linear(1.0)

    assert stopper.update(model, _metrics(0.6), epoch=1)  # improves
    assert (stopper.best_epoch, stopper.best_score, stopper.best_value) == (1, 0.6, 0.6)
    with torch.no_grad():
        model.weight.fill_(2.0)
    assert not stopper.update(model, _metrics(0.6), epoch=2)  # a tie is no gain: waits
    assert not stopper.should_stop
    assert not stopper.update(model, _metrics(0.5), epoch=3)
    assert stopper.should_stop  # patience 2 spent
    assert stopper.best_epoch == 1

    stopper.restore_best(model)
    assert torch.equal(model.weight, torch.ones(1, 2))
    assert torch.equal(model.bias, torch.ones(1))


def test_early_stopping_counts_again_from_zero_after_a_gain():
    stopper = EarlyStopping(monitor="macro_f1", patience=2)
    model = _linear(0.0)
    stopper.update(model, _metrics(0.5), epoch=1)
    stopper.update(model, _metrics(0.4), epoch=2)
    assert stopper.update(model, _metrics(0.7), epoch=3)
    assert stopper.evaluations_without_gain == 0
    stopper.update(model, _metrics(0.7), epoch=4)
    assert not stopper.should_stop


def test_early_stopping_on_loss_keeps_the_lowest_and_reports_it_as_a_loss():
    stopper = EarlyStopping(monitor="loss", patience=5)
    model = _linear(0.0)
    for epoch, loss in enumerate([0.9, 0.4, 0.7], start=1):
        stopper.update(model, _metrics(loss=loss), epoch=epoch)

    assert stopper.best_epoch == 2
    assert stopper.best_score == -0.4  # higher is better inside, as for every metric
    assert stopper.best_value == 0.4


def test_early_stopping_keeps_a_copy_not_the_live_weights():
    stopper = EarlyStopping()
    model = _linear(1.0)
    stopper.update(model, _metrics(0.6), epoch=1)
    with torch.no_grad():
        model.weight.add_(5.0)  # training goes on in place

    stopper.restore_best(model)
    assert torch.equal(model.weight, torch.ones(1, 2))


def test_early_stopping_without_an_evaluation_restores_nothing():
    stopper = EarlyStopping()
    model = _linear(3.0)
    stopper.restore_best(model)

    assert torch.equal(model.weight, torch.full((1, 2), 3.0))
    assert stopper.best_epoch is None and stopper.best_value is None
    assert not stopper.should_stop


def test_early_stopping_writes_the_checkpoint_on_each_gain_only(tmp_path):
    stopper = EarlyStopping(patience=3, checkpoint_dir=tmp_path / "ckpt")
    model = _linear(1.0)
    stopper.update(model, _metrics(0.6), epoch=1)
    with torch.no_grad():
        model.weight.fill_(2.0)
    stopper.update(model, _metrics(0.5), epoch=2)  # no gain: the file keeps epoch 1

    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == ["best.safetensors"]
    assert torch.equal(
        load_file(tmp_path / "ckpt" / "best.safetensors")["weight"], torch.ones(1, 2)
    )


def test_a_failed_checkpoint_write_keeps_the_previous_one_and_no_temporary(tmp_path, monkeypatch):
    import workbench.train as train_module

    stopper = EarlyStopping(patience=3, checkpoint_dir=tmp_path)
    stopper.update(_linear(1.0), _metrics(0.6), epoch=1)

    def full_disk(weights, path):
        Path(path).write_bytes(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(train_module, "save_file", full_disk)
    with pytest.raises(OSError, match="No space"):
        stopper.update(_linear(2.0), _metrics(0.7), epoch=2)

    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.safetensors"]
    assert torch.equal(load_file(tmp_path / "best.safetensors")["weight"], torch.ones(1, 2))


# ------------------------------------------------------------------ distillation
def test_distillation_loss_matches_the_formula_on_a_hand_example():
    # Teacher (0.8, 0.2) softened at T = 2 is sqrt(p) normalised: exactly (2/3, 1/3).
    # Student logits (2, 0) at T = 2 are softmax(1, 0).
    q = (math.e / (1 + math.e), 1 / (1 + math.e))
    kl = 2 / 3 * math.log(2 / 3 / q[0]) + 1 / 3 * math.log(1 / 3 / q[1])
    ce = math.log(1 + math.exp(-2))  # -log softmax(2, 0)[0]
    loss = distillation_loss(
        torch.tensor([[2.0, 0.0]]),
        torch.tensor([[0.8, 0.2]]),
        torch.tensor([0]),
        temperature=2.0,
        alpha=0.25,
    )
    assert loss.item() == pytest.approx(0.25 * 4 * kl + 0.75 * ce, rel=1e-6)


def test_distillation_loss_averages_cross_entropy_over_gold_labelled_rows_only():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    teacher = torch.tensor([[0.9, 0.1], [0.3, 0.7], [0.5, 0.5]])
    labels = torch.tensor([0, -1, 1])  # the middle row has no gold label
    kwargs = {"temperature": 3.0, "label_smoothing": 0.1}

    soft_only = distillation_loss(logits, teacher, labels, alpha=1.0, **kwargs)
    hard_only = distillation_loss(logits, teacher, labels, alpha=0.0, **kwargs)

    gold = labels >= 0
    expected_ce = F.cross_entropy(logits[gold], labels[gold], label_smoothing=0.1)
    assert hard_only.item() == pytest.approx(expected_ce.item(), rel=1e-6)
    log_p = (teacher.log() / 3.0).log_softmax(-1)
    expected_kl = F.kl_div(
        (logits / 3.0).log_softmax(-1), log_p, log_target=True, reduction="batchmean"
    )
    assert soft_only.item() == pytest.approx(9.0 * expected_kl.item(), rel=1e-6)


def test_distillation_loss_is_zero_soft_term_when_student_matches_teacher():
    teacher = torch.tensor([[0.7, 0.2, 0.1]])
    loss = distillation_loss(teacher.log(), teacher, torch.tensor([-1]), temperature=2.0, alpha=1.0)
    assert loss.item() == pytest.approx(0.0, abs=1e-7)


def test_distillation_loss_with_the_wrong_number_of_columns_raises_input_error():
    with pytest.raises(InputError, match="3 columns but the model predicts 2 classes"):
        distillation_loss(
            torch.zeros(1, 2), torch.full((1, 3), 1 / 3), torch.tensor([0]), temperature=1, alpha=1
        )


def with_soft_labels(data: TokenizedDataset, soft, labels=None) -> TokenizedDataset:
    return TokenizedDataset(data.input_ids, labels or data.labels, np.asarray(soft))


def test_fit_with_soft_labels_only_follows_the_teacher(task):
    # A teacher that contradicts the gold labels: with alpha = 1 and no gold labels at all,
    # the student can only have learnt the teacher's answers.
    flipped = [[0.9, 0.1] if y == 1 else [0.1, 0.9] for y in task.train.labels]
    data = with_soft_labels(task.train, flipped, [-1] * len(task.train))
    model = build_model(task)
    fit(
        model,
        data,
        None,
        train_config(num_epochs=6, distill_alpha=1.0),
        pad_id=task.pad_id,
        progress=False,
    )
    _, preds, golds = evaluate_loss(
        model, make_loader(task.train, 32, task.pad_id, shuffle=False), torch.device("cpu")
    )
    assert accuracy_score(1 - golds, preds) >= 0.9


def test_validation_uses_gold_labels_even_when_it_has_soft_labels(task):
    # Soft labels on the validation set must not reach the model (it takes no such input)
    # nor change the validation loss.
    uniform = np.full((len(task.val), 2), 0.5)
    model, _ = run_fit(task, train_config(num_epochs=1))
    loader = make_loader(with_soft_labels(task.val, uniform), 32, task.pad_id, shuffle=False)
    plain = make_loader(task.val, 32, task.pad_id, shuffle=False)
    cpu = torch.device("cpu")
    assert evaluate_loss(model, loader, cpu)[0] == evaluate_loss(model, plain, cpu)[0]


def test_examples_without_gold_label_need_soft_labels(task):
    data = TokenizedDataset(task.train.input_ids, [-1] * len(task.train))
    with pytest.raises(InputError, match="label -1.*need soft_labels"):
        fit(build_model(task), data, None, train_config(), pad_id=task.pad_id, progress=False)


@pytest.mark.skipif(
    torch.cuda.is_available() or torch.backends.mps.is_available(),
    reason="auto picks an accelerator when one is present",
)
def test_resolve_device_auto_is_cpu_without_accelerator():
    assert resolve_device("auto") == torch.device("cpu")
    assert resolve_device() == torch.device("cpu")


def test_resolve_device_cpu():
    assert resolve_device("cpu") == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is present")
@pytest.mark.parametrize("name", ["cuda", "cuda:0"])
def test_resolve_device_cuda_without_cuda_raises_input_error(name):
    with pytest.raises(InputError, match="use 'cpu'"):
        resolve_device(name)


def test_resolve_device_unknown_name_raises_input_error():
    with pytest.raises(InputError, match="unknown device 'tpu-9000'"):
        resolve_device("tpu-9000")


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is present")
def test_fit_on_missing_cuda_raises_input_error(task):
    with pytest.raises(InputError, match="CUDA"):
        run_fit(task, train_config(device="cuda"))
