"""What every trust metric reads from an explanation: its attributions towards one class,
checked, and the ranking of its words (highest first, ties in word order); used by
:mod:`~workbench.explain.faithfulness`, :mod:`~workbench.explain.agreement` and
:mod:`~workbench.explain.plausibility`."""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from workbench.errors import InputError
from workbench.explain.base import Explanation


def _count(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise InputError(f"{name} must be an integer, got {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise InputError(f"{name} must be an integer, got {value!r}") from None


def _label(explanation: Explanation, label: Any) -> Any:
    """The explained class: ``label`` if given, else the explanation's predicted class."""
    if label is None:
        return explanation.predicted_label
    if label not in list(explanation.classes):
        raise InputError(
            f"label {label!r} is not one of the explanation's classes {list(explanation.classes)}"
            "; pass one of them, or label=None for the predicted class"
        )
    return label


def _scores(explanation: Explanation, label: Any) -> np.ndarray:
    """Attributions towards ``label`` (already resolved), checked to be finite."""
    if not explanation.words:
        raise InputError(
            "the explanation has no words; faithfulness and agreement need at least one word"
        )
    scores = np.asarray(explanation.for_class(label), dtype=np.float64)
    if scores.shape != (len(explanation.words),):
        raise InputError(
            f"the explanation has {len(explanation.words)} words but {scores.shape} "
            "attributions for the class; it is malformed, re-run the explainer"
        )
    if not np.all(np.isfinite(scores)):
        raise InputError(
            f"the {explanation.method} explanation has non-finite attributions (nan or inf); "
            "re-run the explainer (more samples, or check the model's outputs)"
        )
    return scores


def _ranking(scores: np.ndarray) -> np.ndarray:
    """Word indices by attribution, highest first; ties keep word order (stable sort)."""
    return np.argsort(-scores, kind="stable")
