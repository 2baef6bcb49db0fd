"""Tests for workbench.calibration: temperature scaling on logits, and its artifact entry."""

from __future__ import annotations

import math

import numpy as np
import pytest

from workbench.calibration import (
    MAX_TEMPERATURE,
    MIN_TEMPERATURE,
    Calibration,
    fit_temperature,
    negative_log_likelihood,
    scaled_softmax,
)
from workbench.errors import InputError


def sampled(temperature: float, n: int = 20_000, k: int = 3, seed: int = 0):
    """Logits and labels drawn from softmax(logits / temperature): the true T is known."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(scale=4.0, size=(n, k))
    proba = scaled_softmax(logits, temperature)
    labels = (proba.cumsum(axis=1) < rng.random((n, 1))).sum(axis=1)
    return logits, labels


@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.5])
def test_fit_temperature_recovers_a_known_temperature(temperature):
    logits, labels = sampled(temperature)
    assert fit_temperature(logits, labels) == pytest.approx(temperature, rel=0.05)


def test_fitted_temperature_minimises_the_nll():
    logits, labels = sampled(2.5, n=2_000)
    fitted = fit_temperature(logits, labels)
    best = negative_log_likelihood(logits, labels, fitted)
    assert best < negative_log_likelihood(logits, labels)  # T = 1, over-confident
    for nearby in (fitted * 0.9, fitted * 1.1):
        assert best <= negative_log_likelihood(logits, labels, nearby)


def test_negative_log_likelihood_by_hand():
    logits = np.array([[2.0, 0.0], [0.0, 0.0]])
    expected = (math.log(1 + math.exp(-2)) + math.log(2)) / 2
    assert negative_log_likelihood(logits, np.array([0, 1])) == pytest.approx(expected)
    # Temperature 2 halves the logits.
    halved = (math.log(1 + math.exp(-1)) + math.log(2)) / 2
    assert negative_log_likelihood(logits, np.array([0, 1]), 2.0) == pytest.approx(halved)


def test_scaled_softmax_is_stable_and_keeps_the_argmax():
    logits = np.array([[1000.0, 999.0, -5.0], [0.0, 3.0, 1.0]])
    for temperature in (0.1, 1.0, 7.0):
        proba = scaled_softmax(logits, temperature)
        assert np.isfinite(proba).all()
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
        assert proba.argmax(axis=1).tolist() == [0, 1]


def test_empty_input_gives_temperature_one():
    assert fit_temperature(np.empty((0, 2)), np.empty(0, dtype=int)) == 1.0
    assert Calibration.fit(np.empty((0, 2)), np.empty(0, dtype=int)).temperature == 1.0


def test_hopeless_data_stay_within_the_clamp():
    logits = np.array([[3.0, -3.0], [-2.0, 2.0], [1.0, 0.0]])
    assert fit_temperature(logits, np.array([1, 0, 1])) == pytest.approx(MAX_TEMPERATURE, rel=1e-3)
    assert fit_temperature(logits, np.array([0, 1, 1])) >= MIN_TEMPERATURE


def test_all_right_keeps_temperature_one():
    logits = np.array([[3.0, -3.0], [-2.0, 2.0], [1.0, 0.0]])
    assert fit_temperature(logits, np.array([0, 1, 0])) == 1.0


@pytest.mark.parametrize(
    ("logits", "labels", "message"),
    [
        (np.zeros(3), np.zeros(3, dtype=int), "shape"),
        (np.zeros((3, 2)), np.zeros(2, dtype=int), "shape"),
        (np.zeros((2, 2)), np.array([0.0, 1.0]), "integers"),
        (np.zeros((2, 2)), np.array([0, 2]), r"\[0, 2\)"),
        (np.array([[0.0, np.nan]]), np.array([0]), "NaN"),
    ],
)
def test_bad_input_raises_input_error(logits, labels, message):
    with pytest.raises(InputError, match=message):
        fit_temperature(logits, labels)


def test_calibration_entry_round_trips_and_records_the_nll():
    logits, labels = sampled(2.0, n=1_000)
    calibration = Calibration.fit(logits, labels)
    assert calibration.fitted_on == "validation"
    assert calibration.validation_nll_after < calibration.validation_nll_before
    assert Calibration.from_dict(calibration.to_dict(), "config.json") == calibration


def test_missing_entry_means_temperature_one():
    calibration = Calibration.from_dict(None, "config.json")
    assert calibration.temperature == 1.0 and calibration.fitted_on is None
    assert "predates" in calibration.note


@pytest.mark.parametrize(
    "entry", [{"temperature": -1.0}, {"temperature": "hot"}, {"temp": 2.0}, {"temperature": None}]
)
def test_malformed_entry_raises_input_error(entry):
    with pytest.raises(InputError, match="model/config.json"):
        Calibration.from_dict(entry, "model/config.json")
