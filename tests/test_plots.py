"""Tests for workbench.plots: each figure has the expected traces, and user text is escaped."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from workbench import LabeledTexts
from workbench.compare import Comparison, compare
from workbench.evaluate import evaluate
from workbench.plots import (
    accuracy_latency_figure,
    confusion_figure,
    confusion_matrices_figure,
    leaderboard_figure,
    reliability_curve,
    reliability_figure,
)

TEXTS = [f"text {i}" for i in range(6)]
TRUTH = ["<neg>", "<neg>", "<neg>", "pos", "pos", "pos"]
EVIL = "<i>model</i>"


class Fixed:
    def __init__(self, proba, classes=("<neg>", "pos")) -> None:
        self.table = dict(zip(TEXTS, proba, strict=True))
        self.classes = classes

    def fit(self, texts, labels):
        self.classes_ = np.array(self.classes)
        return self

    def predict_proba(self, texts):
        return np.array([self.table[t] for t in texts])


class Broken(Fixed):
    def fit(self, texts, labels):
        raise ValueError("nope")


@pytest.fixture(scope="module")
def comparison() -> Comparison:
    data = LabeledTexts(TEXTS, TRUTH, "data")
    good = Fixed([[0.9, 0.1], [0.8, 0.2], [0.4, 0.6], [0.3, 0.7], [0.2, 0.8], [0.1, 0.9]])
    worse = Fixed([[0.6, 0.4], [0.3, 0.7], [0.4, 0.6], [0.7, 0.3], [0.4, 0.6], [0.5, 0.5]])
    models = [("worse", worse), (EVIL, good), ("broken", Broken([[1, 0]] * 6))]
    return compare(models, data, data, n_bootstrap=50, latency_repeats=2, progress=False)


def test_leaderboard_figure_has_error_bars_best_on_top(comparison):
    figure = leaderboard_figure(comparison)
    assert isinstance(figure, go.Figure)
    (bar,) = figure.data
    assert bar.type == "bar"
    assert list(bar.y) == ["worse", "&lt;i&gt;model&lt;/i&gt;"]  # drawn bottom-up
    np.testing.assert_allclose(bar.x, [2 / 6, 5 / 6])
    assert (np.asarray(bar.error_x.array) >= 0).all()
    assert (np.asarray(bar.error_x.arrayminus) >= 0).all()


def test_confusion_matrices_side_by_side(comparison):
    figure = confusion_matrices_figure(comparison)
    heatmaps = [trace for trace in figure.data if trace.type == "heatmap"]
    assert len(heatmaps) == 2  # the failed model has no matrix
    assert list(heatmaps[0].x) == ["&lt;neg&gt;", "pos"]
    np.testing.assert_array_equal(heatmaps[0].z, [[2, 1], [0, 3]])
    titles = [annotation.text for annotation in figure.layout.annotations]
    assert titles == ["&lt;i&gt;model&lt;/i&gt;", "worse"]


def test_confusion_figure_of_one_evaluation():
    evaluation = evaluate(TRUTH, ["<neg>", "pos", "<neg>", "pos", "pos", "<neg>"], n_bootstrap=10)
    figure = confusion_figure(evaluation, "Confusion matrix (validation)")
    (heatmap,) = figure.data
    assert list(heatmap.x) == list(heatmap.y) == ["&lt;neg&gt;", "pos"]
    np.testing.assert_array_equal(heatmap.z, [[2, 1], [1, 2]])  # rows: true labels
    assert figure.layout.title.text == "Confusion matrix (validation)"
    assert figure.layout.yaxis.autorange == "reversed"  # the first label on top


def test_reliability_figure_has_the_diagonal_and_one_curve_per_model(comparison):
    figure = reliability_figure(comparison, n_bins=5)
    assert len(figure.data) == 3
    assert list(figure.data[0].x) == [0, 1] and list(figure.data[0].y) == [0, 1]
    assert figure.data[1].name.startswith("&lt;i&gt;model&lt;/i&gt; (ECE ")
    assert all(0 <= y <= 1 for trace in figure.data[1:] for y in trace.y)


def test_reliability_curve_bins_by_confidence():
    proba = np.array([[0.95, 0.05], [0.9, 0.1], [0.4, 0.6], [0.45, 0.55]])
    correct = np.array([True, False, True, True])
    confidence, accuracy, counts = reliability_curve(proba, correct, n_bins=10)
    # 0.55 and 0.6 share the bin (0.5, 0.6]; 0.9 is in (0.8, 0.9], 0.95 in (0.9, 1].
    np.testing.assert_allclose(confidence, [0.575, 0.9, 0.95])
    np.testing.assert_allclose(accuracy, [1.0, 0.0, 1.0])
    np.testing.assert_array_equal(counts, [2, 1, 1])


def test_accuracy_latency_figure_uses_a_log_axis(comparison):
    figure = accuracy_latency_figure(comparison)
    (points,) = figure.data
    assert figure.layout.xaxis.type == "log"
    assert list(points.text) == ["&lt;i&gt;model&lt;/i&gt;", "worse"]
    assert len(points.x) == 2 and all(x > 0 for x in points.x)
