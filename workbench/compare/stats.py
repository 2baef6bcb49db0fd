"""Is one model really better than another on this test set?

McNemar's exact test looks only at the examples exactly one of two models gets right;
Holm's step-down adjustment keeps the family-wise error rate when every pair is tested;
the paired bootstrap gives an interval of the accuracy difference that respects the
pairing (both models scored on the same resampled examples).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import binomtest

from workbench.errors import InputError
from workbench.evaluate import ConfidenceInterval, percentile_interval, resample_index_chunks


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value from the discordant counts.

    ``b``: examples only the first model gets right; ``c``: only the second. Under the
    null hypothesis (equal error rates) each discordant example is a fair coin, so the
    p-value is a two-sided binomial test of ``b`` successes in ``b + c`` trials at 1/2;
    1.0 when the models never disagree on correctness.
    """
    if b < 0 or c < 0:
        raise InputError(f"discordant counts must be non-negative, got b={b}, c={c}")
    if b + c == 0:
        return 1.0
    return float(binomtest(int(b), int(b + c), 0.5, alternative="two-sided").pvalue)


def holm(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment: controls the family-wise error rate over all pairs.

    Sort the m p-values ascending; the i-th smallest (from 0) is multiplied by ``m - i``,
    the running maximum keeps the adjusted values in the same order, capped at 1.
    """
    p = np.asarray(p_values, dtype=np.float64)
    if p.ndim != 1:
        raise InputError(f"p_values must be one-dimensional, got shape {p.shape}")
    m = len(p)
    order = np.argsort(p, kind="stable")
    adjusted_sorted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    adjusted = np.empty(m)
    adjusted[order] = adjusted_sorted
    return adjusted


def paired_bootstrap_diff(
    correct_a: Sequence[bool] | np.ndarray,
    correct_b: Sequence[bool] | np.ndarray,
    *,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> ConfidenceInterval:
    """Percentile bootstrap interval of ``accuracy(a) - accuracy(b)`` on one test set.

    Both models are scored on the same resampled examples in each round, so the interval
    reflects the pairing (much narrower than two independent intervals when the models
    agree on most examples).
    """
    a = np.asarray(correct_a, dtype=np.float64)
    b = np.asarray(correct_b, dtype=np.float64)
    if a.ndim != 1 or a.shape != b.shape or a.size == 0:
        raise InputError(
            f"correct_a and correct_b must be non-empty 1-D arrays of equal length, "
            f"got shapes {a.shape} and {b.shape}"
        )
    if not isinstance(n_bootstrap, (int, np.integer)) or n_bootstrap < 1:
        raise InputError(f"n_bootstrap must be a positive integer, got {n_bootstrap!r}")
    if not 0.0 < confidence < 1.0:
        raise InputError(f"confidence must lie strictly between 0 and 1, got {confidence!r}")
    difference = a - b
    samples = np.concatenate(
        [difference[rows].mean(axis=1) for rows in resample_index_chunks(a.size, n_bootstrap, seed)]
    )
    return percentile_interval(samples, confidence)
