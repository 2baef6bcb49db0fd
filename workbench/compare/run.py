"""``compare()``: train every model on the same split with the same seed, then score them
all on the same test set."""

from __future__ import annotations

import math
import tempfile
import time
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.compare.registry import resolve_models, signature_names
from workbench.compare.result import LEADERBOARD_COLUMNS, Comparison
from workbench.data import LabeledTexts, plain, validate_labeled
from workbench.errors import InputError, describe_error
from workbench.estimators import TextModel
from workbench.evaluate import Evaluation, evaluate, measure_latency
from workbench.progress import progress_bar
from workbench.train import Callback, set_seed


class LabelMismatchError(InputError):
    """A model's ``classes_`` differ from the training labels: its columns cannot line up."""


def compare(
    models: Sequence[str | tuple[str, TextModel]],
    train: LabeledTexts,
    test: LabeledTexts,
    *,
    seed: int = 0,
    n_bootstrap: int = 1000,
    latency_repeats: int = 50,
    progress: bool = True,
    fitted: Collection[str] = (),
    model_options: dict[str, Any] | None = None,
    on_model_start: Callable[[str, int, int], None] | None = None,
    callbacks: Sequence[Callback] = (),
) -> Comparison:
    """Train every model on ``train`` with the same seed, score all of them on ``test``.

    Args:
        models: registry names (see :func:`~workbench.compare.registered_models`) or
            ``(name, estimator)`` pairs, in any mix.
        train, test: labelled texts (:func:`workbench.data.load_table` and friends).
        seed: seeds every model's training and the bootstrap resampling.
        n_bootstrap: resamples for the metric intervals and the paired differences.
        latency_repeats: single-text ``predict_proba`` calls timed per model (median kept);
            :func:`workbench.evaluate.measure_latency` times them, and the throughput as
            one call on the whole test set, both after a warm-up call.
        progress: a progress bar over the models (their own fits stay quiet).
        fitted: names of models given already trained (e.g. loaded with
            :func:`~workbench.load_model`); they are scored as they are and
            ``train_seconds`` is empty.
        model_options: passed to registry factories that accept them, e.g.
            ``{"num_epochs": 3}``.
        on_model_start: called as ``on_model_start(name, index, total)`` before each model
            is fitted (or, if in ``fitted``, scored), ``index`` counting from 0, in order.
        callbacks: :class:`~workbench.train.Callback` objects handed to the ``fit`` of
            every model whose ``fit`` names a ``callbacks`` parameter (``TextClassifier``,
            the pretrained encoders); e.g. one that reports steps or stops training.

    Returns:
        A :class:`Comparison`. A model that raises while training or predicting is listed
        with its error; the others still finish.

    Raises:
        InputError: on unusable data, test labels that never occur in training (before
            anything is trained), unknown or duplicate model names, or a model whose
            ``classes_`` differ from the training labels (the columns would not line up).
    """
    labels = _check_data(train, test)
    if latency_repeats < 1 or n_bootstrap < 1:
        raise InputError("latency_repeats and n_bootstrap must be at least 1")
    entries = resolve_models(models, seed, model_options)
    unknown_fitted = sorted(set(fitted) - {name for name, _ in entries})
    if unknown_fitted:
        raise InputError(f"fitted= names {unknown_fitted} are not among the models compared")
    for name, model in entries:
        if name in fitted:
            _check_classes(name, model, labels)

    rows, evaluations, probabilities, fitted_models, errors = [], {}, {}, {}, {}
    bar = progress_bar(entries, show=progress, desc="comparing", unit="model")
    for index, (name, model) in enumerate(bar):
        bar.set_postfix(model=name)
        if on_model_start is not None:
            on_model_start(name, index, len(entries))
        row, result, proba = _run_one(
            name,
            model,
            train=train if name not in fitted else None,
            test=test,
            labels=labels,
            seed=seed,
            n_bootstrap=n_bootstrap,
            latency_repeats=latency_repeats,
            callbacks=callbacks,
        )
        if result is not None and proba is not None:  # both or neither
            evaluations[name], probabilities[name], fitted_models[name] = result, proba, model
        if row["error"]:
            errors[name] = row["error"]
        rows.append(row)
    bar.close()
    return Comparison(
        leaderboard=_leaderboard(rows),
        evaluations=evaluations,
        probabilities=probabilities,
        models=fitted_models,
        labels=labels,
        test=test,
        seed=seed,
        n_bootstrap=n_bootstrap,
        errors=errors,
    )


def _run_one(
    name: str,
    model: TextModel,
    *,
    train: LabeledTexts | None,
    test: LabeledTexts,
    labels: list,
    seed: int,
    n_bootstrap: int,
    latency_repeats: int,
    callbacks: Sequence[Callback] = (),
) -> tuple[dict[str, Any], Evaluation | None, np.ndarray | None]:
    """Fit ``model`` on ``train`` (None: it is fitted already) and score it on ``test``:
    its leaderboard row, and its evaluation and test probabilities unless it failed."""
    row: dict[str, Any] = {"model": name, "error": ""}
    try:
        train_seconds = math.nan
        if train is not None:
            set_seed(seed)
            started = time.perf_counter()
            _fit_quietly(model, train, callbacks)
            train_seconds = time.perf_counter() - started
        _check_classes(name, model, labels)
        proba = np.asarray(model.predict_proba(list(test.texts)), dtype=np.float64)
        proba = _align_columns(name, model, proba, labels, len(test))
        latency = measure_latency(model, test.texts, repeats=latency_repeats)
        result = evaluate(  # also rejects "probabilities" that are not (NaN, logits)
            test.require_labels(),
            [labels[i] for i in proba.argmax(axis=1)],
            proba,
            labels=labels,
            n_bootstrap=n_bootstrap,
            seed=seed,
        )
    except LabelMismatchError:
        raise  # not one model's failure: the comparison itself would be wrong
    except Exception as exc:  # any failure of one model must not stop the others
        row["error"] = describe_error(exc, with_type=True)
        return row, None, None
    row.update(
        accuracy=result.accuracy,
        accuracy_low=result.accuracy_ci.low,
        accuracy_high=result.accuracy_ci.high,
        macro_f1=result.macro_f1,
        macro_f1_low=result.macro_f1_ci.low,
        macro_f1_high=result.macro_f1_ci.high,
        ece=result.ece,
        train_seconds=train_seconds,
        latency_ms_p50=latency.p50_ms,
        throughput_per_s=latency.throughput_per_s,
        parameters=_parameters(model),
    )
    try:
        row["artifact_bytes"] = _artifact_bytes(model)
    except Exception as exc:  # scored fine; only saving failed
        row["error"] = f"save failed: {describe_error(exc, with_type=True)}"
    return row, result, proba


def _leaderboard(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per model in :data:`LEADERBOARD_COLUMNS`, best accuracy first, failures last."""
    leaderboard = pd.DataFrame(rows).reindex(columns=LEADERBOARD_COLUMNS)
    leaderboard["error"] = leaderboard["error"].fillna("")
    for column in LEADERBOARD_COLUMNS[1:-1]:
        leaderboard[column] = pd.to_numeric(leaderboard[column], errors="coerce").astype(float)
    return leaderboard.sort_values(
        ["accuracy", "macro_f1"], ascending=False, na_position="last", kind="stable"
    ).reset_index(drop=True)


def _check_data(train: LabeledTexts, test: LabeledTexts) -> list:
    """The training labels, sorted, once both sets are usable and every test label is one."""
    for data, what in ((train, "train"), (test, "test")):
        if not isinstance(data, LabeledTexts) or data.labels is None:
            raise InputError(
                f"{what} must be LabeledTexts with labels, e.g. workbench.load_table(path)"
            )
    validate_labeled(train)
    _check_test(test)
    try:
        labels = sorted(set(train.require_labels()))
        unseen = sorted(set(test.require_labels()) - set(labels), key=str)
    except TypeError as exc:
        raise InputError("train and test labels mix strings and integers; use one kind") from exc
    if unseen:
        raise InputError(
            f"test labels {unseen} never occur in the training data (training labels: "
            f"{labels}); no model can predict them. Fix the labels or the split"
        )
    return labels


def _check_test(test: LabeledTexts) -> None:
    if len(test) == 0:
        raise InputError(f"{test.source}: the test set is empty; give it labelled rows")
    labels = test.require_labels()
    if len(labels) != len(test.texts):
        raise InputError(
            f"{test.source}: {len(test.texts)} texts but {len(labels)} labels; "
            "give one label per text"
        )
    bad = [i for i, t in enumerate(test.texts) if not isinstance(t, str) or not t.strip()]
    if bad:
        raise InputError(
            f"{test.source}: test text {bad[0] + 1} is empty or not a string "
            f"({len(bad)} such row(s)); fill in or remove those rows"
        )
    missing = [i for i, y in enumerate(labels) if y is None]
    if missing:
        raise InputError(
            f"{test.source}: test row {missing[0] + 1} has no label; fill in the labels"
        )


def _fit_quietly(model: TextModel, train: LabeledTexts, callbacks: Sequence[Callback] = ()) -> None:
    # Only a fit that names ``progress`` or ``callbacks`` gets it: a **kwargs fit (a
    # scikit-learn Pipeline) would route it to its steps, which reject it.
    accepted = signature_names(model.fit)[0]
    kwargs: dict[str, Any] = {"progress": False} if "progress" in accepted else {}
    if callbacks and "callbacks" in accepted:
        kwargs["callbacks"] = list(callbacks)
    model.fit(list(train.texts), list(train.require_labels()), **kwargs)


def _check_classes(name: str, model: TextModel, labels: list) -> None:
    classes = getattr(model, "classes_", None)
    if classes is None:
        raise InputError(
            f"model {name!r} has no classes_ after fitting; it must say which label each "
            "predict_proba column belongs to"
        )
    found = [plain(c) for c in list(classes)]
    if sorted(found, key=str) != sorted(labels, key=str) or len(set(found)) != len(found):
        raise LabelMismatchError(
            f"model {name!r} has classes_ {found}, which differ from the training labels "
            f"{labels}; models trained on different label sets cannot be compared. Train "
            "them all on the same data (or drop it from fitted=)"
        )


def _align_columns(
    name: str, model: TextModel, proba: np.ndarray, labels: list, n: int
) -> np.ndarray:
    """Reorder columns from the model's ``classes_`` to the comparison's label order."""
    if proba.shape != (n, len(labels)):
        raise ValueError(
            f"predict_proba returned shape {proba.shape}, expected ({n}, {len(labels)})"
        )
    classes = [plain(c) for c in list(model.classes_)]
    return proba[:, [classes.index(label) for label in labels]]


def _parameters(model: TextModel) -> float:
    counter = getattr(model, "num_parameters", None)
    if not callable(counter):
        return math.nan
    try:
        return float(counter())
    except Exception:  # a count is nice to have, never worth failing a model over
        return math.nan


def _artifact_bytes(model: TextModel) -> float:
    save = getattr(model, "save", None)
    if not callable(save):
        return math.nan
    with tempfile.TemporaryDirectory(prefix="workbench-compare-") as scratch:
        target = Path(scratch) / "artifact"
        save(target)
        return float(sum(p.stat().st_size for p in target.rglob("*") if p.is_file()))
