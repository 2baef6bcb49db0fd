"""Temperature scaling: one number that makes a classifier's probabilities honest.

Guo et al. 2017, "On Calibration of Modern Neural Networks": divide the logits by a
temperature ``T`` fitted on held-out data by minimising the negative log-likelihood.
``T > 1`` softens an over-confident model, ``T < 1`` sharpens an under-confident one, and
the arg-max (so accuracy) never changes. The functions work on plain logits and label
indices, so any model that produces logits (the from-scratch transformer, a fine-tuned
encoder) calibrates the same way and records the same artifact entry.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax

from workbench.errors import InputError

# The fitted temperature is clamped to this range: when the model is nearly always right
# (the NLL keeps falling as T -> 0) or no better than chance (T -> infinity), a few hundred
# validation texts are no evidence for an extreme, and beyond these bounds the
# probabilities are saturated or flat anyway.
MIN_TEMPERATURE, MAX_TEMPERATURE = 0.05, 20.0


def _check(logits: Any, label_index: Any) -> tuple[np.ndarray, np.ndarray]:
    logits = np.asarray(logits, dtype=np.float64)
    label_index = np.asarray(label_index)
    if logits.ndim != 2 or label_index.shape != (len(logits),):
        raise InputError(
            f"temperature scaling needs logits of shape (n, k) and n label indices; got "
            f"logits {logits.shape} and labels {label_index.shape}"
        )
    if len(label_index) and not np.issubdtype(label_index.dtype, np.integer):
        raise InputError(f"label indices must be integers, got dtype {label_index.dtype}")
    if len(label_index) and (label_index.min() < 0 or label_index.max() >= logits.shape[1]):
        raise InputError(f"label indices must lie in [0, {logits.shape[1]}) to index the logits")
    if not np.isfinite(logits).all():
        raise InputError("logits contain NaN or infinity; check the model's weights")
    return logits, label_index


def scaled_softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """``softmax(logits / temperature)`` row by row, in float64 (stable for large logits)."""
    scaled = np.asarray(logits, dtype=np.float64) / temperature
    scaled -= scaled.max(axis=1, keepdims=True)
    proba = np.exp(scaled)
    return proba / proba.sum(axis=1, keepdims=True)


def negative_log_likelihood(
    logits: np.ndarray, label_index: np.ndarray, temperature: float = 1.0
) -> float:
    """Mean ``-log softmax(logits / temperature)[label]``; ``nan`` for no examples."""
    logits, label_index = _check(logits, label_index)
    if len(label_index) == 0:
        return math.nan
    log_proba = log_softmax(logits / temperature, axis=1)
    return float(-log_proba[np.arange(len(label_index)), label_index].mean())


def fit_temperature(logits: np.ndarray, label_index: np.ndarray) -> float:
    """The temperature ``T`` that minimises the NLL of ``softmax(logits / T)`` (Guo et al. 2017).

    Args:
        logits: ``(n, k)`` raw scores on held-out data (never the training data, whose
            logits are over-confident by construction).
        label_index: the true class of each row, as a column index into ``logits``.

    Returns:
        ``T`` in ``[MIN_TEMPERATURE, MAX_TEMPERATURE]``; 1.0 for empty input and when every
        row is classified correctly.
    """
    logits, label_index = _check(logits, label_index)
    if len(label_index) == 0:
        return 1.0
    if (logits.argmax(axis=1) == label_index).all():
        # Without a single error the NLL falls for ever as T -> 0: the data say "be surer"
        # but not how much. Keep the model's own scale rather than the clamp's extreme.
        return 1.0
    # The NLL is convex in 1/T, so it has a single minimum along log T, which bounded
    # Brent search finds without a starting point or a learning rate.
    result = minimize_scalar(
        lambda log_t: negative_log_likelihood(logits, label_index, math.exp(log_t)),
        bounds=(math.log(MIN_TEMPERATURE), math.log(MAX_TEMPERATURE)),
        method="bounded",
        options={"xatol": 1e-6},
    )
    return float(np.clip(math.exp(result.x), MIN_TEMPERATURE, MAX_TEMPERATURE))


@dataclass(frozen=True)
class Calibration:
    """What an artifact records about temperature scaling (its ``"calibration"`` entry).

    ``fitted_on`` is ``"validation"`` when the temperature was fitted, else ``None`` with
    ``note`` saying why (switched off, no validation data, an older artifact).
    """

    temperature: float = 1.0
    fitted_on: str | None = None
    validation_nll_before: float | None = None
    validation_nll_after: float | None = None
    note: str | None = None

    @classmethod
    def fit(cls, logits: np.ndarray, label_index: np.ndarray) -> Calibration:
        """Fit the temperature on validation logits and record the NLL before and after."""
        if len(label_index) == 0:
            return cls(note="not fitted: the validation set is empty")
        temperature = fit_temperature(logits, label_index)
        return cls(
            temperature=temperature,
            fitted_on="validation",
            validation_nll_before=negative_log_likelihood(logits, label_index),
            validation_nll_after=negative_log_likelihood(logits, label_index, temperature),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, entry: dict[str, Any] | None, where: str) -> Calibration:
        """Read the artifact entry; ``None`` (an artifact older than calibration) gives T = 1."""
        if entry is None:
            return cls(note="not fitted: the artifact predates calibration")
        try:
            calibration = cls(**entry)
            temperature = float(calibration.temperature)
        except (TypeError, ValueError) as exc:
            raise InputError(f"{where}: malformed calibration entry ({exc}); save again") from exc
        if not (math.isfinite(temperature) and temperature > 0):
            raise InputError(
                f"{where}: calibration temperature must be positive, got {temperature}"
            )
        return replace(calibration, temperature=temperature)


def calibrate(model: Any, validation: Any, enabled: bool = True) -> Calibration:
    """The calibration entry for a just-trained ``model``: a temperature fitted on the
    ``validation`` texts and labels (``LabeledTexts``) through ``model.predict_logits``, or
    an unfitted entry saying why (switched off, or no validation data)."""
    if not enabled:
        return Calibration(note="not fitted: calibrate=False")
    if validation is None:
        return Calibration(note="not fitted: no validation data (val_size=0)")
    index = {label: i for i, label in enumerate(model.classes_.tolist())}
    label_index = np.array([index[y] for y in validation.labels])
    return Calibration.fit(model.predict_logits(validation.texts), label_index)
