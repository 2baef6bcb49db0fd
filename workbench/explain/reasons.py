"""Do two models decide for the same reasons? Explanations of one compared with the other.

A distilled student can match its teacher's predictions for different reasons. For each
text, :func:`same_reasons` explains both models with one method, on the shared word units,
and reports:

- ``spearman`` and ``top_k_overlap``: how alike the two rankings of the words are
  (:func:`workbench.explain.agreement.agreement`), read towards the class model ``a``
  predicts;
- ``a_on_a``, ``b_on_b``: the comprehensiveness of each model's own top-k words (ERASER:
  how far its probability falls when they are deleted);
- ``a_on_b``, ``b_on_a``: the comprehensiveness of ``a``'s top-k words when deleted from
  ``b``'s input, and the other way round. If ``a_on_b`` is close to ``b_on_b``, ``a``'s
  reasons are reasons for ``b`` too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from workbench.errors import InputError
from workbench.estimators import TextModel
from workbench.explain.agreement import agreement
from workbench.explain.faithfulness import comprehensiveness
from workbench.explain.methods import explain
from workbench.progress import progress_bar


def same_reasons(
    a: TextModel,
    b: TextModel,
    texts: Sequence[str],
    method: str = "shap",
    *,
    k: int = 3,
    progress: bool = True,
    **settings: Any,
) -> pd.DataFrame:
    """One row per text: agreement of ``a``'s and ``b``'s explanations and the cross
    comprehensiveness of their top-``k`` words (see the module notes).

    Both models must share the label set; ``settings`` go to :func:`explain`. Deletion is
    the project's absence convention, so the numbers of the two models are comparable.
    """
    if sorted(map(str, a.classes_)) != sorted(map(str, b.classes_)):
        raise InputError(
            f"the two models predict different labels ({list(a.classes_)} and "
            f"{list(b.classes_)}); compare models trained on the same label set"
        )
    rows = []
    for text in progress_bar(list(texts), show=progress, desc=f"{method} × 2 models"):
        ea = explain(a, text, method, **settings)
        eb = explain(b, text, method, **settings)
        label = ea.predicted_label
        k_text = min(k, len(ea.words))
        rows.append(
            {
                "text": text,
                "label_a": label,
                "label_b": eb.predicted_label,
                **{
                    key: value
                    for key, value in agreement(ea, eb, k=k_text, label=label).items()
                    if key != "kendall"
                },
                "a_on_a": comprehensiveness(a, ea, k_text, label=label),
                "a_on_b": comprehensiveness(b, ea, k_text, label=label),
                "b_on_b": comprehensiveness(b, eb, k_text, label=label),
                "b_on_a": comprehensiveness(a, eb, k_text, label=label),
            }
        )
    return pd.DataFrame(rows)
