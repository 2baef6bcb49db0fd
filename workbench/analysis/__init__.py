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
- :func:`analyze`: all of the above and the behavioural tests in one :class:`AnalysisReport`
  (``to_dict()`` JSON, a self-contained escaped HTML page; the ``workbench analyze`` CLI).
- Counterfactuals: :mod:`~workbench.analysis.perturbations` (delete a word, add or remove a
  negation, antonym, synonym, name and place swaps, neutral filler, intensifiers, from the
  shipped :func:`load_lexicon`), and :func:`minimal_flip`: the fewest word edits found that
  flip a prediction (attribution-guided, HotFlip replacements for the from-scratch network),
  shown as a diff.
- :func:`run_suite` and :func:`sentiment_suite`: CheckList-style behavioural tests (MFT, INV,
  DIR) with pass rates and failing cases; :func:`mft_test`, :func:`invariance_test` and
  :func:`directional_test` add your own.
- :func:`embedding_map`: a 2-D map (PCA; UMAP when installed) of the vectors a model's head
  reads, coloured by label, prediction, error, a column or a slice;
  :func:`nearest_neighbours` / :class:`RepresentationIndex`: the training texts nearest a text.
- :func:`influence`: the training examples that most supported and opposed a prediction
  (TracInCP through Captum on checkpoints kept by :class:`KeepCheckpoints`), and
  :func:`removal_check`: does removing them change the prediction more than removing random ones?

A tour::

    from workbench.analysis import Examples, Slice, discover_slices, evaluate_slices

    examples = Examples.from_frame(load_reviews_table("test"), model=model)
    report = evaluate_slices(examples, [Slice.contains_word("not"), Slice.column("domain", "apps")])
    print(report.summary())
    print(discover_slices(examples, min_support=10).to_frame())
"""

from workbench.analysis.behaviour import (
    BehaviourTest,
    SuiteResult,
    directional_test,
    invariance_test,
    mft_test,
    run_suite,
    sentiment_suite,
)
from workbench.analysis.discovery import discover_slices
from workbench.analysis.embedding_map import (
    EmbeddingMap,
    RepresentationIndex,
    embedding_map,
    nearest_neighbours,
    representations,
)
from workbench.analysis.examples import Examples, TermIndex
from workbench.analysis.influence import (
    Checkpoint,
    InfluenceResult,
    KeepCheckpoints,
    RemovalCheck,
    influence,
    load_checkpoints,
    removal_check,
)
from workbench.analysis.lexicon import SentimentLexicon, load_lexicon
from workbench.analysis.minimal_flips import (
    FLIP_METHODS,
    Flip,
    FlipEdit,
    hotflip_candidates,
    minimal_flip,
    minimal_flips,
    supports_hotflip,
)
from workbench.analysis.perturbations import GENERATORS, Generator, Perturbation
from workbench.analysis.report import AnalysisReport, analyze
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
    "FLIP_METHODS",
    "FlipEdit",
    "hotflip_candidates",
    "supports_hotflip",
    "Checkpoint",
    "RemovalCheck",
    "GENERATORS",
    "AnalysisReport",
    "BehaviourTest",
    "EmbeddingMap",
    "Examples",
    "Flip",
    "Generator",
    "GlobalAttributions",
    "InfluenceResult",
    "KeepCheckpoints",
    "LinearAgreement",
    "Perturbation",
    "RepresentationIndex",
    "SentimentLexicon",
    "Slice",
    "SliceReport",
    "SliceResult",
    "SuiteResult",
    "TermIndex",
    "aggregate_attributions",
    "analyze",
    "batched_integrated_gradients",
    "compare_with_linear",
    "directional_test",
    "discover_slices",
    "embedding_map",
    "evaluate_slices",
    "global_attributions",
    "influence",
    "invariance_test",
    "length_bins",
    "linear_coefficients",
    "load_checkpoints",
    "load_lexicon",
    "measure_slice",
    "mft_test",
    "minimal_flip",
    "minimal_flips",
    "nearest_neighbours",
    "removal_check",
    "representations",
    "run_suite",
    "sentiment_suite",
    "slices_by_column",
    "suggested_slices",
]
