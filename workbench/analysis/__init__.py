"""Beyond one sentence: how a model does across a dataset.

Where :mod:`workbench.explain` explains one prediction, this package looks at many:

- :class:`Examples`: the texts, labels, model outputs and other columns an analysis looks
  at, checked once (``Examples.from_model(model, texts, labels)``,
  ``Examples.from_frame(table, model=model)``).
- :class:`Slice`: a named predicate over examples (a word, a regex, a length bin, a column's
  value, misclassified, low confidence, any function of the text or the row), and
  :func:`evaluate_slices`: n, accuracy, macro-F1 and ECE per slice with bootstrap
  intervals, and Fisher's exact test against the rest with Holm's correction.
- :func:`discover_slices`: the words and word pairs whose presence goes with the largest
  drop in accuracy, each with its support, interval and corrected p-value.
- :func:`global_attributions`: any method's word attributions over a dataset, per class and
  word type (mean, mean absolute, counts, intervals, rare words flagged), and
  :func:`compare_with_linear`: their rank agreement with TF-IDF + logistic regression.

A tour::

    from workbench.analysis import Examples, Slice, discover_slices, evaluate_slices

    examples = Examples.from_frame(load_reviews_table("test"), model=model)
    report = evaluate_slices(examples, [Slice.contains_word("not"), Slice.column("domain", "apps")])
    print(report.summary())
    print(discover_slices(examples, min_support=10).to_frame())
"""

from workbench.analysis.discovery import discover_slices
from workbench.analysis.examples import Examples, TermIndex
from workbench.analysis.slices import (
    Slice,
    SliceReport,
    SliceResult,
    evaluate_slices,
    length_bins,
    measure_slice,
    slices_by_column,
    suggested_slices,
)
from workbench.analysis.word_attributions import (
    GlobalAttributions,
    LinearAgreement,
    aggregate_attributions,
    batched_integrated_gradients,
    compare_with_linear,
    global_attributions,
    linear_coefficients,
)

__all__ = [
    "Examples",
    "GlobalAttributions",
    "LinearAgreement",
    "Slice",
    "SliceReport",
    "SliceResult",
    "TermIndex",
    "aggregate_attributions",
    "batched_integrated_gradients",
    "compare_with_linear",
    "discover_slices",
    "evaluate_slices",
    "global_attributions",
    "length_bins",
    "linear_coefficients",
    "measure_slice",
    "slices_by_column",
    "suggested_slices",
]
