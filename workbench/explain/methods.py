"""The explanation methods by name, which of them a model supports, and ``explain``: one
entry point for all of them.

SHAP and LIME only call ``predict_proba``, so they explain any model. The gradient methods
need a torch network to differentiate (:func:`supports_gradients`: a workbench
``TextClassifier`` or a fine-tuned encoder), and attention needs a network that has
attention (:func:`supports_attention`: not a bag-of-embeddings model).
:func:`supported_methods` and :func:`unsupported_message` are the one answer that
:func:`explain`, the explanation panel and the CLI give.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any, Literal, overload

import torch

from workbench.data import as_text_list
from workbench.distributed import gather_objects, setup
from workbench.errors import InputError, describe_error
from workbench.estimators import TextModel, check_fitted
from workbench.explain.base import Explanation, FailedExplanation
from workbench.explain.gradients import (
    attention_explanation,
    gradient_explanation,
    supports_attention,
    supports_gradients,
)
from workbench.explain.perturbation import lime_explanation, shap_explanation
from workbench.progress import progress_bar

METHODS: dict[str, Callable[..., Explanation]] = {
    "shap": shap_explanation,
    "lime": lime_explanation,
    "integrated-gradients": partial(gradient_explanation, method="integrated-gradients"),
    "gradient-x-input": partial(gradient_explanation, method="gradient-x-input"),
    "attention": attention_explanation,
}
PERTURBATION_METHODS = ("shap", "lime")  # need only predict_proba
GRADIENT_METHODS = ("integrated-gradients", "gradient-x-input")  # need a torch network

__all__ = [
    "GRADIENT_METHODS",
    "METHODS",
    "PERTURBATION_METHODS",
    "check_methods",
    "explain",
    "supported_methods",
    "supports_attention",
    "supports_gradients",
    "unsupported_message",
]


def supported_methods(model: TextModel) -> list[str]:
    """The methods of ``METHODS`` that can explain ``model``, in ``METHODS`` order."""
    return [
        m
        for m in METHODS
        if m in PERTURBATION_METHODS
        or (m in GRADIENT_METHODS and supports_gradients(model))
        or (m == "attention" and supports_attention(model))
    ]


def unsupported_message(
    model: TextModel, methods: Iterable[str], name: str | None = None
) -> str | None:
    """Why ``model`` cannot be explained with some of ``methods``; None when it can with all.

    ``name`` is what the user calls the model (a panel's dropdown entry); the message names
    its type either way, says what the refused methods need and which methods do work.
    """
    available = supported_methods(model)
    refused = [m for m in methods if m not in available]
    if not refused:
        return None
    kind = type(model).__name__
    subject = f"{name} ({kind})" if name is not None and name != kind else kind
    if supports_gradients(model):  # only attention can be missing
        config = getattr(model.model_, "config", None)
        architecture = getattr(config, "architecture", "non-transformer")
        why = f"a {architecture} model has no attention to show"
    else:
        why = (
            "gradient methods and attention need a torch network to look into (a workbench "
            "TextClassifier or a fine-tuned encoder)"
        )
    choices = ", ".join(available[:-1]) + f" or {available[-1]}"
    return f"{subject} cannot be explained with {', '.join(refused)}: {why}; use {choices}"


def check_methods(names: Sequence[str]) -> list[str]:
    """``names`` as a list, once every one of them is in ``METHODS``."""
    unknown = sorted(set(names) - set(METHODS))
    if unknown:
        raise InputError(f"unknown methods {unknown}; choose from {list(METHODS)}")
    return list(names)


@overload
def explain(
    model: TextModel,
    texts: str,
    method: str = ...,
    *,
    progress: bool = ...,
    errors: Literal["raise", "record"] = ...,
    **settings: Any,
) -> Explanation: ...
@overload
def explain(
    model: TextModel,
    texts: Sequence[str],
    method: str = ...,
    *,
    progress: bool = ...,
    errors: Literal["raise"] = ...,
    **settings: Any,
) -> list[Explanation]: ...
@overload
def explain(
    model: TextModel,
    texts: Sequence[str],
    method: str = ...,
    *,
    progress: bool = ...,
    errors: Literal["record"],
    **settings: Any,
) -> list[Explanation | FailedExplanation]: ...
def explain(
    model: TextModel,
    texts: str | Sequence[str],
    method: str = "shap",
    *,
    progress: bool = True,
    errors: Literal["raise", "record"] = "raise",
    **settings: Any,
) -> Explanation | list[Explanation] | list[Explanation | FailedExplanation]:
    """Explain one text (returns an Explanation) or several (returns a list).

    Args:
        model: a fitted ``TextClassifier``, or any model with ``predict_proba`` and
            ``classes_`` (perturbation methods only).
        texts: a string or a list of strings.
        method: one of ``METHODS``: shap, lime, integrated-gradients, gradient-x-input,
            attention.
        errors: for a list, ``"raise"`` stops at the first text that cannot be explained;
            ``"record"`` puts a :class:`FailedExplanation` (the text and the error
            message) in its place and goes on with the rest.
        settings: passed to the method, e.g. ``max_evals=`` and ``algorithm="exact"``
            (shap: exact Shapley values for short texts instead of Owen values),
            ``num_samples=`` and ``seed=`` (lime), ``n_steps=`` (integrated-gradients).

    Under ``torchrun`` a list is sharded: each of the N processes explains every N-th
    text (rank 0 draws the progress bar) and every process returns the whole list, in
    order. Give each process its own GPU (``device=f"cuda:{LOCAL_RANK}"``) when on GPUs.
    """
    if method not in METHODS:
        raise InputError(f"unknown explanation method {method!r}; choose from {list(METHODS)}")
    if errors not in ("raise", "record"):
        raise InputError(f"errors must be 'raise' or 'record', got {errors!r}")
    check_fitted(model, "classes_")
    refused = unsupported_message(model, [method])
    if refused is not None:  # said once, not once per text
        raise InputError(refused)
    run = partial(METHODS[method], model, **settings)
    if isinstance(texts, str):
        return run(texts)
    if not hasattr(texts, "__iter__"):
        raise InputError(f"text must be a string or a list of strings, got {type(texts).__name__}")
    texts = as_text_list(list(texts), "the texts to explain")
    explain_one: Callable[[str], Explanation | FailedExplanation] = run
    if errors == "record":
        explain_one = partial(_recording_failures, run)
    device = getattr(model, "device_", torch.device("cpu"))
    ranks = setup(device.type)
    if ranks.distributed and device.type == "cuda":
        torch.cuda.set_device(device)  # NCCL gathers through this process's own GPU
    mine = texts[ranks.rank :: ranks.world_size]
    progress = progress and ranks.is_main
    done = [explain_one(text) for text in progress_bar(mine, show=progress, desc=method)]
    shards = gather_objects(done, ranks)  # rank r holds texts r, r + N, r + 2N, ...
    return [shards[i % ranks.world_size][i // ranks.world_size] for i in range(len(texts))]


def _recording_failures(
    run: Callable[[str], Explanation], text: str
) -> Explanation | FailedExplanation:
    try:
        return run(text)
    except Exception as exc:  # one odd text must not cost the explanations of the others
        return FailedExplanation(text, describe_error(exc))
