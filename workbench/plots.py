"""Plotly figures of a :class:`~workbench.compare.Comparison` and of one
:class:`~workbench.evaluate.Evaluation`.

Each builder takes the comparison (or the evaluation) and returns a
``plotly.graph_objects.Figure`` without showing it (notebooks and panels display the
return value; the comparison's HTML page embeds them, which is why this module reads a
comparison by its shape, :class:`ComparisonLike`, and imports nothing from
:mod:`workbench.compare`: the dependency points one way). Plotly renders a subset of HTML
in names, ticks and hover text, so every user-supplied string (model names, labels) goes
through :func:`html.escape` first.
"""

from __future__ import annotations

import html
from typing import Protocol

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from workbench.data import LabeledTexts
from workbench.evaluate import Evaluation, confidence_bins


class ComparisonLike(Protocol):
    """What the figures read from a :class:`~workbench.compare.Comparison`."""

    leaderboard: pd.DataFrame
    probabilities: dict[str, np.ndarray]
    evaluations: dict[str, Evaluation]
    labels: list
    test: LabeledTexts


def _esc(value) -> str:
    return html.escape(str(value))


def _scored(comparison: ComparisonLike) -> list[str]:
    """Scored models in leaderboard order (best first); failed models have nothing to plot."""
    return [n for n in comparison.leaderboard["model"] if n in comparison.probabilities]


def _rows(comparison: ComparisonLike):
    board = comparison.leaderboard.set_index("model")
    return [(name, board.loc[name]) for name in _scored(comparison)]


def leaderboard_figure(comparison: ComparisonLike) -> go.Figure:
    """Accuracy of each model with its bootstrap 95% interval as error bars, best on top."""
    rows = _rows(comparison)[::-1]  # plotly draws the first bar at the bottom
    accuracy = np.array([row["accuracy"] for _, row in rows])
    low = np.array([row["accuracy_low"] for _, row in rows])
    high = np.array([row["accuracy_high"] for _, row in rows])
    names = [_esc(name) for name, _ in rows]
    figure = go.Figure(
        go.Bar(
            x=accuracy,
            y=names,
            orientation="h",
            name="accuracy",
            error_x={
                "type": "data",
                "symmetric": False,
                "array": high - accuracy,
                "arrayminus": accuracy - low,
            },
            customdata=np.stack([low, high], axis=1) if rows else None,
            hovertemplate="%{y}<br>accuracy %{x:.3f}<br>95% CI [%{customdata[0]:.3f}, "
            "%{customdata[1]:.3f}]<extra></extra>",
        )
    )
    figure.update_layout(
        title=f"Test accuracy with 95% bootstrap intervals (n = {len(comparison.test)})",
        xaxis_title="accuracy",
        height=160 + 40 * len(rows),
        margin={"l": 160},
    )
    return figure


def confusion_matrices_figure(comparison: ComparisonLike) -> go.Figure:
    """One confusion matrix per model, side by side (rows: true label, columns: predicted)."""
    names = _scored(comparison)
    labels = [_esc(label) for label in comparison.labels]
    figure = make_subplots(
        rows=1,
        cols=max(1, len(names)),
        subplot_titles=[_esc(name) for name in names] or None,
        horizontal_spacing=0.06,
    )
    peak = max(
        (max(map(max, comparison.evaluations[n].confusion_matrix)) for n in names), default=1
    )
    for i, name in enumerate(names, start=1):
        counts = np.array(comparison.evaluations[name].confusion_matrix)
        heatmap = _confusion_heatmap(
            counts, labels, zmax=peak, showscale=i == len(names), name=_esc(name)
        )
        figure.add_trace(heatmap, row=1, col=i)
        figure.update_xaxes(title_text="predicted", row=1, col=i)
        figure.update_yaxes(autorange="reversed", row=1, col=i)
    figure.update_yaxes(title_text="true", row=1, col=1)
    figure.update_layout(title="Confusion matrices", height=380, width=max(480, 330 * len(names)))
    return figure


def confusion_figure(evaluation: Evaluation, title: str = "Confusion matrix") -> go.Figure:
    """Counts of true (rows) against predicted (columns) labels of one evaluation."""
    labels = [_esc(label) for label in evaluation.labels]
    figure = go.Figure(_confusion_heatmap(np.array(evaluation.confusion_matrix), labels))
    figure.update_layout(
        title=title,
        xaxis_title="predicted",
        yaxis={"title": "true", "autorange": "reversed"},
        height=360,
        width=420,
    )
    return figure


def _confusion_heatmap(counts: np.ndarray, labels: list[str], **options) -> go.Heatmap:
    return go.Heatmap(
        z=counts,
        x=labels,
        y=labels,
        zmin=0,
        colorscale="Blues",
        text=counts,
        texttemplate="%{text}",
        hovertemplate="true %{y}<br>predicted %{x}<br>%{z} examples<extra></extra>",
        **options,
    )


def reliability_curve(
    proba: np.ndarray, correct: np.ndarray, n_bins: int = 10
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean confidence, accuracy and count of each non-empty equal-width confidence bin
    (the bins of :func:`workbench.evaluate.confidence_bins`, which ECE is computed on)."""
    counts, confidence_sums, correct_sums = confidence_bins(proba, correct, n_bins)
    filled = counts > 0
    return (
        confidence_sums[filled] / counts[filled],
        correct_sums[filled] / counts[filled],
        counts[filled],
    )


def reliability_figure(comparison: ComparisonLike, n_bins: int = 10) -> go.Figure:
    """Reliability diagram: accuracy against confidence per bin, one curve per model.

    A calibrated model follows the dashed diagonal; below it, the model is overconfident.
    """
    truth = np.asarray(comparison.test.labels, dtype=object)
    labels = np.asarray(comparison.labels, dtype=object)
    figure = go.Figure(
        go.Scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            line={"dash": "dash", "color": "grey"},
            name="perfect calibration",
            hoverinfo="skip",
        )
    )
    for name in _scored(comparison):
        proba = comparison.probabilities[name]
        correct = labels[proba.argmax(axis=1)] == truth
        confidence, accuracy, counts = reliability_curve(proba, correct, n_bins)
        ece = comparison.evaluations[name].ece
        figure.add_trace(
            go.Scatter(
                x=confidence,
                y=accuracy,
                mode="lines+markers",
                name=f"{_esc(name)} (ECE {ece:.3f})",
                customdata=counts,
                hovertemplate=f"{_esc(name)}<br>confidence %{{x:.3f}}<br>accuracy %{{y:.3f}}"
                "<br>%{customdata} examples<extra></extra>",
            )
        )
    figure.update_layout(
        title="Reliability diagram",
        xaxis={"title": "mean confidence in bin", "range": [0, 1]},
        yaxis={"title": "accuracy in bin", "range": [0, 1]},
        height=450,
    )
    return figure


def accuracy_latency_figure(comparison: ComparisonLike) -> go.Figure:
    """Accuracy against median single-text latency (log scale): the cost of each point."""
    rows = _rows(comparison)
    accuracy = np.array([row["accuracy"] for _, row in rows])
    figure = go.Figure(
        go.Scatter(
            x=[row["latency_ms_p50"] for _, row in rows],
            y=accuracy,
            mode="markers+text",
            text=[_esc(name) for name, _ in rows],
            textposition="top center",
            marker={"size": 12},
            error_y={
                "type": "data",
                "symmetric": False,
                "array": np.array([row["accuracy_high"] for _, row in rows]) - accuracy,
                "arrayminus": accuracy - np.array([row["accuracy_low"] for _, row in rows]),
            },
            name="models",
            hovertemplate="%{text}<br>latency %{x:.2f} ms<br>accuracy %{y:.3f}<extra></extra>",
        )
    )
    figure.update_layout(
        title="Accuracy vs latency (median single-text predict_proba)",
        xaxis={"title": "latency per text, ms (log scale)", "type": "log"},
        yaxis_title="accuracy",
        height=450,
    )
    return figure
