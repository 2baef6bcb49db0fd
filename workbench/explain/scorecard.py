"""Score several explanation methods on many texts: faithfulness with random twins,
agreement between methods, cost.

This is the table that tells someone how far each method can be trusted on *their* model:
one call runs every method on every text, scores each explanation with
:func:`workbench.explain.faithfulness.faithfulness` (whose random-ranking baseline says
what "no information" scores), and records the seconds and model evaluations it cost.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from workbench.errors import InputError
from workbench.estimators import TextModel
from workbench.explain.agreement import agreement
from workbench.explain.base import Explanation, ModelPredictor
from workbench.explain.faithfulness import METRIC_NAMES, faithfulness
from workbench.explain.methods import METHODS, explain
from workbench.progress import progress_bar

DEFAULT_METHODS = ("shap", "lime", "integrated-gradients", "gradient-x-input", "attention")


@dataclass
class Scorecard:
    """Per-text scores (``per_text``) and the explanations behind them, by method."""

    per_text: pd.DataFrame
    explanations: dict[str, list[Explanation]] = field(default_factory=dict)

    def summary(self) -> pd.DataFrame:
        """Median of each metric per method, beside the median of its random twin.

        Higher is better for comprehensiveness, AOPC-comprehensiveness and insertion AUC;
        lower is better for sufficiency, AOPC-sufficiency and deletion AUC. A method is
        informative where it beats its ``random_`` column in that direction.
        """
        columns = [c for m in METRIC_NAMES for c in (m, f"random_{m}")]
        table = self.per_text.groupby("method", sort=False)[
            [*columns, "seconds", "evaluations"]
        ].median()
        return table.rename(columns={"seconds": "median_seconds", "evaluations": "median_evals"})

    def agreement(self, *, k: int = 5) -> pd.DataFrame:
        """Mean over texts of the Spearman correlation between each pair of methods."""
        methods = list(self.explanations)
        matrix = pd.DataFrame(np.eye(len(methods)), index=methods, columns=methods)
        for a, b in combinations(methods, 2):
            values = [
                agreement(x, y, k=k)["spearman"]
                for x, y in zip(self.explanations[a], self.explanations[b], strict=True)
            ]
            matrix.loc[a, b] = matrix.loc[b, a] = float(np.nanmean(values))
        return matrix

    def top_k_overlap(self, *, k: int = 5) -> pd.DataFrame:
        """Mean over texts of the top-k overlap between each pair of methods."""
        methods = list(self.explanations)
        matrix = pd.DataFrame(np.eye(len(methods)), index=methods, columns=methods)
        for a, b in combinations(methods, 2):
            values = [
                agreement(x, y, k=k)["top_k_overlap"]
                for x, y in zip(self.explanations[a], self.explanations[b], strict=True)
            ]
            matrix.loc[a, b] = matrix.loc[b, a] = float(np.mean(values))
        return matrix


def scorecard(
    model: TextModel,
    texts: Sequence[str],
    methods: Sequence[str] = DEFAULT_METHODS,
    *,
    settings: dict[str, dict[str, Any]] | None = None,
    k: int | None = None,
    random_repeats: int = 5,
    seed: int = 0,
    progress: bool = True,
) -> Scorecard:
    """Explain every text with every method and score each explanation.

    Args:
        model: a fitted model; gradient and attention methods need a ``TextClassifier``.
        texts: the texts to explain (e.g. a sample of the test set).
        methods: names from ``workbench.explain.METHODS``.
        settings: per-method settings, e.g. ``{"shap": {"max_evals": 500}}``.
        k: words removed/kept for comprehensiveness and sufficiency (default: 20% of words).
        random_repeats, seed: the random-ranking baseline of each metric.
    """
    settings = settings or {}
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise InputError(f"unknown method(s) {unknown}; choose from {list(METHODS)}")
    rows: list[dict[str, Any]] = []
    explanations: dict[str, list[Explanation]] = {m: [] for m in methods}
    bar = progress_bar(total=len(texts) * len(methods), show=progress, desc="scoring explanations")
    for index, text in enumerate(texts):
        predictor = ModelPredictor(model)  # shared by this text's metrics: one cache
        for method in methods:
            started = time.perf_counter()
            result = explain(model, text, method, **settings.get(method, {}))
            seconds = time.perf_counter() - started
            report = faithfulness(
                predictor, result, k=k, random_repeats=random_repeats, seed=seed + index
            )
            explanations[method].append(result)
            scores = {m: getattr(report, m) for m in METRIC_NAMES}
            rows.append(
                {
                    "text_index": index,
                    "method": method,
                    "words": len(result.words),
                    "seconds": seconds,
                    "evaluations": result.evaluations,
                    **scores,
                    **{f"random_{m}": report.random[m] for m in METRIC_NAMES},
                }
            )
            bar.update(1)
    bar.close()
    return Scorecard(per_text=pd.DataFrame(rows), explanations=explanations)
