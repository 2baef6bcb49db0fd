"""How far to trust an explanation: faithfulness to the model, agreement, stability, plausibility.

**Faithfulness** asks whether the words an explanation ranks highest really drive the
model. Every metric here ranks the words by their attribution towards the explained class
``y`` (default: the predicted class; ``explanation.for_class(label)``), highest first, ties
broken by word order, then deletes words with :func:`~workbench.explain.base.remove_words`
(the project's one absence convention: the remaining words joined by single spaces) and
reads the model's probability ``p_y``. The reference ``p_y(x)`` is the model's probability
on ``remove_words(words, all True)``, the full text rebuilt under that same convention,
not the raw input string, so removing zero words changes nothing by construction.

All perturbed texts of one explanation (and, in :func:`faithfulness`, of its random
baselines too) go to one :class:`~workbench.explain.base.ModelPredictor` call, so the model
sees them in batches and a text that two metrics share is scored once. Pass a
``ModelPredictor`` instead of a model to share its cache across calls.

Higher is more faithful for comprehensiveness and insertion AUC; lower for sufficiency and
deletion AUC. A number means something only next to its random twin
(:attr:`FaithfulnessReport.random`): a ranking that beats random permutations of itself
tells you something about the model; one that does not, tells you nothing.

**Agreement** (:func:`agreement`, :func:`agreement_matrix`) compares two methods on the
same words; **stability** (:func:`stability`) compares one method with itself across
seeds; **plausibility** (:func:`plausibility`) compares an explanation with human
rationales (see :func:`workbench.data.load_eraser_movies`). Agreement and plausibility say
nothing about faithfulness: two methods can agree and both be wrong about the model.

How this differs from other tools (same names, different numbers):

- ERASER (DeYoung et al., 2020) removes tokens of its own tokenizer from the document. Its
  scorer only averages the probability deltas each submission reports per bin; turning a
  bin into a token count is left to the submission, and truncating with ``int`` (common in
  ERASER-style code) gives zero tokens for 1% of a short text. We delete word units and
  use ``ceil`` with a minimum of one word (:func:`top_k_count`). Its AOPC is the plain mean
  over the bins, as here.
- ferret removes subword tokens of a Hugging Face tokenizer and decodes the rest; its AOPC
  averages over every k from 1 to the number of tokens by default (skipping repeated
  rationales), and its explainers normalise scores (which leaves rankings unchanged). Its
  and ERASER's "AUPRC" integrate the precision-recall curve with the trapezoid rule; we
  use average precision (scikit-learn's ``average_precision_score``, a step sum).
- Captum's ``infidelity`` is a different quantity: the expected squared error between
  ``attributionᵀ·perturbation`` and the output change under random (by default Gaussian)
  input perturbations. Nothing here computes it.
"""

from __future__ import annotations

import math
import operator
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from scipy.integrate import trapezoid
from scipy.stats import kendalltau, spearmanr
from sklearn.metrics import average_precision_score, f1_score

from workbench.errors import InputError
from workbench.explain.base import Explanation, ModelPredictor, remove_words
from workbench.tokenizer import Word

BINS = (0.01, 0.05, 0.10, 0.20, 0.50)  # ERASER's AOPC bins (fractions of the words)

# Curves score every k = 0..n while that is at most this many points; longer texts get
# this many evenly spaced k, so a 700-word review costs 51 texts per curve, not 701.
DEFAULT_CURVE_POINTS = 51

METRIC_NAMES = (
    "comprehensiveness",
    "sufficiency",
    "aopc_comprehensiveness",
    "aopc_sufficiency",
    "deletion_auc",
    "insertion_auc",
)


# --------------------------------------------------------------------------- helpers
def top_k_count(num_words: int, fraction: float) -> int:
    """How many words make up the top ``fraction`` of a text: ``max(1, ceil(fraction · n))``.

    ``ceil`` with a minimum of one word, so every bin removes something even in a short
    sentence (truncating with ``int`` gives 0 words for 1% of a 50-word text).
    The product is rounded to 9 decimals first, so float noise does not add a word
    (``0.1 * 30`` is ``3.0000000000000004`` in floating point, yet means 3 words).
    """
    num_words = _count(num_words, "num_words")
    if num_words < 1:
        raise InputError("num_words must be at least 1; a text with no words has no top words")
    if not 0 < fraction <= 1:
        raise InputError(f"fraction must be in (0, 1], got {fraction}; e.g. 0.2 for the top 20%")
    return max(1, math.ceil(round(fraction * num_words, 9)))


def _count(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise InputError(f"{name} must be an integer, got {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise InputError(f"{name} must be an integer, got {value!r}") from None


def _as_predictor(model: Any) -> ModelPredictor:
    # ModelPredictor checks that the model is fitted (has classes_)
    return model if isinstance(model, ModelPredictor) else ModelPredictor(model)


def _label(explanation: Explanation, label: Any) -> Any:
    """The explained class: ``label`` if given, else the explanation's predicted class."""
    if label is None:
        return explanation.predicted_label
    if label not in list(explanation.classes):
        raise InputError(
            f"label {label!r} is not one of the explanation's classes {list(explanation.classes)}"
            "; pass one of them, or label=None for the predicted class"
        )
    return label


def _scores(explanation: Explanation, label: Any) -> np.ndarray:
    """Attributions towards ``label`` (already resolved), checked to be finite."""
    if not explanation.words:
        raise InputError(
            "the explanation has no words; faithfulness and agreement need at least one word"
        )
    scores = np.asarray(explanation.for_class(label), dtype=np.float64)
    if scores.shape != (len(explanation.words),):
        raise InputError(
            f"the explanation has {len(explanation.words)} words but {scores.shape} "
            "attributions for the class; it is malformed, re-run the explainer"
        )
    if not np.all(np.isfinite(scores)):
        raise InputError(
            f"the {explanation.method} explanation has non-finite attributions (nan or inf); "
            "re-run the explainer (more samples, or check the model's outputs)"
        )
    return scores


def _ranking(scores: np.ndarray) -> np.ndarray:
    """Word indices by attribution, highest first; ties keep word order (stable sort)."""
    return np.argsort(-scores, kind="stable")


def _column(predictor: ModelPredictor, label: Any) -> int:
    classes = list(predictor.model.classes_)
    for index, name in enumerate(classes):
        if name == label:
            return index
    raise InputError(
        f"label {label!r} is not among the model's classes {classes}; was the explanation "
        "made with this model?"
    )


def _check_k(k: Any, num_words: int) -> int:
    k = _count(k, "k")
    if not 0 <= k <= num_words:
        raise InputError(
            f"k={k} but the text has {num_words} words; pass k between 1 and {num_words}"
        )
    return k


def _curve_ks(num_words: int, steps: int | None) -> np.ndarray:
    """The word counts at which a curve is read: all of 0..n, or ``steps`` evenly spaced."""
    if steps is None:
        steps = min(num_words + 1, DEFAULT_CURVE_POINTS)
    steps = _count(steps, "steps")
    if steps < 2:
        raise InputError(f"steps must be at least 2 (the two ends of the curve), got {steps}")
    steps = min(steps, num_words + 1)
    return np.unique(np.round(np.linspace(0, num_words, steps)).astype(int))


@dataclass
class _Scored:
    """``p_y`` for one set of rankings: the reference, and each ranking's perturbations."""

    reference: float
    removed: np.ndarray  # (rankings, len(removal_ks)): top-k words deleted
    kept: np.ndarray  # (rankings, len(kept_ks)): only the top-k words kept


def _score_rankings(
    predictor: ModelPredictor,
    column: int,
    words: Sequence[Word],
    rankings: Sequence[np.ndarray],
    removal_ks: Sequence[int],
    kept_ks: Sequence[int],
) -> _Scored:
    """Build every perturbed text for every ranking and score them in one predictor call."""
    n = len(words)
    texts = [remove_words(words, np.ones(n, dtype=bool))]
    for ranking in rankings:
        for k in removal_ks:
            keep = np.ones(n, dtype=bool)
            keep[ranking[:k]] = False
            texts.append(remove_words(words, keep))
        for k in kept_ks:
            keep = np.zeros(n, dtype=bool)
            keep[ranking[:k]] = True
            texts.append(remove_words(words, keep))
    p = predictor(texts)[:, column]
    per_ranking = p[1:].reshape(len(rankings), len(removal_ks) + len(kept_ks))
    return _Scored(
        reference=float(p[0]),
        removed=per_ranking[:, : len(removal_ks)],
        kept=per_ranking[:, len(removal_ks) :],
    )


@dataclass
class _Prepared:
    predictor: ModelPredictor
    column: int
    words: list[Word]
    ranking: np.ndarray


def _prepare(model: Any, explanation: Explanation, label: Any) -> _Prepared:
    predictor = _as_predictor(model)
    label = _label(explanation, label)
    scores = _scores(explanation, label)
    return _Prepared(predictor, _column(predictor, label), explanation.words, _ranking(scores))


# --------------------------------------------------------------------------- metrics
def comprehensiveness(model: Any, explanation: Explanation, k: int, *, label=None) -> float:
    """``p_y(x) − p_y(x without its top-k words)`` (ERASER, DeYoung et al. 2020).

    How much the probability of class ``y`` falls when the ``k`` highest-ranked words are
    deleted. Higher is more faithful: the words the explanation points at mattered.
    ``p_y(x)`` is the probability on the full text rebuilt by ``remove_words`` (all words
    kept), so the two terms differ only by the deleted words. ``0 <= k <= len(words)``.
    """
    prep = _prepare(model, explanation, label)
    k = _check_k(k, len(prep.words))
    scored = _score_rankings(prep.predictor, prep.column, prep.words, [prep.ranking], [k], [])
    return scored.reference - float(scored.removed[0, 0])


def sufficiency(model: Any, explanation: Explanation, k: int, *, label=None) -> float:
    """``p_y(x) − p_y(only the top-k words of x, in their order)`` (ERASER).

    How much probability the top ``k`` words alone fail to recover. Lower is more faithful;
    negative means the top words alone are even more convincing than the whole text.
    ``p_y(x)`` is the probability on the full text rebuilt by ``remove_words``.
    """
    prep = _prepare(model, explanation, label)
    k = _check_k(k, len(prep.words))
    scored = _score_rankings(prep.predictor, prep.column, prep.words, [prep.ranking], [], [k])
    return scored.reference - float(scored.kept[0, 0])


def _check_bins(bins: Sequence[float]) -> tuple[float, ...]:
    bins = tuple(float(b) for b in bins)
    if not bins or not all(0 < b <= 1 for b in bins):
        raise InputError(f"bins must be fractions in (0, 1], e.g. {BINS}; got {bins}")
    return bins


def aopc(
    model: Any, explanation: Explanation, *, bins: Sequence[float] = BINS, label=None
) -> dict[str, float]:
    """Comprehensiveness and sufficiency averaged over bins (ERASER's AOPC).

    With ``n`` words and ``k_b = top_k_count(n, b)``::

        aopc_comprehensiveness = mean over b in bins of comprehensiveness(k_b)
        aopc_sufficiency       = mean over b in bins of sufficiency(k_b)

    The mean is over the bins as listed (a bin whose ``k_b`` repeats another's counts
    twice; on a 5-word text the bins 1%, 5%, 10% and 20% all mean one word). ERASER averages
    the same way; ferret instead averages over every k and skips repeats.

    Returns:
        ``{"comprehensiveness": ..., "sufficiency": ...}``.
    """
    prep = _prepare(model, explanation, label)
    ks = [top_k_count(len(prep.words), b) for b in _check_bins(bins)]
    scored = _score_rankings(prep.predictor, prep.column, prep.words, [prep.ranking], ks, ks)
    return {
        "comprehensiveness": float(np.mean(scored.reference - scored.removed[0])),
        "sufficiency": float(np.mean(scored.reference - scored.kept[0])),
    }


@dataclass
class Curve:
    """``p_y`` as the top words are removed (deletion) or added (insertion).

    ``fractions[i]`` is the fraction of the words removed or added (``k / n``, from 0 to 1);
    ``probabilities[i]`` is ``p_y`` there; ``auc`` is the trapezoid-rule area under it.
    """

    fractions: np.ndarray
    probabilities: np.ndarray
    auc: float


def deletion_curve(
    model: Any, explanation: Explanation, *, steps: int | None = None, label=None
) -> Curve:
    """``p_y`` after deleting the top ``k`` words, for ``k`` from 0 (full text) to ``n`` (empty).

    ``k`` runs over every value 0..n when ``n + 1 <= 51``, else over ``steps`` (default 51)
    evenly spaced values, rounded, always including 0 and ``n``. The area is the trapezoid
    rule over the fraction ``k / n``. Lower area is more faithful: the probability falls
    fast once the top words go. The first point is ``p_y(x)`` on the full text rebuilt by
    ``remove_words``; the last is the model's output on the empty text ``""``, a valid
    input that says what the model predicts with no words at all.
    """
    prep = _prepare(model, explanation, label)
    ks = _curve_ks(len(prep.words), steps)
    scored = _score_rankings(prep.predictor, prep.column, prep.words, [prep.ranking], ks, [])
    return _curve(ks, len(prep.words), scored.removed[0])


def insertion_curve(
    model: Any, explanation: Explanation, *, steps: int | None = None, label=None
) -> Curve:
    """``p_y`` of the text made of only the top ``k`` words, ``k`` from 0 (empty) to ``n``.

    The same points and area as :func:`deletion_curve`, growing the text from the empty
    string instead. Higher area is more faithful: a few top words already recover the
    prediction. The last point is ``p_y(x)`` on the full text rebuilt by ``remove_words``.
    """
    prep = _prepare(model, explanation, label)
    ks = _curve_ks(len(prep.words), steps)
    scored = _score_rankings(prep.predictor, prep.column, prep.words, [prep.ranking], [], ks)
    return _curve(ks, len(prep.words), scored.kept[0])


def _curve(ks: np.ndarray, num_words: int, probabilities: np.ndarray) -> Curve:
    fractions = ks / num_words
    probabilities = np.asarray(probabilities, dtype=np.float64)
    return Curve(fractions, probabilities, float(trapezoid(probabilities, fractions)))


# --------------------------------------------------------------------------- report
@dataclass
class FaithfulnessReport:
    """Six faithfulness numbers for one explanation, and the same six for random rankings.

    ``random[name]`` is the mean of metric ``name`` over ``random_repeats`` random
    permutations of the words; compare each number with its twin there.
    """

    method: str
    k: int
    comprehensiveness: float
    sufficiency: float
    aopc_comprehensiveness: float
    aopc_sufficiency: float
    deletion_auc: float
    insertion_auc: float
    random: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the fields above, ``random`` as a nested dict."""
        return asdict(self)


def faithfulness(
    model: Any,
    explanation: Explanation,
    *,
    k: int | None = None,
    label=None,
    random_repeats: int = 10,
    seed: int = 0,
    bins: Sequence[float] = BINS,
    steps: int | None = None,
) -> FaithfulnessReport:
    """All six faithfulness metrics for ``explanation``, next to a random-ranking baseline.

    ``k`` (for comprehensiveness and sufficiency) defaults to ``top_k_count(n, 0.2)``, the
    top 20% of the words. The baseline replaces the explanation's ranking with
    ``random_repeats`` permutations drawn from ``numpy.random.default_rng(seed)``, computes
    every metric for each, and averages (``random_repeats=0`` gives nan there). The real
    and random rankings share one code path, and all their perturbed texts are scored in
    one ``ModelPredictor`` call (identical texts once). Definitions: :func:`comprehensiveness`,
    :func:`sufficiency`, :func:`aopc` (``bins``), :func:`deletion_curve` and
    :func:`insertion_curve` (``steps``).
    """
    prep = _prepare(model, explanation, label)
    n = len(prep.words)
    k = top_k_count(n, 0.2) if k is None else _check_k(k, n)
    random_repeats = _count(random_repeats, "random_repeats")
    if random_repeats < 0:
        raise InputError(f"random_repeats must be 0 or more, got {random_repeats}")
    rng = np.random.default_rng(seed)
    rankings = [prep.ranking] + [rng.permutation(n) for _ in range(random_repeats)]

    bin_ks = [top_k_count(n, b) for b in _check_bins(bins)]
    curve_ks = _curve_ks(n, steps)
    ks = [k, *bin_ks, *curve_ks]  # the same k list serves deletion and keeping
    scored = _score_rankings(prep.predictor, prep.column, prep.words, rankings, ks, ks)

    ref = scored.reference
    bins_at = slice(1, 1 + len(bin_ks))
    curve_at = slice(1 + len(bin_ks), None)
    fractions = curve_ks / n
    table = np.column_stack(
        [
            ref - scored.removed[:, 0],
            ref - scored.kept[:, 0],
            (ref - scored.removed[:, bins_at]).mean(axis=1),
            (ref - scored.kept[:, bins_at]).mean(axis=1),
            trapezoid(scored.removed[:, curve_at], fractions, axis=1),
            trapezoid(scored.kept[:, curve_at], fractions, axis=1),
        ]
    )  # (rankings, 6)
    real = dict(zip(METRIC_NAMES, (float(v) for v in table[0]), strict=True))
    random = {
        name: float(table[1:, i].mean()) if random_repeats else math.nan
        for i, name in enumerate(METRIC_NAMES)
    }
    return FaithfulnessReport(method=explanation.method, k=k, random=random, **real)


# --------------------------------------------------------------------------- agreement
def _check_same_words(explanations: Sequence[Explanation]) -> None:
    first = explanations[0]
    for other in explanations[1:]:
        if other.words == first.words:
            continue
        at = next(
            (i for i, (a, b) in enumerate(zip(first.words, other.words, strict=False)) if a != b),
            min(len(first.words), len(other.words)),
        )
        seen = [e.words[at].text if at < len(e.words) else "<end>" for e in (first, other)]
        raise InputError(
            f"the {first.method} and {other.method} explanations have different word units "
            f"({len(first.words)} vs {len(other.words)} words; first difference at word "
            f"{at}: {seen[0]!r} vs {seen[1]!r}); explain the same text with the same model "
            "(tokenizer) before comparing"
        )


def _top_k_overlap(a: np.ndarray, b: np.ndarray, k: int) -> float:
    k = min(k, len(a))
    return len(set(_ranking(a)[:k].tolist()) & set(_ranking(b)[:k].tolist())) / k


def _correlation(function, a: np.ndarray, b: np.ndarray) -> float:
    # A constant vector has no ranking to correlate: scipy warns and returns nan; nan is
    # the documented answer, so the warning would only be noise in a notebook.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(function(a, b).statistic)


def _check_top_k(k: Any) -> int:
    k = _count(k, "k")
    if k < 1:
        raise InputError(f"k must be at least 1, got {k}")
    return k


def agreement(a: Explanation, b: Explanation, *, k: int = 5, label=None) -> dict[str, float]:
    """How alike two explanations of the same text are, for the same class.

    Both are read towards ``label`` (default: ``a``'s predicted class)::

        spearman      = Spearman rank correlation of the two attribution vectors
        kendall       = Kendall's tau-b of the same vectors
        top_k_overlap = |top-k(a) ∩ top-k(b)| / k   (k capped at the number of words)

    A constant attribution vector (say, all zeros) has no ranking, so both correlations are
    ``nan`` for it. Agreement is not faithfulness: two methods can share the same mistake.

    Raises:
        InputError: if the word units differ (a different text or tokenizer).
    """
    _check_same_words([a, b])
    k = _check_top_k(k)
    label = _label(a, label)
    sa, sb = _scores(a, label), _scores(b, _label(b, label))
    return {
        "spearman": _correlation(spearmanr, sa, sb),
        "kendall": _correlation(kendalltau, sa, sb),
        "top_k_overlap": _top_k_overlap(sa, sb, k),
    }


def _unique_names(explanations: Sequence[Explanation]) -> list[str]:
    names, seen = [], {}
    for e in explanations:
        seen[e.method] = seen.get(e.method, 0) + 1
        names.append(e.method if seen[e.method] == 1 else f"{e.method} ({seen[e.method]})")
    return names


def agreement_matrix(
    explanations: Sequence[Explanation], *, k: int = 5, label=None, metric: str = "spearman"
) -> pd.DataFrame:
    """Pairwise :func:`agreement` between methods as a square table.

    Index and columns are the method names (a repeated name gets `` (2)``, `` (3)``...).
    Every pair is read towards the same class: ``label``, default the first explanation's
    predicted class. ``metric`` picks the number: ``"spearman"`` (default), ``"kendall"`` or
    ``"top_k_overlap"`` (which uses ``k``). The diagonal is 1 by definition, even for a
    constant explanation whose correlation with anything else is nan.
    """
    if metric not in ("spearman", "kendall", "top_k_overlap"):
        raise InputError(f"metric must be 'spearman', 'kendall' or 'top_k_overlap', got {metric!r}")
    explanations = list(explanations)
    if not explanations:
        raise InputError("agreement_matrix needs at least one explanation")
    _check_same_words(explanations)
    label = _label(explanations[0], label)
    names = _unique_names(explanations)
    matrix = np.eye(len(explanations))
    for i, j in combinations(range(len(explanations)), 2):
        value = agreement(explanations[i], explanations[j], k=k, label=label)[metric]
        matrix[i, j] = matrix[j, i] = value
    return pd.DataFrame(matrix, index=names, columns=names)


def stability(explanations: Sequence[Explanation], *, k: int = 5, label=None) -> dict[str, float]:
    """How much one method's explanation of one text moves between runs (seeds).

    With ``A[r, i]`` the attribution of word ``i`` in run ``r`` towards ``label`` (default:
    the first run's predicted class)::

        mean_spearman      = mean over pairs of runs of Spearman(A[r], A[s])
        mean_top_k_overlap = mean over pairs of |top-k(A[r]) ∩ top-k(A[s])| / k
        mean_std           = mean over words i of std_r(A[r, i])   (population std, ddof=0)
        relative_std       = mean_std / mean over r, i of |A[r, i]|

    ``mean_spearman`` is nan if any run's attributions are constant; ``relative_std`` is
    nan when every attribution is zero.

    Raises:
        InputError: with fewer than two explanations, or if their words differ.
    """
    explanations = list(explanations)
    if len(explanations) < 2:
        raise InputError(
            f"stability needs at least two explanations of the same text (runs with "
            f"different seeds), got {len(explanations)}"
        )
    _check_same_words(explanations)
    k = _check_top_k(k)
    label = _label(explanations[0], label)
    runs = np.stack([_scores(e, _label(e, label)) for e in explanations])  # (runs, words)
    pairs = list(combinations(range(len(runs)), 2))
    mean_std = float(runs.std(axis=0).mean())
    scale = float(np.abs(runs).mean())
    return {
        "mean_spearman": float(
            np.mean([_correlation(spearmanr, runs[r], runs[s]) for r, s in pairs])
        ),
        "mean_top_k_overlap": float(
            np.mean([_top_k_overlap(runs[r], runs[s], k) for r, s in pairs])
        ),
        "mean_std": mean_std,
        "relative_std": mean_std / scale if scale > 0 else math.nan,
    }


# --------------------------------------------------------------------------- plausibility
def rationale_mask(words: Sequence[Word], spans: Sequence[tuple[int, int]]) -> np.ndarray:
    """One bool per word: True when its span ``[start, end)`` overlaps any rationale span.

    Spans are character ranges ``(start, end)``, end exclusive, in the text the words come
    from (as :func:`workbench.data.load_eraser_movies` returns them). A word touched by a
    span only in part counts as rationale; an empty span marks nothing.
    """
    checked = []
    for span in spans:
        try:
            start, end = (_count(v, "span bound") for v in span)
        except (TypeError, ValueError):
            raise InputError(
                f"each rationale span must be a (start, end) pair, got {span!r}"
            ) from None
        if start > end:
            raise InputError(f"rationale span {span!r} ends before it starts; use (start, end)")
        checked.append((start, end))
    return np.array(
        [any(w.start < end and start < w.end for start, end in checked) for w in words],
        dtype=bool,
    )


def plausibility(explanation: Explanation, human: np.ndarray, *, label=None) -> dict[str, float]:
    """How well the explanation matches human rationale words (ERASER's plausibility).

    With ``m`` = the number of human rationale words and attributions towards ``label``
    (default: the predicted class)::

        token_f1 = F1 between the top-m words of the explanation and the human words
        auprc    = average_precision_score(human, attributions)

    Because exactly ``m`` words are predicted, precision, recall and F1 coincide here
    (``|top-m ∩ human| / m``). ERASER's token F1 scores a model's own hard rationale and its
    "AUPRC" integrates the precision-recall curve by the trapezoid rule; average precision
    is the step-wise sum, which does not interpolate optimistically. Plausibility is not
    faithfulness: the model need not use the words people would.

    Only the words the model read are scored (``settings["visible_words"]``, set by every
    explainer): words past its ``max_length`` get no attribution from any method, so a
    human rationale there says nothing about the explanation.

    Raises:
        InputError: if ``human`` has no True entry among the words the model read, or its
            length is not the word count.
    """
    human = np.asarray(human, dtype=bool)
    if human.ndim != 1 or len(human) != len(explanation.words):
        raise InputError(
            f"human rationale mask has shape {human.shape} but the explanation has "
            f"{len(explanation.words)} words; build it with "
            "rationale_mask(explanation.words, spans)"
        )
    seen = int(explanation.settings.get("visible_words", len(human)))
    human = human[:seen]
    if not human.any():
        raise InputError(
            f"the human rationale marks none of the {seen} words the model read; plausibility "
            "needs at least one (check the spans belong to this text)"
        )
    scores = _scores(explanation, _label(explanation, label))[:seen]
    predicted = np.zeros(len(human), dtype=bool)
    predicted[_ranking(scores)[: int(human.sum())]] = True
    return {
        "token_f1": float(f1_score(human, predicted)),
        "auprc": float(average_precision_score(human, scores)),
    }
