"""The model registry: names users type (``tfidf-logreg``, ``transformer-small``, ...) and
the factories that build an unfitted model for each.

:func:`resolve_models` is the one place a list of names and ``(name, estimator)`` pairs
becomes models: :func:`~workbench.compare.compare`, the compare panel and
``workbench compare`` all go through it, so an unknown name gets the same message
everywhere.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from workbench.baselines import TfidfLogisticRegression
from workbench.classifier import TextClassifier
from workbench.config import MODEL_PRESETS, ModelConfig, TrainConfig
from workbench.errors import InputError
from workbench.estimators import TextModel


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


def make_model(name: str, *, seed: int = 0, **options: Any) -> TextModel:
    """An unfitted model from the registry; ``options`` the factory does not take are dropped."""
    _check_registered([name])
    factory = _REGISTRY[name].factory
    names, var_keyword = signature_names(factory)
    kwargs = {k: v for k, v in options.items() if v is not None and (var_keyword or k in names)}
    return factory(seed=seed, **kwargs)


def resolve_models(
    models: Sequence[str | tuple[str, TextModel]],
    seed: int = 0,
    options: dict[str, Any] | None = None,
) -> list[tuple[str, TextModel]]:
    """``(name, unfitted model)`` for each registry name or ``(name, estimator)`` pair.

    Names are built with :func:`make_model` (``seed`` and the ``options`` their factory
    takes, e.g. ``{"num_epochs": 3}``); pairs pass through once their estimator has ``fit``
    and ``predict_proba``.

    Raises:
        InputError: for anything but a non-empty list, unknown names (all of them named,
            with the registered ones), an item that is neither a name nor a pair, an
            estimator without ``fit`` or ``predict_proba``, or a name given twice.
    """
    if isinstance(models, (str, tuple)) or not isinstance(models, Sequence) or not models:
        raise InputError(
            "models must be a non-empty list of registry names or (name, estimator) pairs, "
            'e.g. ["tfidf-logreg", "transformer-small"]'
        )
    _check_registered([item for item in models if isinstance(item, str)])
    entries: list[tuple[str, TextModel]] = []
    for item in models:
        if isinstance(item, str):
            entries.append((item, make_model(item, seed=seed, **(options or {}))))
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


def _check_registered(names: Sequence[str]) -> None:
    """The one message for names the registry does not know."""
    unknown = [name for name in names if name not in _REGISTRY]
    if unknown:
        raise InputError(
            f"unknown model{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
            f"registered models are: {', '.join(_REGISTRY)}. "
            "Add your own with workbench.compare.register_model"
        )


def signature_names(function: Callable) -> tuple[set[str], bool]:
    """The parameter names of ``function`` and whether it also takes ``**kwargs``."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return set(), False
    var_keyword = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)
    return {p.name for p in parameters}, var_keyword


# ------------------------------------------------------------------ built-in models


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
    return _text_classifier(ModelConfig(**MODEL_PRESETS["small"]), seed, num_epochs)


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
