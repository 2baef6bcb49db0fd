"""How alike explanations are: agreement between methods, stability across seeds.

**Agreement** (:func:`agreement`, :func:`agreement_matrix`) compares two methods on the
same words; **stability** (:func:`stability`) compares one method with itself across
seeds. Agreement says nothing about faithfulness
(:mod:`workbench.explain.faithfulness`): two methods can agree and both be wrong about the
model.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import kendalltau, spearmanr

from workbench.errors import InputError
from workbench.explain.base import Explanation
from workbench.explain.ranking import _count, _label, _ranking, _scores


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
    names: list[str] = []
    seen: dict[str, int] = {}
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
