"""What every workbench model owes scikit-learn: its exceptions, tags and label handling.

The workbench's models (the transformer, the TF-IDF baseline, the pretrained encoder)
are scikit-learn estimators, so ``clone``, ``Pipeline``, ``GridSearchCV`` and
``check_estimator`` work on them. They share three conventions, kept here once:

- an unfitted model raises :class:`NotFittedModelError`, which is scikit-learn's
  ``NotFittedError`` (what ``check_is_fitted`` callers catch) *and* an
  :class:`~workbench.errors.InputError` (what the CLI turns into one line, exit 2);
- their tags say they read a 1-D sequence of strings, not a 2-D numeric array;
- ``fit(texts, y)`` takes ``y`` as scikit-learn does: a column vector is ravelled with
  a ``DataConversionWarning``; ``None`` gets a message instead of a ``TypeError``.

:class:`TextModel` is the contract the rest of the package types its models with: any
object with ``fit``, ``predict_proba`` and ``classes_``, the workbench's or not.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
from sklearn.exceptions import DataConversionWarning, NotFittedError

from workbench.data import plain_labels
from workbench.errors import InputError


@runtime_checkable
class TextModel(Protocol):
    """A text model, by scikit-learn's conventions: anything with ``fit``,
    ``predict_proba`` and ``classes_``.

    ``fit(texts, labels)`` learns from a sequence of strings and one label per text;
    ``predict_proba(texts)`` returns an ``(n, k)`` float array whose rows sum to 1, its
    columns in ``classes_`` order. Every part of the package above the models (evaluation,
    comparison, explanation, the panels, the CLI, serving) takes any such model. As a
    runtime check, ``isinstance(model, TextModel)`` holds only for a fitted model: its
    ``classes_`` exist once it is fitted.
    """

    @property
    def classes_(self) -> np.ndarray: ...

    def fit(self, texts: Sequence[str], labels: Sequence[Any], /) -> Any: ...

    def predict_proba(self, texts: Sequence[str], /) -> np.ndarray: ...


class NotFittedModelError(InputError, NotFittedError):
    """A model used before ``fit()`` or ``load()``."""


def check_fitted(model: object, attribute: str) -> None:
    """Raise :class:`NotFittedModelError` unless ``model`` has its fitted ``attribute``.

    Not scikit-learn's ``check_is_fitted``: given an attribute it makes the same
    ``hasattr`` test, but it refuses any model that is not a scikit-learn estimator (no
    ``fit``: ``TypeError``; no tags: ``AttributeError``), and the explainers take any model
    with ``predict_proba`` and ``classes_``, such as a loaded Hugging Face classifier.
    """
    if not hasattr(model, attribute):
        raise NotFittedModelError(
            f"this {type(model).__name__} is not fitted (not trained yet): call fit() or "
            "load() first"
        )


def fit_labels(labels: Sequence | np.ndarray | None) -> list:
    """``labels`` as a plain list, read the way scikit-learn reads ``y``."""
    if labels is None:
        raise InputError("fit needs labels: give y, one label per text (got None)")
    shape = getattr(labels, "shape", None)  # an array or a DataFrame, not a list of tuples
    if shape is not None and len(shape) == 2 and shape[1] == 1:
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected; ravelling it, as "
            "scikit-learn does. Pass y as a 1-D list or array.",
            DataConversionWarning,
            stacklevel=3,
        )
        labels = np.asarray(labels).ravel()
    elif shape is not None and len(shape) != 1:
        raise InputError(f"y must be 1-D (one label per text); got an array of shape {shape}")
    return plain_labels(list(labels))


class TextEstimatorMixin:
    """Tags for estimators that read a 1-D sequence of strings (put it before
    ``ClassifierMixin`` in the bases)."""

    def __sklearn_tags__(self):
        # a mixin: the scikit-learn base that defines __sklearn_tags__ follows it in the MRO
        tags = super().__sklearn_tags__()  # type: ignore[misc]
        tags.input_tags.string = True
        tags.input_tags.one_d_array = True
        tags.input_tags.two_d_array = False
        return tags
