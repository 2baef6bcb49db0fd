"""Tests for workbench.evaluate: metrics, calibration, bootstrap intervals, bad input."""

import importlib
import json

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

from workbench.errors import InputError
from workbench.evaluate import (
    Evaluation,
    bootstrap_ci,
    confidence_bins,
    evaluate,
    expected_calibration_error,
)

# The package re-exports the function `evaluate`, which hides the module of that name.
evaluate_module = importlib.import_module("workbench.evaluate")

# Three classes, computed by hand below. Sorted labels: bird, cat, dog.
Y_TRUE = ["cat", "cat", "cat", "dog", "dog", "bird"]
Y_PRED = ["cat", "cat", "dog", "dog", "cat", "cat"]


def test_tiny_case_matches_hand_computation():
    result = evaluate(Y_TRUE, Y_PRED, n_bootstrap=50)

    assert result.n == 6
    assert result.labels == ["bird", "cat", "dog"]
    # rows = true (bird, cat, dog), cols = predicted
    assert result.confusion_matrix == [[0, 1, 0], [0, 2, 1], [0, 1, 1]]
    assert result.accuracy == pytest.approx(3 / 6)
    # bird: never predicted, 1 missed -> P 0 (zero_division), R 0, F1 0
    # cat: TP 2, predicted 4, true 3 -> P 1/2, R 2/3, F1 = 2*2/(4+3) = 4/7
    # dog: TP 1, predicted 2, true 2 -> P 1/2, R 1/2, F1 1/2
    expected = {
        "bird": (0.0, 0.0, 0.0, 1),
        "cat": (1 / 2, 2 / 3, 4 / 7, 3),
        "dog": (1 / 2, 1 / 2, 1 / 2, 2),
    }
    assert list(result.per_class) == ["bird", "cat", "dog"]
    for name, (precision, recall, f1, support) in expected.items():
        scores = result.per_class[name]
        assert scores["precision"] == pytest.approx(precision)
        assert scores["recall"] == pytest.approx(recall)
        assert scores["f1"] == pytest.approx(f1)
        assert scores["support"] == support
    assert result.macro_f1 == pytest.approx((0 + 4 / 7 + 1 / 2) / 3)
    assert result.roc_auc is None
    assert result.ece is None
    assert result.accuracy_ci.low <= result.accuracy <= result.accuracy_ci.high
    assert result.accuracy_ci.confidence == 0.95


def test_explicit_labels_set_order_and_count_absent_classes():
    result = evaluate(Y_TRUE, Y_PRED, labels=["dog", "cat", "bird", "fish"], n_bootstrap=20)
    assert result.labels == ["dog", "cat", "bird", "fish"]
    assert result.confusion_matrix[0] == [1, 1, 0, 0]  # true dog: 1 dog, 1 cat
    # fish never occurs: F1 0 under zero_division=0, still part of the macro average
    assert result.per_class["fish"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert result.macro_f1 == pytest.approx((1 / 2 + 4 / 7 + 0 + 0) / 4)


def test_ece_is_zero_when_perfectly_calibrated():
    one_hot = np.eye(3)[[0, 1, 2, 1]]
    assert expected_calibration_error([0, 1, 2, 1], one_hot) == pytest.approx(0.0)
    # confidence 0.75 everywhere and exactly 3 of 4 right
    proba = np.array([[0.75, 0.25]] * 4)
    assert expected_calibration_error([0, 0, 0, 1], proba) == pytest.approx(0.0)


def test_ece_hand_computed_with_two_right_inclusive_bins():
    proba = np.array(
        [
            [0.4, 0.3, 0.3],  # conf 0.4, correct     -> bin (0, 0.5]
            [0.5, 0.25, 0.25],  # conf 0.5, wrong     -> bin (0, 0.5]: right edge included
            [0.8, 0.1, 0.1],  # conf 0.8, correct     -> bin (0.5, 1]
            [0.1, 0.9, 0.0],  # conf 0.9, correct     -> bin (0.5, 1]
            [0.0, 0.3, 0.7],  # conf 0.7, wrong       -> bin (0.5, 1]
        ]
    )
    y_true_idx = [0, 2, 0, 1, 0]
    # low bin: acc 1/2, mean conf 0.45 -> gap 0.05, weight 2/5
    # high bin: acc 2/3, mean conf 0.8 -> gap 2/15, weight 3/5
    expected = 2 / 5 * 0.05 + 3 / 5 * (2 / 15)
    assert expected_calibration_error(y_true_idx, proba, n_bins=2) == pytest.approx(expected)


def test_confidence_bins_are_right_inclusive_and_keep_empty_bins():
    proba = np.array([[0.4, 0.6], [0.5, 0.5], [0.9, 0.1], [1.0, 0.0]])
    correct = np.array([True, False, True, False])
    counts, confidence_sums, correct_sums = confidence_bins(proba, correct, n_bins=4)
    # bins (0, .25] (.25, .5] (.5, .75] (.75, 1]: 0.5 belongs to the second, 0.6 the third
    np.testing.assert_array_equal(counts, [0, 1, 1, 2])
    np.testing.assert_allclose(confidence_sums, [0.0, 0.5, 0.6, 1.9])
    np.testing.assert_allclose(correct_sums, [0, 0, 1, 1])


def test_evaluate_reports_ece_of_its_probabilities():
    rng = np.random.default_rng(1)
    proba = rng.dirichlet([1.0, 1.0, 1.0], size=200)
    y_true_idx = rng.integers(0, 3, size=200)
    labels = ["a", "b", "c"]
    y_true = [labels[i] for i in y_true_idx]
    y_pred = [labels[i] for i in proba.argmax(axis=1)]
    result = evaluate(y_true, y_pred, proba, labels=labels, n_bootstrap=20)
    assert result.ece == pytest.approx(expected_calibration_error(y_true_idx, proba))
    assert result.roc_auc is None  # three classes


def test_roc_auc_matches_sklearn_for_binary():
    rng = np.random.default_rng(2)
    labels = np.array(["neg", "pos"])  # as a classifier's classes_ would be
    y_true = rng.choice(labels, size=300)
    p_pos = np.clip(0.5 * (y_true == "pos") + rng.random(300) * 0.5, 0.0, 1.0)
    proba = np.column_stack([1 - p_pos, p_pos])
    y_pred = labels[proba.argmax(axis=1)]
    result = evaluate(y_true, y_pred, proba, labels=labels, n_bootstrap=20)
    assert result.roc_auc == pytest.approx(roc_auc_score(y_true == "pos", p_pos))
    assert result.labels == ["neg", "pos"]


def test_roc_auc_is_none_when_y_true_has_one_class():
    proba = np.array([[0.2, 0.8], [0.6, 0.4], [0.1, 0.9]])
    result = evaluate(["pos"] * 3, ["pos", "neg", "pos"], proba, labels=["neg", "pos"])
    assert result.roc_auc is None
    assert result.ece is not None


def test_bootstrap_interval_covers_true_accuracy_at_nominal_rate():
    n, true_accuracy, repetitions = 2000, 0.8, 100
    covered = 0
    for rep in range(repetitions):
        rng = np.random.default_rng(1000 + rep)
        y_true = rng.integers(0, 2, size=n)
        correct = rng.random(n) < true_accuracy
        y_pred = np.where(correct, y_true, 1 - y_true)
        ci = evaluate(y_true, y_pred, n_bootstrap=200, seed=rep).accuracy_ci
        covered += ci.low <= true_accuracy <= ci.high
    assert 90 <= covered <= 99


@pytest.mark.parametrize("max_indices_per_chunk", [None, 1000])
def test_vectorised_bootstrap_equals_general_bootstrap(monkeypatch, max_indices_per_chunk):
    if max_indices_per_chunk is not None:
        # force many small chunks so the chunk boundaries are exercised as well
        monkeypatch.setattr(evaluate_module, "_MAX_INDICES_PER_CHUNK", max_indices_per_chunk)
    rng = np.random.default_rng(3)
    labels = ["x", "y", "z"]
    y_true = rng.choice(labels, size=300, p=[0.6, 0.3, 0.1])
    y_pred = np.where(rng.random(300) < 0.7, y_true, rng.choice(labels, size=300))

    result = evaluate(y_true, y_pred, labels=labels, n_bootstrap=300, confidence=0.9, seed=7)

    def macro_f1(t, p):
        return f1_score(t, p, labels=labels, average="macro", zero_division=0)

    general_f1 = bootstrap_ci(macro_f1, y_true, y_pred, n_resamples=300, confidence=0.9, seed=7)
    general_acc = bootstrap_ci(
        accuracy_score, y_true, y_pred, n_resamples=300, confidence=0.9, seed=7
    )
    assert result.macro_f1_ci.low == pytest.approx(general_f1.low, abs=1e-12)
    assert result.macro_f1_ci.high == pytest.approx(general_f1.high, abs=1e-12)
    assert result.accuracy_ci.low == pytest.approx(general_acc.low, abs=1e-12)
    assert result.accuracy_ci.high == pytest.approx(general_acc.high, abs=1e-12)
    assert result.macro_f1_ci.confidence == general_f1.confidence == 0.9


def test_bootstrap_is_reproducible_from_seed():
    first = evaluate(Y_TRUE, Y_PRED, n_bootstrap=100, seed=5)
    again = evaluate(Y_TRUE, Y_PRED, n_bootstrap=100, seed=5)
    assert first.accuracy_ci == again.accuracy_ci
    assert first.macro_f1_ci == again.macro_f1_ci


def test_to_dict_is_json_serialisable_and_summary_shows_numbers():
    proba = np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4], [0.2, 0.8]])
    # numpy integer labels must still come out as plain ints
    result = evaluate(
        np.array([0, 1, 1, 1]), np.array([0, 1, 0, 1]), proba, labels=np.array([0, 1])
    )
    assert isinstance(result, Evaluation)

    data = result.to_dict()
    decoded = json.loads(json.dumps(data))
    assert decoded["n"] == 4
    assert decoded["accuracy"] == pytest.approx(0.75)
    assert decoded["macro_f1"] == pytest.approx(result.macro_f1)
    assert decoded["labels"] == [0, 1]
    assert decoded["accuracy_ci"]["confidence"] == 0.95
    assert decoded["per_class"]["1"]["support"] == 3

    text = result.summary()
    for value in (
        result.accuracy,
        result.accuracy_ci.low,
        result.accuracy_ci.high,
        result.macro_f1,
        result.macro_f1_ci.low,
        result.macro_f1_ci.high,
        result.ece,
        result.roc_auc,
        result.per_class["1"]["recall"],
    ):
        assert f"{value:.3f}" in text
    assert "95%" in text
    assert "ECE" in text and "ROC-AUC" in text


def test_summary_marks_missing_probability_metrics():
    text = evaluate(Y_TRUE, Y_PRED, n_bootstrap=20).summary()
    assert "n/a" in text
    assert "bird" in text


GOOD_PROBA = [[0.5, 0.5], [0.2, 0.8], [1.0, 0.0]]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"y_true": ["a", "b", "a"], "y_pred": ["a", "b"]}, "y_true has 3 labels but y_pred has 2"),
        ({"y_true": [], "y_pred": []}, "empty"),
        ({"y_true": "abc", "y_pred": "abc"}, "single string"),
        (
            {"y_true": ["a", "b", "a"], "y_pred": ["a", "b", "b"], "proba": GOOD_PROBA},
            "pass labels=",
        ),
        (
            {"y_true": ["a", "b"], "y_pred": ["a", "b"], "proba": GOOD_PROBA, "labels": ["a", "b"]},
            "y_true has 2 labels but proba has 3 rows",
        ),
        (
            {
                "y_true": ["a", "b", "a"],
                "y_pred": ["a", "b", "b"],
                "proba": [[0.5, 0.5], [0.2, 0.7], [1.0, 0.0]],
                "labels": ["a", "b"],
            },
            "row 1 sums to 0.9",
        ),
        (
            {
                "y_true": ["a", "b", "a"],
                "y_pred": ["a", "b", "b"],
                "proba": [[2.0, -1.0], [0.2, 0.8], [1.0, 0.0]],
                "labels": ["a", "b"],
            },
            "negative",
        ),
        (
            {
                "y_true": ["a", "b", "a"],
                "y_pred": ["a", "b", "b"],
                "proba": [[np.nan, 1.0], [0.2, 0.8], [1.0, 0.0]],
                "labels": ["a", "b"],
            },
            "NaN",
        ),
        (
            {
                "y_true": ["a", "b", "a"],
                "y_pred": ["a", "b", "b"],
                "proba": GOOD_PROBA,
                "labels": ["a", "b", "c"],
            },
            "proba has 2 columns but labels has 3 classes",
        ),
        (
            {"y_true": ["a", "b"], "y_pred": ["a", "b"], "proba": [0.5, 0.5], "labels": ["a", "b"]},
            "2-D array of shape \\(2, 2\\)",
        ),
        ({"y_true": ["a", "b"], "y_pred": ["a", "b"], "confidence": 0.0}, "confidence"),
        ({"y_true": ["a", "b"], "y_pred": ["a", "b"], "confidence": 1.0}, "confidence"),
        ({"y_true": ["a", "b"], "y_pred": ["a", "b"], "confidence": 95}, "confidence"),
        ({"y_true": ["a", "b"], "y_pred": ["a", "b"], "n_bootstrap": 0}, "n_bootstrap"),
        (
            {"y_true": ["a", "b"], "y_pred": ["a", "c"], "labels": ["a", "b"]},
            "y_pred contains .*'c'",
        ),
        ({"y_true": ["a", "b"], "y_pred": ["a", "b"], "labels": ["a", "b", "a"]}, "duplicates"),
        ({"y_true": ["a", 1], "y_pred": ["a", 1]}, "mix label types"),
    ],
)
def test_evaluate_rejects_bad_input(kwargs, message):
    with pytest.raises(InputError, match=message):
        evaluate(**kwargs)


@pytest.mark.parametrize(
    ("y_true_idx", "proba", "n_bins", "message"),
    [
        ([0, 1], [[0.5, 0.5]], 15, "y_true has 2 labels but proba has 1 rows"),
        ([0, 2], [[0.5, 0.5], [0.5, 0.5]], 15, r"must lie in \[0, 2\)"),
        (["a", "b"], [[0.5, 0.5], [0.5, 0.5]], 15, "integer column indices"),
        ([], np.empty((0, 2)), 15, "non-empty"),
        ([0, 1], [[0.5, 0.5], [0.5, 0.6]], 15, "sum to 1"),
        ([0, 1], [[0.5, 0.5], [0.5, 0.5]], 0, "n_bins"),
    ],
)
def test_ece_rejects_bad_input(y_true_idx, proba, n_bins, message):
    with pytest.raises(InputError, match=message):
        expected_calibration_error(y_true_idx, proba, n_bins=n_bins)


@pytest.mark.parametrize(
    ("y_true", "y_pred", "kwargs", "message"),
    [
        ([1, 0, 1], [1, 0], {}, "y_true has 3 labels but y_pred has 2"),
        ([], [], {}, "empty"),
        ([1, 0], [1, 0], {"confidence": 1.5}, "confidence"),
        ([1, 0], [1, 0], {"n_resamples": 0}, "n_resamples"),
    ],
)
def test_bootstrap_ci_rejects_bad_input(y_true, y_pred, kwargs, message):
    with pytest.raises(InputError, match=message):
        bootstrap_ci(accuracy_score, y_true, y_pred, **kwargs)


def test_measure_latency_times_single_texts_and_one_batch():
    from workbench.evaluate import measure_latency

    calls = []

    class Recorder:
        def predict_proba(self, texts):
            calls.append(len(texts))
            return np.full((len(texts), 2), 0.5)

    latency = measure_latency(Recorder(), ["a", "b", "c"], repeats=7)
    assert calls == [1] + [1] * 7 + [3]  # warm-up, the timed singles, one batch
    assert 0 <= latency.p50_ms <= latency.p99_ms
    assert latency.throughput_per_s > 0 and latency.batch_texts == 3
    with pytest.raises(InputError, match="at least one text"):
        measure_latency(Recorder(), [])


def test_issue14_case15_one_class_test_set_reports_accuracy_with_notes():
    """Issue 14 case 15: scoring only-positive reviews is legitimate; accuracy is reported,
    ROC-AUC is n/a (None in JSON) and notes say why, and what macro-F1 means here."""
    proba = np.array([[0.2, 0.8], [0.6, 0.4], [0.1, 0.9], [0.3, 0.7]])
    result = evaluate(
        ["pos"] * 4, ["pos", "neg", "pos", "pos"], proba, labels=["neg", "pos"], n_bootstrap=20
    )
    assert result.accuracy == pytest.approx(0.75)
    assert result.roc_auc is None
    expected = f1_score([1] * 4, [1, 0, 1, 1], labels=[0, 1], average="macro", zero_division=0)
    assert result.macro_f1 == pytest.approx(expected)
    assert len(result.notes) == 2
    assert "no example of 'neg'" in result.notes[0] and "at most 1/2" in result.notes[0]
    assert "ROC-AUC is n/a" in result.notes[1]
    payload = json.loads(json.dumps(result.to_dict()))
    assert payload["roc_auc"] is None and payload["notes"] == result.notes
    summary = result.summary()
    assert "ROC-AUC   n/a" in summary and "note: ROC-AUC is n/a" in summary


def test_notes_are_empty_when_every_class_occurs():
    assert evaluate(Y_TRUE, Y_PRED, n_bootstrap=20).notes == []
