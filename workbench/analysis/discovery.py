"""Slice discovery: which words go with the model's errors?

Every word unit and every run of up to ``max_words`` units (lower-cased, as
:meth:`Slice.contains_word <workbench.analysis.Slice.contains_word>` matches them) that
occurs in at least ``min_support`` texts is a candidate slice. For all candidates at once,
from one sparse text-by-term matrix:

- support n, accuracy on the texts holding the term and on the rest, and the drop;
- a one-sided Fisher exact test, "is the model less often right on the texts holding the
  term than on the rest?": the lower tail of the hypergeometric distribution of the number
  right among the ``n`` texts, given how many are right in all (what
  ``scipy.stats.fisher_exact(table, alternative="less")`` computes, vectorised);
- Holm's correction over *every* candidate tested, not only those shown, since the shown
  ones were picked for their drop.

The largest drops come back as a :class:`~workbench.analysis.SliceReport` (key
``discovered_slices``), each with the full metrics and bootstrap intervals of
:func:`~workbench.analysis.evaluate_slices`. One-sided, because the question is directional
(where is the model worse?) and the report shows drops only; a two-sided test would halve
the power for the same family.

A word that goes with errors describes this test set and this model; it is not a cause.
Counterfactual and behavioural tests check whether the word itself moves the prediction.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy.stats import hypergeom

from workbench.analysis.examples import Examples
from workbench.analysis.slices import (
    Slice,
    SliceReport,
    check_test_settings,
    measure_slice,
    word_terms_only,
)
from workbench.compare.stats import holm
from workbench.data.texts import check_count
from workbench.errors import InputError


def discover_slices(
    examples: Examples,
    *,
    max_words: int = 2,
    min_support: int = 20,
    top: int = 20,
    include_punctuation: bool = False,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    progress: bool = True,
) -> SliceReport:
    """The words and short n-grams whose presence goes with the largest drop in accuracy.

    Args:
        examples: labelled texts with the model's predictions (:class:`Examples`).
        max_words: longest run of word units to consider (1: single words; 2 adds pairs
            such as "not good").
        min_support: a term must occur in at least this many texts to be tested: rarer
            ones have intervals too wide to say anything.
        top: how many terms to report, largest drop first (ties: smaller p-value first).
            Only terms with a drop are reported.
        include_punctuation: also test terms with a unit that is punctuation alone
            ("!", ", but").
        n_bootstrap, confidence, seed: of the intervals of the reported terms.
        progress: show a bar while the texts are split into word units (large data).

    Returns:
        A :class:`SliceReport` with key ``"discovered_slices"``: each result a
        :meth:`Slice.contains_word` slice (``result.slice`` selects its texts again), its
        ``p_value`` the one-sided test and ``p_value_holm`` corrected over
        ``family_size`` candidates.

    Raises:
        InputError: without labels or predictions, or on bad settings.
    """
    max_words = check_count("max_words", max_words, 1)
    if max_words > 3:
        raise InputError(f"max_words must be 1, 2 or 3 (short n-grams), got {max_words}")
    min_support = check_count("min_support", min_support, 1)
    top = check_count("top", top, 1)
    check_test_settings("less", n_bootstrap, confidence)
    correct = examples.correct("slice discovery (which words go with errors)")

    index = examples.term_index(max_words, progress=progress)
    total, right = len(examples), int(correct.sum())
    support = np.diff(index.matrix.indptr)  # texts holding each term (entries are 0/1)
    lengths = np.fromiter((t.count(" ") + 1 for t in index.terms), np.int64, len(index.terms))
    candidate = (support >= min_support) & (support < total) & (lengths <= max_words)
    if not include_punctuation:
        candidate &= word_terms_only(index.terms)
    columns = np.flatnonzero(candidate)
    notes = [
        f"terms tested: every word unit and run of up to {max_words} units in at least "
        f"{min_support} of the {total} texts (and not in all of them): {columns.size}",
        "a word that goes with errors describes this model on this data, not a cause",
    ]
    if right in (0, total):
        notes.append("the model is right on every example or on none: no term can go with a drop")
    results = []
    if columns.size:
        matrix = index.matrix[:, columns]
        n_in = support[columns]
        right_in = np.asarray(matrix.T @ correct.astype(np.int64)).ravel()
        accuracy_in = right_in / n_in
        accuracy_rest = (right - right_in) / (total - n_in)
        drop = accuracy_rest - accuracy_in
        # P(at most right_in right among n_in texts drawn from total, right of them right)
        p_values = np.asarray(hypergeom.cdf(right_in, total, right, n_in), dtype=np.float64)
        p_values = np.clip(p_values, 0.0, 1.0)
        adjusted = holm(p_values)
        order = np.lexsort((p_values, -drop))
        shown = [i for i in order if drop[i] > 0][:top]
        for i in shown:
            term = index.terms[columns[i]]
            item = Slice.contains_word(term)
            result = measure_slice(
                examples,
                item,
                index.holds(term),
                n_bootstrap=n_bootstrap,
                confidence=confidence,
                seed=seed,
                p_value=float(p_values[i]),
            )
            results.append(replace(result, p_value_holm=float(adjusted[i])))
        if not shown:
            notes.append("no term goes with a drop in accuracy")
    elif right not in (0, total):
        notes.append(
            f"no term occurs in at least min_support={min_support} texts; lower min_support"
        )
    return SliceReport(
        results=results,
        key="discovered_slices",
        n=total,
        accuracy=right / total,
        test="Fisher's exact test (one-sided: lower accuracy) of texts with the term vs the rest",
        correction="Holm",
        confidence=confidence,
        family_size=int(columns.size),
        notes=notes,
        settings={
            "max_words": max_words,
            "min_support": min_support,
            "top": top,
            "include_punctuation": include_punctuation,
            "n_bootstrap": n_bootstrap,
            "seed": seed,
        },
    )
