"""Classification metrics with bootstrap confidence intervals and calibration.

:func:`evaluate` turns true labels, predicted labels and (optionally) predicted
probabilities into an :class:`Evaluation`: accuracy and macro-F1 with percentile
bootstrap intervals, per-class precision/recall/F1, the confusion matrix, ROC-AUC
for binary tasks and the expected calibration error (ECE).

Point metrics come from scikit-learn; only what it lacks (ECE, the bootstrap) is
written here. The bootstrap inside :func:`evaluate` is vectorised (no Python loop over
the resamples); :func:`bootstrap_ci` is the general version for any
``metric(y_true, y_pred)`` and draws exactly the same resamples for the same seed, so the
two agree.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
    roc_auc_score,
)

from workbench.data import plain
from workbench.errors import InputError
from workbench.estimators import TextModel

# Rows of a probability matrix may drift from 1 by float32 rounding in softmax;
# anything further off means the columns are not probabilities (e.g. logits).
PROBA_SUM_TOLERANCE = 1e-3

# Fifteen bins, as in Guo et al. (2017), unless a caller asks otherwise.
DEFAULT_ECE_BINS = 15

# Resample indices are drawn in chunks of at most this many entries (32 MiB of
# int64), so memory stays bounded however large n * n_resamples gets.
_MAX_INDICES_PER_CHUNK = 1 << 22


@dataclass(frozen=True)
class ConfidenceInterval:
    """A two-sided interval ``[low, high]`` at the given confidence level (e.g. 0.95)."""

    low: float
    high: float
    confidence: float


@dataclass(frozen=True)
class Evaluation:
    """Metrics of one set of predictions; build it with :func:`evaluate`.

    ``labels`` gives the order of the confusion-matrix rows (true) and columns
    (predicted); ``per_class`` maps ``str(label)`` to precision, recall, f1 and support.
    ``roc_auc`` is set for binary tasks with probabilities and both classes in ``y_true``,
    ``ece`` whenever probabilities are given; otherwise they are ``None``. ``notes`` say
    what a number does not mean here, e.g. on a test set of one class (only positive
    reviews, a legitimate set to score) ROC-AUC is undefined and macro-F1 counts the
    absent class as 0.
    """

    n: int
    labels: list
    accuracy: float
    macro_f1: float
    accuracy_ci: ConfidenceInterval
    macro_f1_ci: ConfidenceInterval
    per_class: dict
    confusion_matrix: list[list[int]]
    roc_auc: float | None
    ece: float | None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """Return the metrics as plain dicts, lists, floats and ints, ready for ``json.dumps``."""
        return asdict(self)

    def summary(self) -> str:
        """Return a compact multi-line text table for terminals."""
        conf = f"{self.accuracy_ci.confidence * 100:g}%"
        lines = [
            f"n = {self.n}  ({conf} percentile bootstrap intervals)",
            _metric_line("accuracy", self.accuracy, self.accuracy_ci),
            _metric_line("macro-F1", self.macro_f1, self.macro_f1_ci),
            f"{'ECE':<10}{'n/a' if self.ece is None else f'{self.ece:.3f}'}",
            f"{'ROC-AUC':<10}{'n/a' if self.roc_auc is None else f'{self.roc_auc:.3f}'}",
            "",
        ]
        width = max(5, *(len(name) for name in self.per_class))
        lines.append(f"{'label':<{width}}  precision  recall     F1  support")
        for name, scores in self.per_class.items():
            lines.append(
                f"{name:<{width}}  {scores['precision']:>9.3f}  {scores['recall']:>6.3f}"
                f"  {scores['f1']:>5.3f}  {scores['support']:>7d}"
            )
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines)


def _metric_line(name: str, value: float, ci: ConfidenceInterval) -> str:
    return f"{name:<10}{value:.3f}  [{ci.low:.3f}, {ci.high:.3f}]"


def evaluate(
    y_true: Sequence,
    y_pred: Sequence,
    proba: Any = None,
    *,
    labels: Sequence | None = None,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Evaluation:
    """Score predictions against true labels.

    Args:
        y_true: true labels (strings or ints), one per example.
        y_pred: predicted labels, one per example.
        proba: optional ``(n, k)`` array of predicted probabilities whose columns follow
            ``labels`` (a classifier's ``classes_``); rows must sum to 1. Enables ECE and,
            for two classes, ROC-AUC with ``labels[1]`` as the positive class.
        labels: the class names and their order. Defaults to the sorted union of
            ``y_true`` and ``y_pred``; required when ``proba`` is given. Every label
            counts in macro-F1, even one absent from both (it scores 0).
        n_bootstrap: number of bootstrap resamples for the intervals.
        confidence: level of the two-sided intervals, in (0, 1).
        seed: seed of the resampling, for reproducible intervals.

    Returns:
        An :class:`Evaluation`. Macro-F1 and per-class scores use ``zero_division=0``.

    Raises:
        InputError: on empty input, mismatched lengths, unknown labels, a malformed
            ``proba``, or ``confidence`` / ``n_bootstrap`` out of range.
    """
    true_list = _label_list(y_true, "y_true")
    pred_list = _label_list(y_pred, "y_pred")
    n = len(true_list)
    if n == 0:
        raise InputError("y_true is empty; evaluate needs at least one example.")
    if len(pred_list) != n:
        raise InputError(
            f"y_true has {n} labels but y_pred has {len(pred_list)}; "
            "pass exactly one prediction per example."
        )
    _check_confidence(confidence)
    _check_n_resamples(n_bootstrap, "n_bootstrap")
    label_list = _class_order(labels, true_list, pred_list, with_proba=proba is not None)
    k = len(label_list)
    index = {label: i for i, label in enumerate(label_list)}
    true_idx = _to_indices(true_list, index, "y_true")
    pred_idx = _to_indices(pred_list, index, "y_pred")
    proba_arr = None if proba is None else _check_proba(proba, n, k)

    class_ids = list(range(k))
    per_class, support = _per_class_scores(true_idx, pred_idx, label_list)
    accuracies, macro_f1s = _bootstrap_accuracy_and_macro_f1(
        true_idx, pred_idx, k, n_resamples=n_bootstrap, seed=seed
    )
    return Evaluation(
        n=n,
        labels=label_list,
        accuracy=float(accuracy_score(true_idx, pred_idx)),
        macro_f1=float(
            f1_score(true_idx, pred_idx, labels=class_ids, average="macro", zero_division=0)
        ),
        accuracy_ci=percentile_interval(accuracies, confidence),
        macro_f1_ci=percentile_interval(macro_f1s, confidence),
        per_class=per_class,
        confusion_matrix=confusion_matrix(true_idx, pred_idx, labels=class_ids).tolist(),
        roc_auc=None if proba_arr is None else _binary_roc_auc(true_idx, proba_arr),
        ece=None if proba_arr is None else _ece(true_idx, proba_arr, n_bins=DEFAULT_ECE_BINS),
        notes=_absent_class_notes(label_list, support, with_proba=proba_arr is not None),
    )


def _class_order(labels: Any, true_list: list, pred_list: list, *, with_proba: bool) -> list:
    """The class names in column order: ``labels`` checked, or the sorted labels seen."""
    if labels is not None:
        label_list = _label_list(labels, "labels")
        if not label_list:
            raise InputError("labels is empty; pass the class names, e.g. classifier.classes_.")
        if len(set(label_list)) != len(label_list):
            raise InputError(f"labels contains duplicates: {label_list}; list each class once.")
        return label_list
    if with_proba:
        raise InputError(
            "proba is given but labels is not; pass labels=<the classifier's classes_> "
            "so the probability columns can be matched to class names."
        )
    try:
        return sorted(set(true_list) | set(pred_list))
    except TypeError as err:
        raise InputError(
            "y_true and y_pred mix label types (e.g. strings and ints) that cannot be "
            "sorted; use one type, or pass labels= to fix the order."
        ) from err


def _per_class_scores(
    true_idx: np.ndarray, pred_idx: np.ndarray, labels: list
) -> tuple[dict, np.ndarray]:
    """Precision, recall, F1 and support by ``str(label)``, and the supports as an array."""
    precision, recall, f1, support = precision_recall_fscore_support(
        true_idx, pred_idx, labels=list(range(len(labels))), zero_division=0
    )
    per_class = {
        str(label): {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
        }
        for i, label in enumerate(labels)
    }
    return per_class, support


def _absent_class_notes(labels: list, support: np.ndarray, *, with_proba: bool) -> list[str]:
    """What the metrics mean when some class has no example in ``y_true``."""
    absent = [label for label, count in zip(labels, support, strict=True) if count == 0]
    if not absent:
        return []
    k, present = len(labels), len(labels) - len(absent)
    notes = [
        f"no example of {', '.join(map(repr, absent))} in y_true: F1 of an absent class "
        f"counts as 0 in macro-F1 (the mean over all {k} labels), so macro-F1 is at most "
        f"{present}/{k} here; accuracy and the scores of the classes present are what this "
        "set measures"
    ]
    if with_proba and k == 2:
        notes.append(
            "ROC-AUC is n/a: it ranks examples of one class against the other, and y_true "
            "holds only one class"
        )
    return notes


def expected_calibration_error(
    y_true_idx: Sequence[int], proba: Any, *, n_bins: int = DEFAULT_ECE_BINS
) -> float:
    """Expected calibration error of the top-class confidence (Guo et al., 2017).

    Each example's confidence is its largest probability and its prediction that
    column. Confidences are split into ``n_bins`` equal-width bins over [0, 1]; bins are
    right-inclusive, ``(lo, hi]``, with a confidence of exactly 0 in the first bin. The
    ECE is the mean over bins of ``|accuracy - mean confidence|``, weighted by the share
    of examples in the bin; 0 means perfectly calibrated.

    Args:
        y_true_idx: true class of each example, as a column index into ``proba``.
        proba: ``(n, k)`` predicted probabilities; rows must sum to 1.
        n_bins: number of equal-width confidence bins.

    Raises:
        InputError: on empty input, mismatched lengths, indices outside ``[0, k)``,
            a malformed ``proba`` or ``n_bins`` < 1.
    """
    true_idx = np.asarray(y_true_idx)
    if true_idx.ndim != 1 or true_idx.size == 0:
        raise InputError(
            f"y_true_idx must be a non-empty 1-D sequence of class indices; "
            f"got shape {true_idx.shape}."
        )
    if not np.issubdtype(true_idx.dtype, np.integer):
        raise InputError(
            f"y_true_idx must hold integer column indices into proba, got dtype "
            f"{true_idx.dtype}; map label names to indices with the classifier's classes_."
        )
    proba_arr = _check_proba(proba, len(true_idx), None)
    k = proba_arr.shape[1]
    if true_idx.min() < 0 or true_idx.max() >= k:
        raise InputError(
            f"y_true_idx must lie in [0, {k}) to index the {k} columns of proba; "
            f"found values from {true_idx.min()} to {true_idx.max()}."
        )
    if not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise InputError(f"n_bins must be a positive integer, got {n_bins!r}.")
    return _ece(true_idx, proba_arr, n_bins=int(n_bins))


def bootstrap_ci(
    metric: Callable[[np.ndarray, np.ndarray], float],
    y_true: Sequence,
    y_pred: Sequence,
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> ConfidenceInterval:
    """Percentile bootstrap interval of any ``metric(y_true, y_pred) -> float``.

    Resamples example indices with replacement (numpy ``Generator`` seeded by ``seed``),
    calls ``metric`` on each resample (as numpy arrays) and takes the
    ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles. This loops in
    Python, so it is slower than the vectorised intervals of :func:`evaluate`; with the
    same seed it draws the same resamples, so for accuracy or macro-F1 the two agree.

    Raises:
        InputError: on empty input, mismatched lengths, or ``confidence`` /
            ``n_resamples`` out of range.
    """
    true_arr = np.asarray(y_true)
    pred_arr = np.asarray(y_pred)
    if true_arr.ndim != 1 or pred_arr.ndim != 1:
        raise InputError(
            f"y_true and y_pred must be 1-D sequences of labels; "
            f"got shapes {true_arr.shape} and {pred_arr.shape}."
        )
    if len(true_arr) == 0:
        raise InputError("y_true is empty; a bootstrap needs at least one example.")
    if len(pred_arr) != len(true_arr):
        raise InputError(
            f"y_true has {len(true_arr)} labels but y_pred has {len(pred_arr)}; "
            "pass exactly one prediction per example."
        )
    _check_confidence(confidence)
    _check_n_resamples(n_resamples, "n_resamples")
    scores = [
        float(metric(true_arr[rows], pred_arr[rows]))
        for chunk in resample_index_chunks(len(true_arr), n_resamples, seed)
        for rows in chunk
    ]
    return percentile_interval(np.asarray(scores), confidence)


def _label_list(values: Any, name: str) -> list:
    """Turn a 1-D sequence of labels into a list of plain Python values.

    numpy scalars become Python ints/strs so the labels survive ``json.dumps``.
    """
    if isinstance(values, str):
        raise InputError(f"{name} is a single string; pass a sequence of labels, one per item.")
    arr = np.asarray(values, dtype=object)
    if arr.ndim != 1:
        raise InputError(f"{name} must be a 1-D sequence of labels, got shape {arr.shape}.")
    return [plain(v) for v in arr]


def _to_indices(values: list, index: dict, name: str) -> np.ndarray:
    unknown = sorted({repr(v) for v in values if v not in index})
    if unknown:
        raise InputError(
            f"{name} contains labels not in labels={list(index)}: {', '.join(unknown[:10])}; "
            "add them to labels or fix the data."
        )
    return np.fromiter((index[v] for v in values), dtype=np.int64, count=len(values))


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise InputError(
            f"confidence must lie strictly between 0 and 1 (e.g. 0.95), got {confidence!r}."
        )


def _check_n_resamples(n_resamples: int, name: str) -> None:
    if not isinstance(n_resamples, (int, np.integer)) or n_resamples < 1:
        raise InputError(f"{name} must be a positive integer (e.g. 1000), got {n_resamples!r}.")


def _check_proba(proba: Any, n: int, k: int | None) -> np.ndarray:
    """Validate an ``(n, k)`` probability matrix (any k when ``k`` is None)."""
    try:
        arr = np.asarray(proba, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise InputError(f"proba must be a numeric (n, k) array: {err}") from err
    expected = f"({n}, {'k' if k is None else k})"
    if arr.ndim != 2:
        raise InputError(
            f"proba must be a 2-D array of shape {expected}, one row per example and one "
            f"column per class; got shape {arr.shape}."
        )
    if arr.shape[0] != n:
        raise InputError(
            f"y_true has {n} labels but proba has {arr.shape[0]} rows; "
            "pass one probability row per example."
        )
    if k is not None and arr.shape[1] != k:
        raise InputError(
            f"proba has {arr.shape[1]} columns but labels has {k} classes; the columns must "
            "follow labels (pass labels=classifier.classes_)."
        )
    if not np.isfinite(arr).all() or (arr < 0).any():
        raise InputError(
            "proba contains NaN, infinite or negative values; pass probabilities "
            "(e.g. softmax of the logits)."
        )
    row_sums = arr.sum(axis=1)
    bad = np.flatnonzero(np.abs(row_sums - 1.0) > PROBA_SUM_TOLERANCE)
    if bad.size:
        raise InputError(
            f"proba rows must sum to 1 (tolerance {PROBA_SUM_TOLERANCE:g}); row {bad[0]} sums "
            f"to {row_sums[bad[0]]:.6g} ({bad.size} rows off). Pass probabilities, not logits: "
            "apply a softmax first."
        )
    return arr


def confidence_bins(
    proba: np.ndarray, correct: np.ndarray, n_bins: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Count, summed confidence and number correct in each confidence bin, empty ones too.

    The confidence of a row of ``proba`` is its largest probability; ``correct`` says, per
    row, whether its arg-max is the true label. The ``n_bins`` bins split [0, 1] into equal
    widths, right-inclusive (lo, hi] as in Guo et al. (2017), the first one taking 0. ECE
    and the reliability diagram (:func:`workbench.plots.reliability_curve`) both count
    with it, so the diagram shows the bins the ECE beside it was computed on.
    """
    confidences = proba.max(axis=1)
    inner_edges = np.linspace(0.0, 1.0, n_bins + 1)[1:-1]
    # side="left" counts the edges strictly below each confidence: bins (lo, hi].
    bins = np.searchsorted(inner_edges, confidences, side="left")
    counts = np.bincount(bins, minlength=n_bins)
    confidence_sums = np.bincount(bins, weights=confidences, minlength=n_bins)
    correct_sums = np.bincount(bins, weights=np.asarray(correct, np.float64), minlength=n_bins)
    return counts, confidence_sums, correct_sums


def _ece(true_idx: np.ndarray, proba: np.ndarray, *, n_bins: int) -> float:
    _, confidence_sums, correct_sums = confidence_bins(
        proba, proba.argmax(axis=1) == true_idx, n_bins
    )
    # sum_b (n_b / n) * |acc_b - conf_b| == sum_b |sum of correct_b - sum of conf_b| / n
    return float(np.abs(correct_sums - confidence_sums).sum() / len(true_idx))


def _binary_roc_auc(true_idx: np.ndarray, proba: np.ndarray) -> float | None:
    """ROC-AUC with ``labels[1]`` as the positive class, or None when it is undefined.

    AUC is the chance that a random positive scores above a random negative; with
    only one class in ``y_true`` there are no such pairs, and for more than two classes
    there is no single positive class.
    """
    if proba.shape[1] != 2 or np.unique(true_idx).size < 2:
        return None
    return float(roc_auc_score(true_idx == 1, proba[:, 1]))


def resample_index_chunks(n: int, n_resamples: int, seed: int) -> Iterator[np.ndarray]:
    """Yield ``(rows, n)`` blocks of bootstrap indices, ``n_resamples`` rows in all.

    Every bootstrap (here and the paired one of :mod:`workbench.compare`) draws through
    here, so one seed gives them identical resamples.
    """
    rng = np.random.default_rng(seed)
    rows_per_chunk = max(1, _MAX_INDICES_PER_CHUNK // n)
    for start in range(0, n_resamples, rows_per_chunk):
        yield rng.integers(0, n, size=(min(rows_per_chunk, n_resamples - start), n))


def _bootstrap_accuracy_and_macro_f1(
    true_idx: np.ndarray, pred_idx: np.ndarray, k: int, *, n_resamples: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Accuracy and macro-F1 of each bootstrap resample, without a Python loop per resample."""
    correct = true_idx == pred_idx
    cell = true_idx * k + pred_idx  # flat confusion-matrix cell of each example
    accuracies, macro_f1s = [], []
    for rows in resample_index_chunks(len(true_idx), n_resamples, seed):
        n_rows = rows.shape[0]
        accuracies.append(correct[rows].mean(axis=1))
        # Offset each resample's cells by its own k*k block so one bincount gives
        # every resample's confusion matrix.
        cells = cell[rows] + (np.arange(n_rows) * (k * k))[:, None]
        counts = np.bincount(cells.ravel(), minlength=n_rows * k * k).reshape(n_rows, k, k)
        tp = np.diagonal(counts, axis1=1, axis2=2)
        # F1 = 2TP / (2TP + FP + FN) = 2TP / (true count + predicted count), as in sklearn
        denom = counts.sum(axis=2) + counts.sum(axis=1)
        f1 = np.divide(2.0 * tp, denom, out=np.zeros(tp.shape), where=denom > 0)
        macro_f1s.append(f1.mean(axis=1))
    return np.concatenate(accuracies), np.concatenate(macro_f1s)


def percentile_interval(samples: np.ndarray, confidence: float) -> ConfidenceInterval:
    """The central ``confidence`` interval of bootstrap ``samples`` (their quantiles)."""
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(samples, [tail, 1.0 - tail])
    return ConfidenceInterval(low=float(low), high=float(high), confidence=float(confidence))


@dataclass(frozen=True)
class Latency:
    """Single-text latency percentiles and batched throughput of one model on one machine."""

    p50_ms: float
    p99_ms: float
    throughput_per_s: float
    repeats: int
    batch_texts: int

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def measure_latency(model: TextModel, texts: Sequence[str], *, repeats: int = 200) -> Latency:
    """Time ``model.predict_proba``: one text at a time, then all ``texts`` in one call.

    Single-text latency is measured over ``repeats`` calls cycling through ``texts``
    (after one warm-up call, so lazy initialisation does not count) and reported as the
    median and 99th percentile. Throughput is texts per second for one call on all of
    ``texts``, batched however the model batches internally.
    """
    if not len(texts):
        raise InputError("measure_latency needs at least one text to time")
    if repeats < 1:
        raise InputError(f"repeats must be at least 1, got {repeats}")
    texts = list(texts)
    model.predict_proba(texts[:1])
    times = []
    for i in range(repeats):
        started = time.perf_counter()
        model.predict_proba([texts[i % len(texts)]])
        times.append(time.perf_counter() - started)
    started = time.perf_counter()
    model.predict_proba(texts)
    batch_seconds = time.perf_counter() - started
    p50, p99 = np.percentile(np.array(times) * 1000.0, [50, 99])
    return Latency(
        p50_ms=float(p50),
        p99_ms=float(p99),
        throughput_per_s=len(texts) / batch_seconds,
        repeats=repeats,
        batch_texts=len(texts),
    )
