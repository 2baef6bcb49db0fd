"""Slices: named predicates over examples, and how a model does on each.

A :class:`Slice` is a name and a predicate that marks the examples in the slice. The
predicate is vectorised (a function of :class:`~workbench.analysis.Examples` returning one
boolean per example), so a slice over 100,000 texts costs one pass. Constructors cover the
usual questions: :meth:`Slice.contains_word`, :meth:`Slice.regex`, :meth:`Slice.length`,
:meth:`Slice.column`, :meth:`Slice.misclassified`, :meth:`Slice.low_confidence`,
:meth:`Slice.where` (any function of the text) and :meth:`Slice.where_row` (of the row);
``&``, ``|`` and ``~`` combine them.

:func:`evaluate_slices` scores each slice: n, accuracy and macro-F1 with bootstrap intervals,
ECE with its interval (all from :mod:`workbench.evaluate`), the accuracy of the rest of the
data, the difference, and Fisher's exact test of slice against rest with Holm's correction
across the slices. :func:`workbench.analysis.discover_slices` finds the slices worth asking
about.

Why Fisher's exact test: the slice and the rest are disjoint, so their correct/wrong counts
form a 2 x 2 table of independent groups. Slices are often small (tens of examples) and
their accuracy often near 0 or 1 (``misclassified`` is 0 by definition), where the
two-proportion z-test's normal approximation is poor and its pooled variance can be 0;
Fisher's test is exact at any size and defined for any table. On large slices the two agree.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, cast, get_args

import numpy as np
import pandas as pd
from scipy.stats import fisher_exact

from workbench.analysis.examples import PROGRESS_FROM, Examples, is_word
from workbench.compare.stats import holm
from workbench.data.texts import check_count, shorten
from workbench.errors import InputError, describe_error
from workbench.evaluate import (
    ConfidenceInterval,
    bootstrap_ci,
    evaluate,
    expected_calibration_error,
)
from workbench.progress import progress_bar

Predicate = Callable[[Examples], np.ndarray]

Alternative = Literal["two-sided", "less", "greater"]
ALTERNATIVES = get_args(Alternative)


def _no_hint(examples: Examples) -> str:
    return ""


@dataclass(frozen=True)
class Slice:
    """A named set of examples: ``predicate(examples)`` gives one boolean per example.

    Build one with the constructors below, or pass any vectorised predicate::

        Slice("long and unsure", lambda ex: (ex.word_counts() > 30) & (ex.confidence("") < .6))

    Args:
        name: how results name the slice; unique within one report.
        predicate: a function of :class:`Examples` returning a boolean array, one per example.
        kind: what sort of slice it is (``"word"``, ``"regex"``, ``"length"``, ``"column"``,
            ``"misclassified"``, ``"low_confidence"``, ``"function"``, ``"row_function"``,
            ``"combined"``, ``"custom"``), for reports and the JSON.
        empty_hint: says why the slice might match nothing (e.g. the values a column has).
    """

    name: str
    predicate: Predicate = field(repr=False, compare=False)
    kind: str = "custom"
    empty_hint: Callable[[Examples], str] = field(default=_no_hint, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise InputError(f"a slice needs a non-empty name, got {self.name!r}")
        if not callable(self.predicate):
            raise InputError(f"slice {self.name!r}: predicate must be a function of Examples")

    def mask(self, examples: Examples) -> np.ndarray:
        """One boolean per example: whether it is in the slice."""
        mask = np.asarray(self.predicate(examples))
        if mask.shape != (len(examples),) or mask.dtype != np.bool_:
            raise InputError(
                f"slice {self.name!r}: its predicate must return one boolean per example "
                f"({len(examples)}), got an array of shape {mask.shape} and dtype {mask.dtype}"
            )
        return mask

    # -------------------------------------------------------------- combining
    def __and__(self, other: Slice) -> Slice:
        return Slice(
            f"{_grouped(self.name)} & {_grouped(other.name)}",
            lambda ex: self.mask(ex) & other.mask(ex),
            "combined",
        )

    def __or__(self, other: Slice) -> Slice:
        return Slice(
            f"{_grouped(self.name)} | {_grouped(other.name)}",
            lambda ex: self.mask(ex) | other.mask(ex),
            "combined",
        )

    def __invert__(self) -> Slice:
        return Slice(f"not {_grouped(self.name)}", lambda ex: ~self.mask(ex), "combined")

    # ------------------------------------------------------------ constructors
    @classmethod
    def contains_word(cls, word: str, *, name: str | None = None) -> Slice:
        """Texts holding ``word`` as a whole word unit, ignoring case.

        Words are the project's word units (:func:`workbench.tokenizer.split_words`, the
        ones explanations colour): ``"not"`` matches "Not bad" but not "nothing" or
        "don't" (one unit). A phrase (``"not good"``) matches those units in a row.
        """
        if not isinstance(word, str):
            raise InputError(f"contains_word takes a string, got {type(word).__name__}")
        units = Examples.units_of(word)
        if not units:
            raise InputError(f"contains_word needs a word, got {word!r} (no word units in it)")
        term = " ".join(units)

        def predicate(examples: Examples) -> np.ndarray:
            if len(units) <= 2:
                return examples.term_index(2).holds(term)
            return _map_texts(
                examples, lambda text: _holds_run(examples.units(text), units), f'contains "{term}"'
            )

        def hint(examples: Examples) -> str:
            return (
                f"no text holds {term!r} as whole word units (matching ignores case; "
                f"{units[0]!r} does not match inside a longer word)"
            )

        return cls(name or f'contains "{term}"', predicate, "word", hint)

    @classmethod
    def regex(cls, pattern: str, *, ignore_case: bool = True, name: str | None = None) -> Slice:
        """Texts in which the regular expression ``pattern`` matches somewhere
        (``re.search``), ignoring case unless ``ignore_case=False``."""
        flags = re.IGNORECASE if ignore_case else 0
        try:
            compiled = re.compile(pattern, flags)
        except (re.error, TypeError) as err:
            raise InputError(f"regex {pattern!r} is not a valid regular expression: {err}") from err

        def predicate(examples: Examples) -> np.ndarray:
            found = pd.Series(examples.texts, dtype=object).str.contains(compiled, regex=True)
            return found.to_numpy(dtype=bool)

        return cls(name or f"matches /{pattern}/", predicate, "regex")

    @classmethod
    def length(
        cls, min_words: int | None = None, max_words: int | None = None, *, name: str | None = None
    ) -> Slice:
        """Texts of ``min_words`` to ``max_words`` words, both included (either may be
        None: no bound). Words are word units holding a letter or digit."""
        low = 0 if min_words is None else check_count("min_words", min_words, 0)
        high = None if max_words is None else check_count("max_words", max_words, 0)
        if high is not None and high < low:
            raise InputError(f"max_words ({high}) is below min_words ({low})")

        def predicate(examples: Examples) -> np.ndarray:
            counts = examples.word_counts()
            inside = counts >= low
            return inside if high is None else inside & (counts <= high)

        if high is None:
            label = f"{low}+ words"
        elif low == high:
            label = f"{low} word{'s' if low != 1 else ''}"
        else:
            label = f"{low}–{high} words"
        return cls(name or label, predicate, "length")

    @classmethod
    def column(cls, column: str, value: Any, *, name: str | None = None) -> Slice:
        """Examples whose ``column`` equals ``value`` (e.g. ``Slice.column("domain",
        "films")``). A column the examples lack is an error listing those they have."""

        def predicate(examples: Examples) -> np.ndarray:
            return examples.column(column).eq(value).to_numpy(dtype=bool)

        def hint(examples: Examples) -> str:
            values = examples.column(column).drop_duplicates()
            shown = ", ".join(repr(v) for v in values.head(10).tolist())
            more = ", ..." if len(values) > 10 else ""
            return f"{column!r} never equals {value!r}; its values are {shown}{more}"

        return cls(name or f"{column} = {value}", predicate, "column", hint)

    @classmethod
    def misclassified(cls, *, name: str | None = None) -> Slice:
        """Examples the model gets wrong (needs labels and predictions). Its accuracy is 0
        by definition; its size, confidence and ECE are what it shows."""
        return cls(
            name or "misclassified",
            lambda examples: ~examples.correct("the slice 'misclassified'"),
            "misclassified",
        )

    @classmethod
    def low_confidence(cls, threshold: float = 0.6, *, name: str | None = None) -> Slice:
        """Examples whose largest predicted probability is below ``threshold``."""
        if not isinstance(threshold, (int, float)) or not 0.0 < threshold <= 1.0:
            raise InputError(f"threshold must lie in (0, 1], got {threshold!r}")

        def predicate(examples: Examples) -> np.ndarray:
            return examples.confidence(f"the slice 'confidence < {threshold:g}'") < threshold

        return cls(name or f"confidence < {threshold:g}", predicate, "low_confidence")

    @classmethod
    def where(cls, function: Callable[[str], bool], *, name: str | None = None) -> Slice:
        """Texts for which ``function(text)`` is True (it must return a bool)."""
        label = name or _function_name(function)
        return cls(label, lambda examples: _map_texts(examples, function, label), "function")

    @classmethod
    def where_row(cls, function: Callable[[dict], bool], *, name: str | None = None) -> Slice:
        """Examples for which ``function(row)`` is True. ``row`` is a dict: ``text``,
        ``label`` and ``prediction`` (None when absent), ``confidence`` (with
        probabilities), and every other column by name."""
        label = name or _function_name(function)

        def predicate(examples: Examples) -> np.ndarray:
            return _map_values(examples, function, _rows(examples), label, "row")

        return cls(label, predicate, "row_function")


def length_bins(edges: Sequence[int]) -> list[Slice]:
    """Slices by length covering every text: ``length_bins([10, 20])`` gives "0–10
    words", "11–20 words" and "21+ words"."""
    bounds = [check_count("a length-bin edge", edge, 0) for edge in edges]
    if not bounds or any(b <= a for a, b in zip(bounds, bounds[1:], strict=False)):
        raise InputError(f"edges must be increasing word counts, e.g. [10, 20, 40]; got {edges!r}")
    lows = [0] + [edge + 1 for edge in bounds]
    highs: list[int | None] = [*bounds, None]
    return [Slice.length(low, high) for low, high in zip(lows, highs, strict=True)]


def slices_by_column(examples: Examples, column: str, *, max_values: int = 30) -> list[Slice]:
    """One slice per value of ``column``, most frequent first (``domain = films``, ...).

    Raises:
        InputError: for a column the examples lack, or one with more than ``max_values``
            distinct values (free text or ids rather than categories).
    """
    counts = examples.column(column).value_counts(dropna=True)
    if len(counts) > max_values:
        raise InputError(
            f"{column!r} has {len(counts)} distinct values, more than max_values={max_values}; "
            "slice on a column of categories, or raise max_values"
        )
    return [Slice.column(column, value) for value in counts.index]


def suggested_slices(examples: Examples, *, max_values: int = 30) -> list[Slice]:
    """A first set of slices for any examples: length thirds, one slice per value of every
    column of categories (at most ``max_values`` values), and, with probabilities, the
    least confident quarter of the predictions (the threshold is printed in its name)."""
    counts = examples.word_counts()
    edges = sorted({int(q) for q in np.quantile(counts, [1 / 3, 2 / 3])})
    if edges and edges[-1] >= counts.max():
        edges = edges[:-1]
    slices = length_bins(edges) if edges else []
    for column in examples.columns.columns:
        if 1 < examples.columns[column].nunique(dropna=True) <= max_values:
            slices += slices_by_column(examples, str(column), max_values=max_values)
    if examples.proba is not None:
        threshold = float(np.quantile(examples.proba.max(axis=1), 0.25))
        if threshold > examples.proba.max(axis=1).min():
            slices.append(Slice.low_confidence(round(min(threshold, 1.0), 3)))
    return slices


# ---------------------------------------------------------------------- results
@dataclass(frozen=True)
class SliceResult:
    """How the model does on one slice, beside the rest of the data.

    Metrics that cannot be computed are None (n/a), and ``notes`` say why: labels that are
    absent, a slice that matches nothing (no metrics) or everything (no rest to compare
    with). ``difference`` is ``accuracy - rest_accuracy`` (negative: worse on the slice);
    ``p_value`` tests it (see the report's ``test``), ``p_value_holm`` is corrected over
    the report's family of slices.
    """

    name: str
    kind: str
    n: int
    n_rest: int
    accuracy: float | None = None
    accuracy_ci: ConfidenceInterval | None = None
    macro_f1: float | None = None
    macro_f1_ci: ConfidenceInterval | None = None
    ece: float | None = None
    ece_ci: ConfidenceInterval | None = None
    mean_confidence: float | None = None
    rest_accuracy: float | None = None
    difference: float | None = None
    p_value: float | None = None
    p_value_holm: float | None = None
    notes: list[str] = field(default_factory=list)
    slice: Slice | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict:
        """JSON-ready: intervals as ``{"low", "high", "confidence"}``, n/a as None."""
        out: dict[str, Any] = {}
        for name in _RESULT_FIELDS:
            value = getattr(self, name)
            if isinstance(value, ConfidenceInterval):
                value = {"low": value.low, "high": value.high, "confidence": value.confidence}
            out[name] = list(value) if name == "notes" else value
        return out


_RESULT_FIELDS = [f for f in SliceResult.__dataclass_fields__ if f != "slice"]
_FRAME_COLUMNS = [
    "name",
    "kind",
    "n",
    "n_rest",
    "accuracy",
    "accuracy_low",
    "accuracy_high",
    "macro_f1",
    "macro_f1_low",
    "macro_f1_high",
    "ece",
    "ece_low",
    "ece_high",
    "mean_confidence",
    "rest_accuracy",
    "difference",
    "p_value",
    "p_value_holm",
    "notes",
]


@dataclass(frozen=True)
class SliceReport:
    """Results of several slices, tested as one family (Holm's correction over it).

    Attributes:
        results: one :class:`SliceResult` per slice, in the order asked for (discovery:
            largest accuracy drop first).
        key: the JSON key of the results: ``"slices"`` or ``"discovered_slices"``.
        n: examples in all.
        accuracy: accuracy on all of them (None without labels or predictions).
        test: the test of slice against rest, in words.
        correction: the multiple-testing correction, in words.
        confidence: level of every interval.
        family_size: how many p-values Holm's correction ran over (discovery: every
            candidate term tested, not only those shown).
        notes: what holds for the whole report.
    """

    results: list[SliceResult]
    key: str
    n: int
    accuracy: float | None
    test: str
    correction: str
    confidence: float
    family_size: int
    notes: list[str] = field(default_factory=list)
    settings: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.results)

    def __iter__(self) -> Iterator[SliceResult]:
        return iter(self.results)

    def __getitem__(self, name: str) -> SliceResult:
        for result in self.results:
            if result.name == name:
                return result
        raise KeyError(f"no slice named {name!r}; the slices are {[r.name for r in self]}")

    def to_dict(self) -> dict:
        """``{key: [one dict per slice], key + "_method": {how they were measured}}``, so a
        report merges into a larger JSON document (``workbench analyze --json``) with
        ``document.update(report.to_dict())``."""
        return {
            self.key: [result.to_dict() for result in self.results],
            f"{self.key}_method": {
                "n": self.n,
                "accuracy": self.accuracy,
                "test": self.test,
                "correction": self.correction,
                "confidence": self.confidence,
                "family_size": self.family_size,
                **self.settings,
                "notes": list(self.notes),
            },
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per slice; intervals as ``*_low`` / ``*_high`` columns, n/a as NaN."""
        rows = []
        for result in self.results:
            row: dict[str, Any] = {"name": result.name, "kind": result.kind}
            for metric in ("accuracy", "macro_f1", "ece"):
                ci = getattr(result, f"{metric}_ci")
                row[metric] = _number(getattr(result, metric))
                row[f"{metric}_low"] = _number(ci.low if ci else None)
                row[f"{metric}_high"] = _number(ci.high if ci else None)
            for name in ("mean_confidence", "rest_accuracy", "difference", "p_value"):
                row[name] = _number(getattr(result, name))
            row.update(
                n=result.n,
                n_rest=result.n_rest,
                p_value_holm=_number(result.p_value_holm),
                notes="; ".join(result.notes),
            )
            rows.append(row)
        return pd.DataFrame(rows, columns=_FRAME_COLUMNS)

    def summary(self, max_rows: int | None = None) -> str:
        """A text table for terminals: n, accuracy and interval, difference, p-values."""
        conf = f"{self.confidence * 100:g}%"
        shown = self.results if max_rows is None else self.results[:max_rows]
        width = max([len("slice"), *(len(r.name) for r in shown)])
        lines = [
            f"{self.n} examples, accuracy {_fmt(self.accuracy)}; {self.test}, "
            f"{self.correction} over {self.family_size}; {conf} bootstrap intervals",
            f"{'slice':<{width}}  {'n':>6}  {'accuracy':>8}  {conf + ' interval':>15}  "
            f"{'vs rest':>7}  {'p':>8}  {'p (Holm)':>8}",
        ]
        for r in shown:
            interval = (
                ""
                if r.accuracy_ci is None
                else f"[{r.accuracy_ci.low:.3f}, {r.accuracy_ci.high:.3f}]"
            )
            diff = "n/a" if r.difference is None else f"{r.difference:+.3f}"
            lines.append(
                f"{r.name:<{width}}  {r.n:>6}  {_fmt(r.accuracy):>8}  {interval:>15}  "
                f"{diff:>7}  {_fmt_p(r.p_value):>8}  {_fmt_p(r.p_value_holm):>8}"
            )
        if max_rows is not None and len(self.results) > max_rows:
            lines.append(f"... {len(self.results) - max_rows} more")
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines)


def evaluate_slices(
    examples: Examples,
    slices: Iterable[Slice],
    *,
    alternative: Alternative = "two-sided",
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    progress: bool = True,
) -> SliceReport:
    """Score the model on each slice and test each against the rest of the data.

    Args:
        examples: the texts, labels and model outputs (:class:`Examples`).
        slices: the slices; their names must differ.
        alternative: of Fisher's exact test: ``"two-sided"`` (is the slice different?),
            ``"less"`` (is the model worse on it?) or ``"greater"``.
        n_bootstrap: resamples of each slice for the intervals.
        confidence: level of the intervals.
        seed: seed of the resampling.
        progress: show a bar over the slices on large data.

    Returns:
        A :class:`SliceReport`, slices in the order given, p-values Holm-corrected over the
        slices that have one.

    Raises:
        InputError: on no slices, two slices of one name, a slice that needs labels,
            predictions, probabilities or a column the examples lack, or bad settings.
    """
    slice_list = list(slices)
    if not slice_list:
        raise InputError("no slices to evaluate; give at least one Slice")
    if not all(isinstance(s, Slice) for s in slice_list):
        raise InputError("slices must be Slice objects (e.g. Slice.contains_word('not'))")
    names = [s.name for s in slice_list]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise InputError(f"slice names must differ; given more than once: {twice}")
    check_test_settings(alternative, n_bootstrap, confidence)
    show = progress and len(examples) * len(slice_list) >= PROGRESS_FROM * 10
    results = [
        measure_slice(
            examples,
            item,
            item.mask(examples),
            alternative=alternative,
            n_bootstrap=n_bootstrap,
            confidence=confidence,
            seed=seed,
        )
        for item in progress_bar(slice_list, show=show, desc="slices", unit="slice")
    ]
    tested = [i for i, r in enumerate(results) if r.p_value is not None]
    p_values = np.array([results[i].p_value for i in tested], dtype=np.float64)
    for i, p in zip(tested, holm(p_values), strict=True):
        results[i] = replace(results[i], p_value_holm=float(p))
    return SliceReport(
        results=results,
        key="slices",
        n=len(examples),
        accuracy=_overall_accuracy(examples),
        test=f"Fisher's exact test ({alternative}) of slice against rest",
        correction="Holm",
        confidence=confidence,
        family_size=len(tested),
        notes=_report_notes(examples),
        settings={"n_bootstrap": n_bootstrap, "seed": seed},
    )


def measure_slice(
    examples: Examples,
    item: Slice,
    mask: np.ndarray,
    *,
    alternative: Alternative = "two-sided",
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    p_value: float | None = None,
) -> SliceResult:
    """The metrics of one slice given its ``mask``; ``p_value``, when given, replaces the
    test of slice against rest (slice discovery computes its own, for all terms at once)."""
    n = int(mask.sum())
    n_rest = len(examples) - n
    notes: list[str] = []
    if n == 0:
        hint = item.empty_hint(examples)
        notes.append("matches no example, so its metrics are n/a" + (f": {hint}" if hint else ""))
    elif n_rest == 0:
        notes.append(
            "matches every example: there is no rest to compare with, so the difference "
            "and its test are n/a"
        )
    values: dict[str, Any] = {}
    if examples.proba is not None and n:
        values["mean_confidence"] = float(examples.proba[mask].max(axis=1).mean())
    if not (examples.has_labels and examples.has_predictions):
        missing = "labels" if not examples.has_labels else "the model's predictions"
        notes.append(f"no {missing}: accuracy, macro-F1, ECE and the test need them (n/a)")
        return SliceResult(item.name, item.kind, n, n_rest, notes=notes, slice=item, **values)

    correct = examples.correct("slice metrics")
    if n:
        values.update(_metrics(examples, mask, n_bootstrap, confidence, seed, notes))
    if n_rest:
        values["rest_accuracy"] = float(correct[~mask].mean())
    if n and n_rest:
        values["difference"] = values["accuracy"] - values["rest_accuracy"]
        if p_value is None:
            right_in = int(correct[mask].sum())
            right_out = int(correct[~mask].sum())
            table = [[right_in, n - right_in], [right_out, n_rest - right_out]]
            p_value = float(fisher_exact(np.array(table), alternative=alternative).pvalue)
        values["p_value"] = p_value
    return SliceResult(item.name, item.kind, n, n_rest, notes=notes, slice=item, **values)


def _metrics(
    examples: Examples,
    mask: np.ndarray,
    n_bootstrap: int,
    confidence: float,
    seed: int,
    notes: list[str],
) -> dict[str, Any]:
    """Accuracy, macro-F1 and ECE of the slice with intervals, all by workbench.evaluate."""
    true_idx = examples.true_indices("slice metrics")[mask]
    pred_idx = examples.predicted_indices("slice metrics")[mask]
    proba = None if examples.proba is None else examples.proba[mask]
    classes = examples.classes
    result = evaluate(
        [classes[i] for i in true_idx],
        [classes[i] for i in pred_idx],
        proba,
        labels=classes,
        n_bootstrap=n_bootstrap,
        confidence=confidence,
        seed=seed,
    )
    # ROC-AUC is not reported per slice; the note on macro-F1 with a class absent is.
    notes += [n.replace("y_true", "this slice") for n in result.notes if "ROC-AUC" not in n]
    values: dict[str, Any] = {
        "accuracy": result.accuracy,
        "accuracy_ci": result.accuracy_ci,
        "macro_f1": result.macro_f1,
        "macro_f1_ci": result.macro_f1_ci,
        "ece": result.ece,
    }
    if proba is not None:
        # The same resamples as the accuracy interval (same n, same seed): rows index proba.
        slice_proba = proba

        def ece(truth: np.ndarray, rows: np.ndarray) -> float:
            return expected_calibration_error(cast(Sequence[int], truth), slice_proba[rows])

        values["ece_ci"] = bootstrap_ci(
            ece,
            cast(Sequence[int], true_idx),
            cast(Sequence[int], np.arange(len(true_idx))),
            n_resamples=n_bootstrap,
            confidence=confidence,
            seed=seed,
        )
    return values


# ---------------------------------------------------------------------- helpers
def check_test_settings(alternative: Alternative, n_bootstrap: int, confidence: float) -> None:
    """An error unless the test's alternative and the bootstrap's settings are usable."""
    if alternative not in ALTERNATIVES:
        raise InputError(f"alternative must be one of {ALTERNATIVES}, got {alternative!r}")
    check_count("n_bootstrap", n_bootstrap, 1)
    if not isinstance(confidence, (int, float)) or not 0.0 < confidence < 1.0:
        raise InputError(f"confidence must lie strictly between 0 and 1, got {confidence!r}")


def _overall_accuracy(examples: Examples) -> float | None:
    if not (examples.has_labels and examples.has_predictions):
        return None
    return float(examples.correct("accuracy").mean())


def _report_notes(examples: Examples) -> list[str]:
    if not examples.has_labels:
        return ["no labels: only each slice's n (and mean confidence) can be given"]
    if not examples.has_predictions:
        return ["no model output: only each slice's n can be given"]
    return []


def _grouped(name: str) -> str:
    return f"({name})" if any(op in name for op in (" & ", " | ", "not ")) else name


def _function_name(function: Callable) -> str:
    name = getattr(function, "__name__", "")
    if not callable(function):
        raise InputError(f"expected a function, got {type(function).__name__}")
    if not name or name == "<lambda>":
        raise InputError("give a slice of a lambda a name: Slice.where(fn, name='...')")
    return name


def _holds_run(units: list[str], run: list[str]) -> bool:
    size = len(run)
    return any(units[i : i + size] == run for i in range(len(units) - size + 1))


def _map_texts(examples: Examples, function: Callable[[str], bool], name: str) -> np.ndarray:
    return _map_values(examples, function, iter(examples.texts), name, "text")


def _map_values(
    examples: Examples, function: Callable, values: Iterator, name: str, what: str
) -> np.ndarray:
    """``function`` on each value, checked to return a bool; a bar on large data."""
    out = np.zeros(len(examples), dtype=bool)
    show = len(examples) >= PROGRESS_FROM
    for i, value in enumerate(progress_bar(values, show=show, total=len(examples), desc=name)):
        try:
            answer = function(value)
        except Exception as err:  # the user's function: say where it failed
            raise InputError(
                f"slice {name!r}: the function raised {describe_error(err, with_type=True)} "
                f"on data row {i + 1} ({what} {repr(shorten(examples.texts[i], 60))})"
            ) from err
        if not isinstance(answer, (bool, np.bool_)):
            raise InputError(
                f"slice {name!r}: the function must return True or False, got "
                f"{answer!r} on data row {i + 1}"
            )
        out[i] = answer
    return out


def _rows(examples: Examples) -> Iterator[dict]:
    predictions = examples.predictions
    confidence = None if examples.proba is None else examples.proba.max(axis=1)
    records = examples.columns.to_dict("records") if len(examples.columns.columns) else None
    for i, text in enumerate(examples.texts):
        row: dict[Any, Any] = {
            "text": text,
            "label": None if examples.labels is None else examples.labels[i],
            "prediction": None if predictions is None else predictions[i],
        }
        if confidence is not None:
            row["confidence"] = float(confidence[i])
        if records is not None:
            row.update(records[i])
        yield row


def _number(value: float | None) -> float:
    return math.nan if value is None else float(value)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _fmt_p(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.2g}" if value >= 1e-4 else f"{value:.1e}"


def word_terms_only(terms: Sequence[str]) -> np.ndarray:
    """Whether every unit of each term is a word (not punctuation alone)."""
    return np.fromiter(
        (all(is_word(unit) for unit in term.split(" ")) for term in terms),
        dtype=bool,
        count=len(terms),
    )
