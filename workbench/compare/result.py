"""What :func:`~workbench.compare.compare` returns: the leaderboard, every model's test
probabilities and evaluation, and the fitted models, with the questions one asks of them
(is the difference significant? where do two models disagree?) as methods."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.compare.report import comparison_page, format_leaderboard
from workbench.compare.stats import holm, mcnemar_exact, paired_bootstrap_diff
from workbench.data import LabeledTexts, plain
from workbench.errors import InputError
from workbench.estimators import TextModel
from workbench.evaluate import Evaluation

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
    """What :func:`~workbench.compare.compare` returns; :mod:`workbench.compare` gives a tour.

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
    models: dict[str, TextModel]
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

    def verdict(self, a: str, b: str, *, alpha: float = 0.05, confidence: float = 0.95) -> str:
        """Models ``a`` and ``b`` compared in one sentence: their accuracies, the difference
        ``a - b`` with its paired bootstrap interval, the Holm-corrected McNemar p-value
        (Holm over all pairs of :meth:`significance`), and the verdict:

        - ``"a real difference on this test set"``: significant after Holm *and* the interval
          of the difference excludes 0;
        - ``"cannot be told apart on this test set (within noise)"``: neither;
        - ``"borderline: McNemar-Holm and the bootstrap interval disagree"``: one but not
          the other.

        The pair may be named in either order; the numbers are always ``a`` against ``b``.
        """
        scored = [n for n in self.leaderboard["model"] if n in self.probabilities]
        for name in (a, b):
            if name not in scored:
                failed = f" (it failed: {self.errors[name]})" if name in self.errors else ""
                raise InputError(
                    f"no predictions for model {name!r}{failed}; scored models are {scored}"
                )
        if a == b:
            raise InputError(f"verdict needs two different models, got {a!r} twice")
        table = self.significance(confidence=confidence, alpha=alpha)
        forward = table[(table["model_a"] == a) & (table["model_b"] == b)]
        if len(forward):
            row = forward.iloc[0]
            diff, low, high = row["accuracy_diff"], row["diff_low"], row["diff_high"]
        else:
            row = table[(table["model_a"] == b) & (table["model_b"] == a)].iloc[0]
            diff, low, high = -row["accuracy_diff"], -row["diff_high"], -row["diff_low"]
        excludes_zero = low > 0 or high < 0
        if row["significant"] and excludes_zero:
            words = "a real difference on this test set"
        elif not row["significant"] and not excludes_zero:
            words = "cannot be told apart on this test set (within noise)"
        else:
            words = "borderline: McNemar-Holm and the bootstrap interval disagree"
        accuracy = self.leaderboard.set_index("model")["accuracy"]
        side = "above" if diff > 0 else "below" if diff < 0 else "level with"
        points = f"{abs(100 * diff):.1f} points {side}" if diff else side
        return (
            f"{a} ({accuracy[a]:.3f}) is {points} {b} ({accuracy[b]:.3f}); difference "
            f"[{100 * low:+.1f}, {100 * high:+.1f}] points ({confidence:.0%} interval), "
            f"p (Holm) = {row['p_holm']:.3g}: {words}"
        )

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
        return json_safe(
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
        page = comparison_page(self, self.significance())
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page, encoding="utf-8")
        return path


_COUNT_COLUMNS = ("parameters", "artifact_bytes")


def _count(value: Any) -> int | None:
    return None if pd.isna(value) else int(value)


def json_safe(value: Any) -> Any:
    """NaN -> None, NumPy scalars and arrays -> Python, recursively."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    value = plain(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
