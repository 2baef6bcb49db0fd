"""Explanations as plotly figures: each explanation's top words as bars, and attention as
heatmaps. They check and read explanations as :mod:`workbench.explain.render` does and
escape text the same way (plotly interprets a subset of HTML in tick labels, titles and
hover text); blue pushes towards the class, red away from it.

**Base value.** Under each column of :func:`top_words_figure`, its x-axis title does the
explanation's arithmetic: the base value (what the word values are measured from: p(class)
of the empty text for SHAP, LIME's intercept, the logit with every word absent for
integrated gradients) plus the sum of *all* its word values (not only the bars shown)
equals the prediction, e.g. "base 0.500 = p(no words) + 9 word values +0.420 = p(positive)
0.920", one step per line.
Methods without a base value (gradient × input, attention) say that their values do not add
up to the prediction, here and in :func:`attention_figure`."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.errors import InputError
from workbench.explain.base import Explanation
from workbench.explain.render import (
    ATTENTION_CAPTION,
    BLUE,
    RED,
    ROLLOUT_KEY,
    _as_list,
    _esc,
    _fmt,
    _scores,
    _visible_count,
)

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = ["attention_figure", "base_value_caption", "top_words_figure"]

# What attention says in place of a base value.
ATTENTION_NO_BASE_VALUE = "no base value: attention weights are not shares of the prediction"

_UNIT_NAMES = {"probability": "probability points", "logit": "logit points"}


def _word_labels(exp: Explanation) -> list[str]:
    """Escaped word texts; a word that occurs more than once gets its position, "good (#3)"."""
    counts = Counter(word.text for word in exp.words)
    return [
        _esc(word.text) + (f" (#{i + 1})" if counts[word.text] > 1 else "")
        for i, word in enumerate(exp.words)
    ]


def base_value_caption(explanation: Explanation, label: Any = None) -> str:
    """The arithmetic of ``explanation`` towards ``label`` (default: the predicted class) as
    short plain-text lines: its base value, plus the sum of all its word values, equals
    the prediction (the text's probability for SHAP, LIME's local estimate of it, the
    text's logit for integrated gradients), e.g. "base 0.500 = p(no words)" / "+ 9 word
    values +0.420" / "= p(positive) 0.920". The lines are short, to fit under a narrow
    column. For methods without a base value, lines that say their values do not add up.
    Escape it before it reaches HTML.
    """
    scores, explained = _scores(explanation, label)
    index = list(explanation.classes).index(explained)
    if explanation.kind == "attention":
        return "no base value:\nweights are not shares\nof the prediction"
    if explanation.base_values is None:
        return "no base value:\nvalues do not add up\nto the prediction"
    visible = _visible_count(explanation)
    finite = scores[:visible][np.isfinite(scores[:visible])]
    base = float(explanation.base_values[index])
    added = float(finite.sum())
    total = base + added
    probability = float(explanation.probabilities[index])
    name = str(explained)
    if explanation.method == "shap":
        result = f"= p({name}) {total:.3f}"
        if abs(total - probability) > 5e-4:  # SHAP's values add up exactly; say so if not
            result += f" (model: {probability:.3f})"
        return f"base {base:.3f} = p(no words)\n+ {finite.size} word values {added:+.3f}\n{result}"
    if explanation.method == "lime":
        return (
            f"base {base:.3f} = LIME's intercept\n+ {finite.size} word weights {added:+.3f}\n"
            f"= {total:.3f} ≈ p {probability:.3f}"
        )
    if explanation.method == "integrated-gradients":
        deltas = explanation.settings.get("convergence_delta")
        error = ""
        if isinstance(deltas, (list, tuple)) and len(deltas) == len(explanation.classes):
            error = f" ± {float(deltas[index]):.1g}"
        return (
            f"base {base:+.3f} = logit(no words)\n"
            f"+ {finite.size} word values {added:+.3f}\n"
            f"= logit({name}) {total:+.3f}{error}"
        )
    return f"base {base:.4g}\n+ {finite.size} word values {added:+.4g}\n= {total:.4g}"


def _axis_title(explanation: Explanation, label: Any) -> str:
    """The x-axis title of one column: the units, then the base-value arithmetic, escaped."""
    units = explanation.settings.get("units")
    if explanation.kind == "attention":
        heading = "attention weight"
    else:
        heading = _UNIT_NAMES.get(str(units), str(units)) if units else "attribution"
    lines = [heading, *base_value_caption(explanation, label).split("\n")]
    return "<br>".join(_esc(line) for line in lines)


def top_words_figure(
    explanations: Sequence[Explanation] | Explanation, *, k: int = 10, label: Any = None
) -> go.Figure:
    """One column per explanation: its ``k`` words with the largest |attribution|.

    Bars are sorted with the largest at the top; blue pushes towards the class, red away.
    A word that occurs more than once is labelled with its position, e.g. "good (#3)".
    Each column's x-axis title states its base value and that base value + the sum of all
    its word values = the prediction (:func:`base_value_caption`).
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    items = _as_list(explanations)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InputError(f"k must be a positive whole number of words, got {k!r}")
    several_texts = len({exp.text for exp in items}) > 1
    text_numbers = {text: i + 1 for i, text in enumerate(dict.fromkeys(e.text for e in items))}

    columns = []
    for exp in items:
        scores, explained = _scores(exp, label)
        visible = _visible_count(exp)
        candidates = [i for i in range(visible) if math.isfinite(scores[i])]
        order = sorted(candidates, key=lambda i: -abs(scores[i]))[:k]  # stable on ties
        subtitle = _esc(exp.method)
        subtitle += " (attention)" if exp.kind == "attention" else f" → {_esc(explained)}"
        if several_texts:
            subtitle += f", text {text_numbers[exp.text]}"
        columns.append((exp, scores, explained, order, subtitle))

    n = len(columns)
    fig = make_subplots(
        rows=1,
        cols=n,
        subplot_titles=[c[4] for c in columns],
        horizontal_spacing=min(0.15, 0.5 / n) if n > 1 else 0.1,
    )
    for col, (exp, scores, explained, order, _) in enumerate(columns, start=1):
        names = _word_labels(exp)
        values = [float(scores[i]) for i in order]
        if exp.kind == "attention":
            hover = [f"{names[i]}: attention {scores[i]:.4g}" for i in order]
        else:
            hover = [f"{names[i]}: {_fmt(scores[i])} towards {_esc(explained)}" for i in order]
        fig.add_trace(
            go.Bar(
                x=values,
                y=[names[i] for i in order],
                orientation="h",
                marker_color=[
                    "#{:02x}{:02x}{:02x}".format(*(BLUE if v > 0 else RED if v < 0 else (150,) * 3))
                    for v in values
                ],
                hovertext=hover,
                hoverinfo="text",
                name=_esc(exp.method),
                showlegend=False,
            ),
            row=1,
            col=col,
        )
        fig.update_xaxes(
            title_text=_axis_title(exp, label),
            title_font={"size": 11},
            row=1,
            col=col,
        )
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_xaxes(zeroline=True, zerolinecolor="#888888")
    if label is not None:
        towards = f"“{_esc(label)}”"
    elif len({str(c[2]) for c in columns}) == 1:
        towards = f"“{_esc(columns[0][2])}” (the predicted class)"
    else:
        towards = "each explanation's predicted class"
    fig.update_layout(
        title_text=f"Top {k} words by |attribution| towards {towards}"
        "<br><sup>blue: towards the class · red: away from it · under each column: "
        "base value + all word values = prediction</sup>",
        height=max(380, 26 * max(len(c[3]) for c in columns) + 240),
        template="plotly_white",
        margin={"t": 110, "b": 40},
    )
    return fig


def attention_figure(explanation: Explanation) -> go.Figure:
    """Attention weights, query (rows) × key (columns) over ``[CLS]`` + words.

    A dropdown picks one heatmap: each (layer, head), each layer's mean over heads, and the
    attention rollout when ``explanation.settings["rollout"]`` holds one. Attention shows
    where the model looked, not why it decided.
    """
    weights = _attention_weights(explanation)  # (layers, heads, T, T)
    size = weights.shape[-1]
    ticks = ["[CLS]"] + _word_labels(explanation)[: size - 1]
    views = _attention_views(weights, ticks, explanation.settings.get(ROLLOUT_KEY))
    return _heatmap_menu(views, ticks, _esc(explanation.method), height=max(420, 22 * size + 200))


def _attention_weights(explanation: Explanation) -> np.ndarray:
    """The explanation's attention as a (layers, heads, T, T) array, once it fits its text."""
    _as_list([explanation])
    if explanation.attention is None:
        raise InputError(
            f"the {explanation.method} explanation holds no attention weights; "
            "use the attention explainer, which records them"
        )
    weights = np.asarray(explanation.attention, dtype=np.float64)
    if weights.ndim != 4 or weights.shape[2] != weights.shape[3]:
        raise InputError(
            f"attention has shape {weights.shape}; expected (layers, heads, T, T) with T = "
            "[CLS] plus the words the model read"
        )
    size = weights.shape[2]
    if not 1 <= size <= len(explanation.words) + 1:
        raise InputError(
            f"attention covers {size} positions but the text has {len(explanation.words)} "
            "words plus [CLS]; the attention comes from a different text"
        )
    return weights


def _attention_views(
    weights: np.ndarray, ticks: list[str], rollout: Any
) -> list[tuple[str, np.ndarray, list[str]]]:
    """(name, heatmap, row labels) for each (layer, head), each layer's mean over heads and
    the rollout, if given as a (T, T) or (T,) array."""
    num_layers, num_heads, size, _ = weights.shape
    views: list[tuple[str, np.ndarray, list[str]]] = []
    for layer in range(num_layers):
        for head in range(num_heads):
            views.append((f"layer {layer + 1} · head {head + 1}", weights[layer, head], ticks))
        views.append((f"layer {layer + 1} · mean of heads", weights[layer].mean(axis=0), ticks))
    if rollout is None:
        return views
    rollout = np.asarray(rollout, dtype=np.float64)
    if rollout.shape == (size, size):
        views.append(("rollout", rollout, ticks))
    elif rollout.shape == (size,):
        views.append(("rollout (from [CLS])", rollout[None, :], ["[CLS]"]))
    else:
        raise InputError(
            f"settings['{ROLLOUT_KEY}'] has shape {rollout.shape}; expected ({size}, "
            f"{size}) or ({size},) to match the attention"
        )
    return views


def _heatmap_menu(
    views: list[tuple[str, np.ndarray, list[str]]], ticks: list[str], method: str, height: int
) -> go.Figure:
    """One heatmap per view, the first shown, and a dropdown that switches between them.
    ``method`` is escaped already."""
    import plotly.graph_objects as go

    def heading(name: str) -> str:
        return (
            f"{method}: {name}<br><sup>{_esc(ATTENTION_CAPTION)} · "
            f"{_esc(ATTENTION_NO_BASE_VALUE)}</sup>"
        )

    fig = go.Figure()
    for i, (name, z, rows) in enumerate(views):
        fig.add_trace(
            go.Heatmap(
                z=z,
                x=ticks,
                y=rows,
                colorscale="Blues",
                zmin=0,
                visible=i == 0,
                name=name,
                hovertemplate="query %{y}<br>key %{x}<br>weight %{z:.4f}<extra></extra>",
            )
        )
    buttons = [
        {
            "label": name,
            "method": "update",
            "args": [
                {"visible": [j == i for j in range(len(views))]},
                {"title.text": heading(name)},
            ],
        }
        for i, (name, _, _) in enumerate(views)
    ]
    fig.update_layout(
        title_text=heading(views[0][0]),
        updatemenus=[
            {
                "buttons": buttons,
                "direction": "down",
                "active": 0,
                "showactive": True,
                "x": 1.0,
                "xanchor": "right",
                "y": 1.15,
                "yanchor": "top",
            }
        ],
        xaxis={"title": {"text": "key (attended to)"}, "automargin": True},
        yaxis={"title": {"text": "query (attending)"}, "autorange": "reversed", "automargin": True},
        height=height,
        template="plotly_white",
        margin={"t": 140},
    )
    return fig
