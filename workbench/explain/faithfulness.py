"""How far to trust an explanation: its faithfulness to the model.

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

Agreement and stability (:mod:`workbench.explain.agreement`) and plausibility
(:mod:`workbench.explain.plausibility`) weigh an explanation in other ways; they say
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
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.integrate import trapezoid

from workbench.errors import InputError
from workbench.estimators import TextModel
from workbench.explain.base import Explanation, ModelPredictor, remove_words
from workbench.explain.ranking import _count, _label, _ranking, _scores
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


def _as_predictor(model: TextModel | ModelPredictor) -> ModelPredictor:
    # ModelPredictor checks that the model is fitted (has classes_)
    return model if isinstance(model, ModelPredictor) else ModelPredictor(model)


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
    removal_ks: Sequence[int] | np.ndarray,
    kept_ks: Sequence[int] | np.ndarray,
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


def _prepare(model: TextModel | ModelPredictor, explanation: Explanation, label: Any) -> _Prepared:
    predictor = _as_predictor(model)
    label = _label(explanation, label)
    scores = _scores(explanation, label)
    return _Prepared(predictor, _column(predictor, label), explanation.words, _ranking(scores))


# --------------------------------------------------------------------------- metrics
def comprehensiveness(
    model: TextModel | ModelPredictor, explanation: Explanation, k: int, *, label=None
) -> float:
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


def sufficiency(
    model: TextModel | ModelPredictor, explanation: Explanation, k: int, *, label=None
) -> float:
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
    model: TextModel | ModelPredictor,
    explanation: Explanation,
    *,
    bins: Sequence[float] = BINS,
    label=None,
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
    model: TextModel | ModelPredictor,
    explanation: Explanation,
    *,
    steps: int | None = None,
    label=None,
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
    model: TextModel | ModelPredictor,
    explanation: Explanation,
    *,
    steps: int | None = None,
    label=None,
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
    model: TextModel | ModelPredictor,
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
