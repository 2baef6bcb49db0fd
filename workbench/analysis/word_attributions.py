"""Global attributions: which words a model relies on across a whole dataset.

:func:`global_attributions` explains every text with one method of
:mod:`workbench.explain` (SHAP, LIME, integrated gradients, gradient × input) and
:func:`aggregate_attributions` folds the per-word values into one row per **word type** (the
lower-cased word unit, the rule of :meth:`Examples.units_of
<workbench.analysis.Examples.units_of>`) and class:

- ``mean``: the mean signed attribution towards the class over the word's occurrences
  (positive: the word pushes towards the class), with a t interval (or a percentile
  bootstrap interval) of that mean;
- ``mean_abs``: the mean absolute attribution, how much the word moves the prediction
  whichever way (the ranking of shap's global bar plot);
- ``count`` (occurrences) and ``texts`` (texts that hold the word); words seen fewer than
  ``min_count`` times are flagged ``rare``: their means rest on a handful of cases, and the
  figure and the rankings leave them out unless asked.

Which texts count for a class is ``over``: ``"all"`` (every text's attributions towards
every class: what the coefficients of a linear model say), ``"predicted"`` (towards class c
on the texts predicted as c: why the model says c when it does; needs no labels) or
``"label"`` (towards c on the texts labelled c). Units are the method's: probability points
for SHAP and LIME, logit points for integrated gradients; only words the model read count
(words cut off by ``max_length`` get no attribution), and punctuation alone is left out
unless ``punctuation=True``.

**A model whose global explanation is known.** TF-IDF + logistic regression
(:class:`workbench.baselines.TfidfLogisticRegression`) is linear in its features, so its
coefficients are its global explanation. :func:`compare_with_linear` puts a method's mean
attributions beside those coefficients for the same words and reports their rank agreement
per class (Spearman's ρ, Kendall's τ, and the overlap of the top-k words towards the class).

**Cost.** SHAP and LIME cost hundreds of model calls per text. Integrated gradients goes
through :func:`batched_integrated_gradients`: the path steps of many texts (sorted by
length, so there is little padding) in one forward pass and one backward pass per class,
the same numbers as ``explain(..., method="integrated-gradients")`` one text at a time
(checked in the tests), several times faster (``benchmarks/global_attributions_sst2.py``).
On 200 texts or more, the first texts are timed and an estimate of the whole run is
printed before it goes on.
"""

from __future__ import annotations

import html
import inspect
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
import torch
from scipy import stats

from workbench.analysis.examples import Examples, is_word
from workbench.data import as_text_list, check_count, plain
from workbench.errors import InputError, describe_error
from workbench.estimators import TextModel, check_fitted
from workbench.explain.base import Explanation, FailedExplanation
from workbench.explain.gradients import PATH_POWER, _Inputs, _network_inputs, _word_scores
from workbench.explain.methods import METHODS, explain, unsupported_message
from workbench.explain.render import BLUE, GREY, RED
from workbench.progress import announce, duration, plural, progress_bar, timed_pieces
from workbench.threads import CpuThreads

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from workbench.baselines import TfidfLogisticRegression

__all__ = [
    "ESTIMATE_FROM",
    "GlobalAttributions",
    "LinearAgreement",
    "aggregate_attributions",
    "batched_integrated_gradients",
    "compare_with_linear",
    "global_attributions",
    "linear_coefficients",
]

logger = logging.getLogger(__name__)

Over = Literal["all", "predicted", "label"]
IntervalKind = Literal["t", "bootstrap"]

# Runs over this many texts or more print an estimate of their time before going on.
ESTIMATE_FROM = 200
# Texts timed for that estimate with a one-text-at-a-time method (SHAP, LIME, ...).
_PROBE_TEXTS = 5
# Batched integrated gradients inside global_attributions: texts per call (the first call
# is smaller, for an early estimate); each call sorts its texts by length.
_FIRST_PIECE = 32
_PIECE_TEXTS = 512
# Integrated gradients: token positions (texts x path steps x padded length) per forward
# pass; bounds memory (~1 GB of activations for the default model) and keeps batches large.
IG_MAX_TOKENS = 16_384

_FRAME_COLUMNS = [
    "class",
    "word",
    "mean",
    "mean_abs",
    "std",
    "count",
    "texts",
    "low",
    "high",
    "rare",
]


# --------------------------------------------------------------------------- batched IG
def batched_integrated_gradients(
    model: TextModel,
    texts: Sequence[str],
    *,
    n_steps: int = 50,
    max_tokens: int = IG_MAX_TOKENS,
    progress: bool = True,
    errors: Literal["raise", "record"] = "raise",
    estimate: bool = True,
) -> list[Explanation | FailedExplanation]:
    """``explain(model, texts, method="integrated-gradients", n_steps=n_steps)``, batched.

    The same quadrature (Captum's Gauss–Legendre steps), path (presence from 0 to 1, as
    ``t ** PATH_POWER``), baseline, base values and convergence deltas as the one-text path
    of :func:`workbench.explain.gradients.gradient_explanation`, equal to it up to float
    rounding; but texts of similar length share one forward pass (their path steps
    stacked, padding masked) and one backward pass per class, instead of one forward and
    backward per text and class. ``max_tokens`` bounds texts × steps × padded length per
    pass. On the CPU the torch threads follow the free cores (:class:`CpuThreads`).

    It belongs beside ``gradient_explanation`` in ``workbench.explain.gradients``; it lives
    here until it moves there.
    """
    if errors not in ("raise", "record"):
        raise InputError(f"errors must be 'raise' or 'record', got {errors!r}")
    text_list = as_text_list(list(texts), "the texts to explain")
    n_steps = check_count("n_steps (CLI: --steps)", n_steps, 1)
    max_tokens = check_count("max_tokens", max_tokens, 1)
    check_fitted(model, "classes_")
    refused = unsupported_message(model, ["integrated-gradients"])
    if refused is not None:
        raise InputError(refused)
    classes = [plain(c) for c in model.classes_]
    results: list[Explanation | FailedExplanation | None] = [None] * len(text_list)
    prepared: dict[int, _Inputs] = {}
    for i, text in enumerate(text_list):
        try:
            prepared[i] = _network_inputs(model, text)
        except Exception as exc:
            if errors == "raise":
                raise
            results[i] = FailedExplanation(text, describe_error(exc))
    if prepared:
        proba = np.asarray(model.predict_proba([text_list[i] for i in prepared]), dtype=float)
        probabilities = dict(zip(prepared, proba, strict=True))
    alphas_np, steps_np = np.polynomial.legendre.leggauss(n_steps)
    alphas = (0.5 * (alphas_np + 1)).tolist()  # Captum's gausslegendre rule, exactly
    step_sizes = torch.tensor((0.5 * steps_np).tolist()).float()
    order = sorted(prepared, key=lambda i: prepared[i].input_ids.shape[1])
    batches = _length_batches(order, prepared, n_steps, max_tokens)
    total_tokens = sum(prepared[i].input_ids.shape[1] for i in order)
    device = next(iter(prepared.values())).input_ids.device if prepared else None
    threads = CpuThreads() if device is not None and device.type == "cpu" else None
    bar = progress_bar(
        total=len(order), show=progress, desc="integrated-gradients (batched)", unit="text"
    )
    started, done_tokens = time.perf_counter(), 0
    try:
        for number, batch in enumerate(batches):
            if threads is not None:
                threads.adjust()
            items = [prepared[i] for i in batch]
            attributions, deltas, base_values = _ig_batch(items, alphas, step_sizes, len(classes))
            for j, i in enumerate(batch):
                inputs = items[j]
                size = inputs.input_ids.shape[1]  # this text's pieces, without the padding
                scores = np.stack(
                    [_word_scores(attributions[j, c, :size], inputs) for c in range(len(classes))],
                    axis=1,
                )
                results[i] = Explanation(
                    text=text_list[i],
                    words=inputs.pieces.words,
                    classes=classes,
                    attributions=scores,
                    probabilities=probabilities[i],
                    method="integrated-gradients",
                    settings={
                        "units": "logit",
                        "visible_words": inputs.pieces.visible,
                        "n_steps": n_steps,
                        "baseline": "empty text (every word's presence 0)",
                        "path": "presence",
                        "convergence_delta": deltas[j].tolist(),
                        "batched": True,
                    },
                    evaluations=n_steps * len(classes),
                    base_values=base_values[j],
                    notes=list(inputs.notes),
                )
            bar.update(len(batch))
            done_tokens += sum(prepared[i].input_ids.shape[1] for i in batch)
            if number == 0 and estimate and len(text_list) >= ESTIMATE_FROM:
                elapsed = time.perf_counter() - started
                announce(
                    f"integrated gradients (batched) over {plural(len(order), 'text')}: about "
                    f"{duration(elapsed * total_tokens / max(done_tokens, 1))} in all "
                    f"(the first {len(batch)} texts took {elapsed:.1f} s; extrapolated by "
                    "their number of tokens)",
                    bar,
                    progress,
                )
    finally:
        bar.close()
        if threads is not None:
            threads.restore()
    return [r for r in results if r is not None]


def _length_batches(
    order: list[int], prepared: dict[int, _Inputs], n_steps: int, max_tokens: int
) -> list[list[int]]:
    """Consecutive runs of the length-sorted texts within ``max_tokens`` positions a pass."""
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        length = prepared[i].input_ids.shape[1]  # the longest so far: the order is sorted
        if current and (len(current) + 1) * n_steps * length > max_tokens:
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


def _ig_batch(
    items: list[_Inputs], alphas: list[float], step_sizes: torch.Tensor, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Piece attributions ``(B, k, T)``, convergence deltas ``(B, k)`` and base logits
    ``(B, k)`` of a batch of encoded texts, padded to the longest."""
    network = items[0].network
    device = items[0].input_ids.device
    n, steps = len(items), len(alphas)
    length = max(item.input_ids.shape[1] for item in items)
    ids = torch.zeros((n, length), dtype=torch.long, device=device)
    mask = torch.zeros((n, length), dtype=torch.bool, device=device)
    # Presence: 1 for the text as written; the baseline deletes every word piece and keeps
    # the special tokens (and padding, which the mask hides) at 1.
    absent = torch.ones((n, length), dtype=torch.float32, device=device)
    for row, item in enumerate(items):
        size = item.input_ids.shape[1]
        ids[row, :size] = item.input_ids[0]
        mask[row, :size] = True
        owners = torch.as_tensor(item.pieces.piece_words, device=device)
        absent[row, :size] = (owners < 0).to(torch.float32)
    present = torch.ones_like(absent)
    difference = present - absent
    scaled = torch.stack([absent + alpha * difference for alpha in alphas], dim=1)
    scaled = scaled.reshape(n * steps, length).requires_grad_()  # text-major: (B*S, T)
    ids_steps = ids.repeat_interleave(steps, dim=0)
    mask_steps = mask.repeat_interleave(steps, dim=0)
    weights = step_sizes.to(device).view(1, steps, 1)
    attributions = np.zeros((n, k, length))
    with torch.enable_grad():
        logits = network(ids_steps, mask_steps, presence=scaled**PATH_POWER).logits
        for c in range(k):
            (grads,) = torch.autograd.grad(logits[:, c].sum(), scaled, retain_graph=c < k - 1)
            total = (grads.view(n, steps, length) * weights).sum(dim=1)
            attributions[:, c] = (total * difference).detach().double().cpu().numpy()
    with torch.no_grad():
        ends = network(
            torch.cat([ids, ids]), torch.cat([mask, mask]), presence=torch.cat([absent, present])
        ).logits.double()
    base, full = ends[:n].cpu().numpy(), ends[n:].cpu().numpy()
    deltas = np.abs(attributions.sum(axis=2) - (full - base))
    return attributions, deltas, base


# ------------------------------------------------------------------------ aggregation
@dataclass
class GlobalAttributions:
    """Per class and word type: mean and mean absolute attribution, counts, interval.

    Attributes:
        table: one row per (class, word): ``class``, ``word``, ``mean``, ``mean_abs``,
            ``std`` (of the occurrences), ``count`` (occurrences), ``texts`` (texts holding
            the word), ``low``/``high`` (the interval of ``mean``; NaN for one
            occurrence), ``rare`` (``count < min_count``). Sorted by class, then
            ``mean_abs`` from the largest.
        classes: the class names, in the model's order.
        method: the explanation method; ``units`` its units ("probability", "logit").
        over: which texts count for each class (see the module notes).
        n_texts: texts aggregated; ``n_failed``: texts that could not be explained.
    """

    table: pd.DataFrame
    classes: list
    method: str
    units: str
    over: str
    n_texts: int
    min_count: int
    confidence: float
    interval: str
    n_failed: int = 0
    texts_per_class: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def _check_class(self, label: Any) -> Any:
        if label not in self.classes:
            raise InputError(f"no class {label!r} here; the classes are {self.classes}")
        return label

    def for_class(self, label: Any, *, include_rare: bool = True) -> pd.DataFrame:
        """The rows of class ``label`` (without the rare words unless ``include_rare``)."""
        rows = self.table[self.table["class"] == self._check_class(label)]
        if not include_rare:
            rows = rows[~rows["rare"]]
        return rows.reset_index(drop=True)

    def top(
        self,
        label: Any,
        k: int = 10,
        *,
        by: Literal["mean", "-mean", "abs_mean", "mean_abs"] = "mean",
        include_rare: bool = False,
    ) -> pd.DataFrame:
        """The ``k`` words of class ``label`` with the largest ``by``: ``"mean"`` (most
        towards the class), ``"-mean"`` (most against it), ``"abs_mean"`` (largest
        ``|mean|``, either way), ``"mean_abs"`` (largest mean absolute value). Rare words
        are left out unless ``include_rare``."""
        k = check_count("k", k, 1)
        rows = self.for_class(label, include_rare=include_rare)
        keys = {
            "mean": -rows["mean"],
            "-mean": rows["mean"],
            "abs_mean": -rows["mean"].abs(),
            "mean_abs": -rows["mean_abs"],
        }
        if by not in keys:
            raise InputError(f"by must be one of {list(keys)}, got {by!r}")
        order = np.lexsort((rows["word"].to_numpy(), keys[by].to_numpy()))
        return rows.iloc[order[:k]].reset_index(drop=True)

    def to_frame(self) -> pd.DataFrame:
        """The table (a copy): one row per class and word type."""
        return self.table.copy()

    def to_dict(self) -> dict:
        """``{"global_attributions": {class: [{word, mean, mean_abs, count, texts, low,
        high, rare}, ...]}, "global_attributions_method": {...}}``: JSON-ready (NaN as
        None), to merge into a larger document like the slice reports."""
        per_class: dict[str, list[dict]] = {}
        for label in self.classes:
            rows = self.for_class(label)
            per_class[str(label)] = [
                {
                    "word": str(row["word"]),
                    "mean": _number(row["mean"]),
                    "mean_abs": _number(row["mean_abs"]),
                    "count": int(row["count"]),
                    "texts": int(row["texts"]),
                    "low": _number(row["low"]),
                    "high": _number(row["high"]),
                    "rare": bool(row["rare"]),
                }
                for row in rows.to_dict("records")
            ]
        return {
            "global_attributions": per_class,
            "global_attributions_method": {
                "method": self.method,
                "units": self.units,
                "over": self.over,
                "n_texts": self.n_texts,
                "n_failed": self.n_failed,
                "texts_per_class": {str(k): int(v) for k, v in self.texts_per_class.items()},
                "min_count": self.min_count,
                "interval": self.interval,
                "confidence": self.confidence,
                "word_type": "lower-cased word unit",
                **{k: _plain_setting(v) for k, v in self.settings.items()},
                "notes": list(self.notes),
            },
        }

    def summary(self, k: int = 5) -> str:
        """A few lines per class: the words most towards and most against it."""
        lines = [
            f"{self.method} over {self.n_texts} texts ({self.units} points; texts per class: "
            f"{self.over}; words seen < {self.min_count} times left out)"
        ]
        directions: tuple[tuple[Literal["mean", "-mean"], str], ...] = (
            ("mean", "towards"),
            ("-mean", "against"),
        )
        for label in self.classes:
            for by, what in directions:
                rows = self.top(label, k, by=by)
                rows = rows[rows["mean"] > 0] if by == "mean" else rows[rows["mean"] < 0]
                words = ", ".join(
                    f"{r['word']} {r['mean']:+.3g} (n={r['count']})"
                    for r in rows.to_dict("records")
                )
                lines.append(f"  {what} {label}: {words or '(none)'}")
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)

    def figure(
        self, k: int = 10, *, include_rare: bool = False, classes: Sequence | None = None
    ) -> go.Figure:
        """The ``k`` words of largest ``|mean|`` per class as horizontal bars with the
        interval as error bars, one column per class; blue pushes towards the class, red
        against it (the colours of :mod:`workbench.explain.render`)."""
        import plotly.graph_objects as go
        from plotly.subplots import make_subplots

        k = check_count("k", k, 1)
        shown = list(self.classes if classes is None else classes)
        for label in shown:
            self._check_class(label)
        fig = make_subplots(
            rows=1,
            cols=len(shown),
            subplot_titles=[f"→ {_esc(label)}" for label in shown],
            horizontal_spacing=min(0.15, 0.5 / len(shown)) if len(shown) > 1 else 0.1,
        )
        longest = 1
        for col, label in enumerate(shown, start=1):
            rows = self.top(label, k, by="abs_mean", include_rare=include_rare)
            longest = max(longest, len(rows))
            mean = rows["mean"].to_numpy(dtype=float)
            low = np.nan_to_num(rows["low"].to_numpy(dtype=float), nan=0.0)
            high = np.nan_to_num(rows["high"].to_numpy(dtype=float), nan=0.0)
            fig.add_trace(
                go.Bar(
                    x=mean,
                    y=[_esc(w) for w in rows["word"]],
                    orientation="h",
                    marker_color=[
                        "#{:02x}{:02x}{:02x}".format(*(BLUE if v > 0 else RED if v < 0 else GREY))
                        for v in mean
                    ],
                    error_x={
                        "type": "data",
                        "symmetric": False,
                        "array": np.where(rows["low"].isna(), 0.0, high - mean),
                        "arrayminus": np.where(rows["low"].isna(), 0.0, mean - low),
                        "color": "#444444",
                    },
                    hovertext=[
                        f"{_esc(r['word'])}: mean {r['mean']:+.4g} towards {_esc(label)}, "
                        f"mean |value| {r['mean_abs']:.4g}, {r['count']} times in "
                        f"{r['texts']} texts"
                        for r in rows.to_dict("records")
                    ],
                    hoverinfo="text",
                    showlegend=False,
                ),
                row=1,
                col=col,
            )
            fig.update_xaxes(title_text=f"mean attribution ({_esc(self.units)})", row=1, col=col)
        fig.update_yaxes(autorange="reversed", automargin=True)
        fig.update_xaxes(zeroline=True, zerolinecolor="#888888")
        rare = "" if include_rare else f"; words seen < {self.min_count} times left out"
        fig.update_layout(
            title_text=f"Top {k} words by |mean {_esc(self.method)} attribution| over "
            f"{self.n_texts} texts<br><sup>blue: towards the class · red: against it · "
            f"bars: {self.confidence:.0%} {_esc(self.interval)} interval of the mean{rare}"
            "</sup>",
            height=max(380, 26 * longest + 220),
            template="plotly_white",
            margin={"t": 110, "b": 40},
        )
        return fig


def aggregate_attributions(
    explanations: Sequence[Explanation | FailedExplanation],
    *,
    labels: Sequence | None = None,
    over: Over = "all",
    min_count: int = 5,
    confidence: float = 0.95,
    interval: IntervalKind = "t",
    n_bootstrap: int = 1000,
    seed: int = 0,
    punctuation: bool = False,
) -> GlobalAttributions:
    """Fold explanations of many texts into one row per class and word type.

    Args:
        explanations: one per text, of one method (failed ones are counted and skipped).
        labels: the true label of each text; needed only for ``over="label"``.
        over: which texts count for class c: ``"all"``, ``"predicted"`` (predicted as c)
            or ``"label"`` (labelled c); see the module notes.
        min_count: words seen fewer times are flagged ``rare``.
        confidence: level of the interval of each mean.
        interval: ``"t"`` (Student's t over the occurrences) or ``"bootstrap"``
            (percentile interval of ``n_bootstrap`` resamples of the occurrences, seeded).
        punctuation: also aggregate word units without a letter or digit ("," "!").

    Occurrences are the sampling unit of the interval; a word repeated in one text counts
    each time (its occurrences are not independent, so such intervals are a little
    narrow).
    """
    items = list(explanations)
    occurrences = _Occurrences(over, labels, len(items), punctuation)
    occurrences.add(items, 0)
    return occurrences.aggregate(
        min_count=min_count,
        confidence=confidence,
        interval=interval,
        n_bootstrap=n_bootstrap,
        seed=seed,
    )


class _Occurrences:
    """The attribution of every word occurrence, kept compactly as it comes in (word ids,
    text ids, class ids and values in NumPy arrays, one set per batch of texts), so a
    large dataset is explained piece by piece and its explanations are not all kept."""

    def __init__(self, over: str, labels: Sequence | None, n_texts: int, punctuation: bool) -> None:
        if over not in ("all", "predicted", "label"):
            raise InputError(f"over must be 'all', 'predicted' or 'label', got {over!r}")
        if labels is not None and len(labels) != n_texts:
            raise InputError(f"{n_texts} explanations but {len(labels)} labels; give one per text")
        if over == "label" and labels is None:
            raise InputError(
                "over='label' needs the true labels (labels=); without them use "
                "over='predicted' (the model's predicted class) or over='all'"
            )
        self.over = over
        self.labels = labels
        self.n_texts = n_texts
        self.punctuation = punctuation
        self.vocabulary: dict[str, int] = {}
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self.first: Explanation | None = None
        self.classes: list = []
        self.index: dict = {}
        self.texts_per_class: np.ndarray = np.zeros(0, dtype=np.int64)
        self.explained = 0
        self.failed = 0
        self.first_error: str | None = None

    def _start(self, exp: Explanation) -> None:
        if exp.kind == "attention":
            raise InputError(
                "attention weights are not attributions (they are the same for every class "
                "and never negative); aggregate shap, lime or a gradient method"
            )
        self.first = exp
        self.classes = list(exp.classes)
        self.index = {c: j for j, c in enumerate(self.classes)}
        self.texts_per_class = np.zeros(len(self.classes), dtype=np.int64)

    def _columns(self, position: int, exp: Explanation) -> list[int]:
        if self.over == "all":
            return list(range(len(self.classes)))
        if self.over == "predicted":
            return [exp.predicted_index]
        assert self.labels is not None
        label = plain(self.labels[position])
        if label not in self.index:
            raise InputError(
                f"label {label!r} of text {position} is not among classes {self.classes}"
            )
        return [self.index[label]]

    def add(self, items: Sequence[Explanation | FailedExplanation], offset: int) -> None:
        """The explanations of texts ``offset``, ``offset + 1``, ... (in the data's order)."""
        words: list[int] = []
        texts: list[int] = []
        columns_of: list[int] = []
        values: list[float] = []
        for position, exp in enumerate(items, start=offset):
            if not isinstance(exp, Explanation):
                self.failed += 1
                self.first_error = self.first_error or exp.error
                continue
            if self.first is None:
                self._start(exp)
            elif exp.method != self.first.method or list(exp.classes) != self.classes:
                raise InputError(
                    "aggregate explanations of one method and one model at a time; got "
                    f"{self.first.method} and {exp.method}, classes {self.classes} and "
                    f"{list(exp.classes)}"
                )
            self.explained += 1
            columns = self._columns(position, exp)
            self.texts_per_class[columns] += 1
            visible = int(exp.settings.get("visible_words", len(exp.words)))
            scores = np.asarray(exp.attributions, dtype=float)
            for place, word in enumerate(exp.words[:visible]):
                unit = word.text.lower()
                if not self.punctuation and not is_word(unit):
                    continue
                word_id = self.vocabulary.setdefault(unit, len(self.vocabulary))
                for c in columns:
                    value = float(scores[place, c])
                    if math.isfinite(value):
                        words.append(word_id)
                        texts.append(position)
                        columns_of.append(c)
                        values.append(value)
        if values:
            self.parts.append(
                (
                    np.asarray(columns_of, dtype=np.int32),
                    np.asarray(words, dtype=np.int64),
                    np.asarray(texts, dtype=np.int64),
                    np.asarray(values, dtype=np.float64),
                )
            )

    def aggregate(
        self,
        *,
        min_count: int,
        confidence: float,
        interval: str,
        n_bootstrap: int,
        seed: int,
    ) -> GlobalAttributions:
        min_count = check_count("min_count", min_count, 1)
        if not 0 < confidence < 1:
            raise InputError(f"confidence must be between 0 and 1, got {confidence!r}")
        if interval not in ("t", "bootstrap"):
            raise InputError(f"interval must be 't' or 'bootstrap', got {interval!r}")
        n_bootstrap = check_count("n_bootstrap", n_bootstrap, 1)
        if self.first is None:
            total = self.explained + self.failed
            raise InputError(
                f"none of the {total} texts could be explained"
                + (f": {self.first_error}" if self.first_error else "")
            )
        names = np.asarray(list(self.vocabulary), dtype=object)
        if self.parts:
            c, w, t, v = (np.concatenate(column) for column in zip(*self.parts, strict=True))
        else:
            c = w = t = np.zeros(0, dtype=np.int64)
            v = np.zeros(0)
        long = pd.DataFrame({"c": c, "word": names[w] if len(w) else w, "text": t, "value": v})
        table = _aggregate(
            long,
            self.classes,
            min_count=min_count,
            confidence=confidence,
            interval=interval,
            n_bootstrap=n_bootstrap,
            seed=seed,
        )
        counts = dict(zip(self.classes, self.texts_per_class.tolist(), strict=True))
        notes = []
        if self.failed:
            notes.append(
                f"{self.failed} of {self.explained + self.failed} texts could not be explained "
                f"and are left out (the first: {self.first_error})"
            )
        empty = [label for label, n in counts.items() if n == 0]
        if empty:
            notes.append(
                f"no texts count for class {', '.join(map(str, empty))} (over={self.over!r})"
            )
        return GlobalAttributions(
            table=table,
            classes=self.classes,
            method=self.first.method,
            units=str(self.first.settings.get("units", "model output")),
            over=self.over,
            n_texts=self.explained,
            min_count=min_count,
            confidence=confidence,
            interval=interval if interval == "t" else f"bootstrap ({n_bootstrap} resamples)",
            n_failed=self.failed,
            texts_per_class=counts,
            notes=notes,
        )


def _aggregate(
    long: pd.DataFrame,
    classes: list,
    *,
    min_count: int,
    confidence: float,
    interval: str,
    n_bootstrap: int,
    seed: int,
) -> pd.DataFrame:
    if long.empty:
        return pd.DataFrame({name: [] for name in _FRAME_COLUMNS}).astype(
            {"count": int, "texts": int, "rare": bool, "mean": float, "mean_abs": float}
        )
    long = long.assign(absolute=long["value"].abs())
    grouped = long.groupby(["c", "word"], sort=False)
    table = grouped.agg(
        mean=("value", "mean"),
        mean_abs=("absolute", "mean"),
        std=("value", "std"),
        count=("value", "size"),
        texts=("text", "nunique"),
    ).reset_index()
    count = table["count"].to_numpy()
    if interval == "t":
        with np.errstate(invalid="ignore", divide="ignore"):
            half = stats.t.ppf(0.5 + confidence / 2, np.maximum(count - 1, 1)) * (
                table["std"].to_numpy() / np.sqrt(count)
            )
        half = np.where(count > 1, half, np.nan)
        table["low"], table["high"] = table["mean"] - half, table["mean"] + half
    else:
        rng = np.random.default_rng(seed)
        low = np.full(len(table), np.nan)
        high = np.full(len(table), np.nan)
        alpha = (1 - confidence) / 2
        for row, group in enumerate(grouped["value"]):
            sample = group[1].to_numpy()
            if len(sample) < 2:
                continue
            means = sample[rng.integers(0, len(sample), (n_bootstrap, len(sample)))].mean(1)
            low[row], high[row] = np.quantile(means, [alpha, 1 - alpha])
        table["low"], table["high"] = low, high
    table["std"] = table["std"].where(count > 1)
    table["rare"] = count < min_count
    table["class"] = [classes[c] for c in table["c"]]
    table = table.sort_values(["c", "mean_abs", "word"], ascending=[True, False, True])
    return table[_FRAME_COLUMNS].reset_index(drop=True)


# ----------------------------------------------------------------------- entry point
def global_attributions(
    model: TextModel,
    data: Examples | Sequence[str],
    labels: Sequence | None = None,
    *,
    method: str = "shap",
    over: Over = "all",
    min_count: int = 5,
    confidence: float = 0.95,
    interval: IntervalKind = "t",
    n_bootstrap: int = 1000,
    seed: int = 0,
    punctuation: bool = False,
    batched: bool = True,
    progress: bool = True,
    estimate: bool = True,
    **settings: Any,
) -> GlobalAttributions:
    """Explain every text of ``data`` with ``method`` and aggregate per class and word.

    Args:
        model: a fitted text model; gradient methods need a torch network, and a model
            without one (a scikit-learn pipeline, the TF-IDF baseline) gets an
            :class:`InputError` naming the methods it supports.
        data: texts, or :class:`Examples` (their texts and labels are used).
        labels: true labels of the texts (not needed unless ``over="label"``).
        method: shap, lime, integrated-gradients or gradient-x-input.
        batched: integrated gradients through :func:`batched_integrated_gradients`
            (the same numbers, faster); ``False`` explains one text at a time.
        seed: of the bootstrap interval, and of LIME's sampling.
        progress: progress bars, and the estimate printed before a long run (200 texts or
            more: the first texts are timed and the whole run extrapolated).
        settings: passed to the method (``max_evals=``, ``algorithm="exact"`` for shap;
            ``num_samples=`` for lime; ``n_steps=`` for integrated gradients).

    The other arguments are :func:`aggregate_attributions`'s. Texts that cannot be
    explained (e.g. blank) are left out and counted in a note; a setting the method does not
    take is refused before any text is explained. Texts are explained one after another
    (integrated gradients: in batched pieces of up to 512 texts) and only their word
    values are kept, so memory grows with the number of word occurrences, not with the
    explanations; under ``torchrun`` every process explains every text (use
    :func:`workbench.explain.explain` to shard, then :func:`aggregate_attributions`).
    """
    if isinstance(data, Examples):
        texts = data.texts
        labels = data.labels if labels is None else labels
    else:
        texts = as_text_list(data, "texts")
    if not texts:
        raise InputError("no texts to explain; global attributions need at least one")
    if labels is not None and len(labels) != len(texts):
        raise InputError(
            f"there are {len(texts)} texts but {len(labels)} labels; give one per text"
        )
    if over == "label" and labels is None:  # said before the explaining, not after
        raise InputError(
            "over='label' needs the true labels (labels=); without them use over='predicted' "
            "(the model's predicted class) or over='all'"
        )
    if method not in METHODS:
        raise InputError(f"unknown explanation method {method!r}; choose from {list(METHODS)}")
    if method == "attention":
        raise InputError(
            "attention weights are not attributions (the same for every class, never "
            "negative); use shap, lime, integrated-gradients or gradient-x-input"
        )
    check_fitted(model, "classes_")
    refused = unsupported_message(model, [method])
    if refused is not None:
        raise InputError(refused)
    use_batches = method == "integrated-gradients" and batched
    _check_settings(method, use_batches, settings)
    if method == "lime":
        settings = {**settings, "seed": seed}  # one seed: LIME's sampling and the bootstrap
    occurrences = _Occurrences(over, labels, len(texts), punctuation)
    tell = estimate and len(texts) >= ESTIMATE_FROM
    bar = progress_bar(total=len(texts), show=progress, desc=method, unit="text")
    started = time.perf_counter()
    try:
        if use_batches:
            for begin, end in timed_pieces(len(texts), _FIRST_PIECE, _PIECE_TEXTS):
                explanations = batched_integrated_gradients(
                    model,
                    texts[begin:end],
                    progress=False,
                    errors="record",
                    estimate=False,
                    **settings,
                )
                occurrences.add(explanations, begin)
                bar.update(end - begin)
                if begin == 0 and tell:
                    # extrapolated by length: the texts of a batched pass are not all alike
                    done = sum(map(len, texts[:end]))
                    total = sum(map(len, texts))
                    elapsed = time.perf_counter() - started
                    announce(
                        f"{method} (batched) over {plural(len(texts), 'text')}: about "
                        f"{duration(elapsed * total / max(done, 1))} in all (the first "
                        f"{end} took {elapsed:.1f} s)",
                        bar,
                        progress,
                    )
        else:
            for position, text in enumerate(texts):
                occurrences.add([_explain_one(model, text, method, settings)], position)
                bar.update(1)
                if position + 1 == _PROBE_TEXTS and tell:
                    each = (time.perf_counter() - started) / _PROBE_TEXTS
                    announce(
                        f"{method} over {plural(len(texts), 'text')}: about "
                        f"{duration(each * len(texts))} in all ({each:.2f} s per text over "
                        f"the first {_PROBE_TEXTS})",
                        bar,
                        progress,
                    )
    finally:
        bar.close()
    seconds = time.perf_counter() - started
    result = occurrences.aggregate(
        min_count=min_count,
        confidence=confidence,
        interval=interval,
        n_bootstrap=n_bootstrap,
        seed=seed,
    )
    result.settings = {
        **settings,
        "batched": use_batches,
        "seconds": round(seconds, 3),
        "seconds_per_text": round(seconds / len(texts), 5),
    }
    return result


def _check_settings(method: str, use_batches: bool, settings: dict) -> None:
    """A misspelt setting is said once, up front, not recorded as every text's failure."""
    if use_batches:
        known = {"n_steps", "max_tokens"}
    else:
        parameters = inspect.signature(METHODS[method]).parameters
        known = {name for name, p in parameters.items() if p.kind == p.KEYWORD_ONLY}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise InputError(
            f"{method} takes no setting {', '.join(unknown)}; its settings are "
            f"{', '.join(sorted(known - {'method'})) or '(none)'}"
        )


def _explain_one(
    model: TextModel, text: str, method: str, settings: dict
) -> Explanation | FailedExplanation:
    try:
        return explain(model, text, method, **settings)
    except Exception as exc:  # one odd text must not cost the explanations of the others
        return FailedExplanation(text, describe_error(exc))


# -------------------------------------------------------------- the linear baseline
def linear_coefficients(model: TfidfLogisticRegression) -> pd.DataFrame:
    """The single-word coefficients of a fitted TF-IDF + logistic regression, per class:
    ``class``, ``word``, ``coefficient`` (towards the class, per unit of TF-IDF weight).

    For two classes scikit-learn keeps one row of coefficients, towards the second class;
    towards the first it is the same row negated (their logit difference). Word pairs and
    character n-grams are left out: they have no one word to sit beside.
    """
    vectorizer = getattr(model, "vectorizer_", None)
    classifier = getattr(model, "classifier_", None)
    coef = getattr(classifier, "coef_", None)
    if vectorizer is None or coef is None:
        raise InputError(
            f"{type(model).__name__} is not a fitted TF-IDF + logistic regression "
            "(workbench.baselines.TfidfLogisticRegression): it has no vectorizer_ and "
            "classifier_.coef_ to read"
        )
    classes = [plain(c) for c in model.classes_]
    coef = np.asarray(coef, dtype=float)
    rows = np.vstack([-coef[0], coef[0]]) if coef.shape[0] == 1 else coef
    vocabulary = vectorizer.vocabulary_
    single = {t: j for t, j in vocabulary.items() if " " not in t and not t.startswith("char:")}
    terms = sorted(single)
    columns = np.fromiter((single[t] for t in terms), dtype=np.int64, count=len(terms))
    return pd.DataFrame(
        {
            "class": np.repeat(np.asarray(classes, dtype=object), len(terms)),
            "word": terms * len(classes),
            "coefficient": rows[:, columns].reshape(-1),
        }
    )


@dataclass
class LinearAgreement:
    """How a method's mean attributions rank words against a linear model's coefficients.

    Attributes:
        per_class: one row per class: ``n_shared`` (words in both), ``spearman`` and
            ``kendall`` (rank correlations of mean attribution and coefficient over the
            shared words, with p-values), ``k`` and ``top_k_overlap`` (share of the k
            words most towards the class by one that are among the k by the other).
        words: side by side per class and shared word: ``mean``, ``coefficient``,
            ``count`` and both ranks (1 = most towards the class).
    """

    per_class: pd.DataFrame
    words: pd.DataFrame
    method: str
    k: int
    include_rare: bool
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """``{"linear_agreement": [per class], "linear_agreement_method": {...}}``."""
        rows = [
            {key: _plain_setting(value) for key, value in row.items()}
            for row in self.per_class.to_dict("records")
        ]
        return {
            "linear_agreement": rows,
            "linear_agreement_method": {
                "method": self.method,
                "baseline": "TF-IDF + logistic regression, single-word coefficients",
                "k": self.k,
                "include_rare": self.include_rare,
                "notes": list(self.notes),
            },
        }

    def summary(self) -> str:
        lines = [f"{self.method} mean attributions vs the TF-IDF coefficients"]
        for row in self.per_class.to_dict("records"):
            lines.append(
                f"  {row['class']}: {row['n_shared']} shared words, Spearman "
                f"{_fmt(row['spearman'])}, Kendall {_fmt(row['kendall'])}, "
                f"top-{row['k']} overlap {_fmt(row['top_k_overlap'])}"
            )
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)


def compare_with_linear(
    result: GlobalAttributions,
    linear: TfidfLogisticRegression | None = None,
    *,
    texts: Sequence[str] | None = None,
    labels: Sequence | None = None,
    k: int = 20,
    include_rare: bool = False,
) -> LinearAgreement:
    """Rank agreement between ``result``'s mean attributions and a TF-IDF + logistic
    regression's single-word coefficients, per class, over the words both have.

    ``linear`` is a fitted :class:`~workbench.baselines.TfidfLogisticRegression`; without
    it, one is fitted (its defaults) on ``texts`` and ``labels`` (the same data). Rare
    words (fewer than the result's ``min_count`` occurrences) are left out unless
    ``include_rare``; ``k`` words towards each class are compared by overlap.
    """
    k = check_count("k", k, 1)
    if linear is None:
        if texts is None or labels is None:
            raise InputError(
                "give a fitted TfidfLogisticRegression, or texts= and labels= to fit one on"
            )
        from workbench.baselines import TfidfLogisticRegression

        linear = TfidfLogisticRegression().fit(texts, labels)
    coefficients = linear_coefficients(linear)
    linear_classes = list(dict.fromkeys(coefficients["class"]))
    if [str(c) for c in linear_classes] != [str(c) for c in result.classes]:
        raise InputError(
            f"the linear model's classes {linear_classes} are not the explained model's "
            f"{result.classes}; fit it on the same labels"
        )
    rows, sides, notes = [], [], []
    for label, linear_label in zip(result.classes, linear_classes, strict=True):
        ours = result.for_class(label, include_rare=include_rare)[["word", "mean", "count"]]
        theirs = coefficients[coefficients["class"] == linear_label][["word", "coefficient"]]
        shared = ours.merge(theirs, on="word", how="inner")
        shared["rank_mean"] = shared["mean"].rank(ascending=False, method="min").astype(int)
        shared["rank_coefficient"] = (
            shared["coefficient"].rank(ascending=False, method="min").astype(int)
        )
        shared.insert(0, "class", label)
        sides.append(shared.sort_values("rank_coefficient", kind="stable"))
        n = len(shared)
        row: dict[str, Any] = {"class": label, "n_shared": n, "k": min(k, n)}
        if n >= 3:
            rho = stats.spearmanr(shared["mean"], shared["coefficient"])
            tau = stats.kendalltau(shared["mean"], shared["coefficient"])
            top_mean = set(shared.nsmallest(min(k, n), "rank_mean", keep="first")["word"])
            top_coef = set(shared.nsmallest(min(k, n), "rank_coefficient", keep="first")["word"])
            row |= {
                "spearman": float(rho.statistic),
                "spearman_p": float(rho.pvalue),
                "kendall": float(tau.statistic),
                "kendall_p": float(tau.pvalue),
                "top_k_overlap": len(top_mean & top_coef) / min(k, n),
            }
        else:
            row |= dict.fromkeys(
                ("spearman", "spearman_p", "kendall", "kendall_p", "top_k_overlap"), None
            )
            notes.append(f"class {label}: only {n} shared words; no rank agreement computed")
        rows.append(row)
    return LinearAgreement(
        per_class=pd.DataFrame(rows),
        words=pd.concat(sides, ignore_index=True),
        method=result.method,
        k=k,
        include_rare=include_rare,
        notes=notes,
    )


# --------------------------------------------------------------------------- helpers
def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _number(value: Any) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _plain_setting(value: Any) -> Any:
    if isinstance(value, (np.floating, float)):
        return _number(value)
    if isinstance(value, np.integer):
        return int(value)
    return plain(value) if isinstance(value, np.generic) else value


def _fmt(value: float | None) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.3f}"
