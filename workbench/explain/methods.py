"""The explanation methods by name, and ``explain``: one entry point for all of them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from tqdm.auto import tqdm

from workbench.errors import InputError
from workbench.explain.base import Explanation
from workbench.explain.gradients import attention_explanation, gradient_explanation
from workbench.explain.perturbation import lime_explanation, shap_explanation

METHODS: dict[str, Callable[..., Explanation]] = {
    "shap": shap_explanation,
    "lime": lime_explanation,
    "integrated-gradients": partial(gradient_explanation, method="integrated-gradients"),
    "gradient-x-input": partial(gradient_explanation, method="gradient-x-input"),
    "attention": attention_explanation,
}


def explain(
    model: Any,
    texts: str | Sequence[str],
    method: str = "shap",
    *,
    progress: bool = True,
    **settings: Any,
) -> Explanation | list[Explanation]:
    """Explain one text (returns an Explanation) or several (returns a list).

    Args:
        model: a fitted ``TextClassifier``, or any model with ``predict_proba`` and
            ``classes_`` (perturbation methods only).
        texts: a string or a list of strings.
        method: one of ``METHODS``: shap, lime, integrated-gradients, gradient-x-input,
            attention.
        settings: passed to the method, e.g. ``max_evals=`` (shap), ``num_samples=`` and
            ``seed=`` (lime), ``n_steps=`` (integrated-gradients).
    """
    if method not in METHODS:
        raise InputError(f"unknown explanation method {method!r}; choose from {list(METHODS)}")
    run = partial(METHODS[method], model, **settings)
    if isinstance(texts, str):
        return run(texts)
    return [run(text) for text in tqdm(list(texts), desc=method, disable=not progress)]
