"""Explanations as plotly figures: each explanation's top words as bars, and attention as
heatmaps. They check and read explanations as :mod:`workbench.explain.render` does and
escape text the same way (plotly interprets a subset of HTML in tick labels, titles and
hover text); blue pushes towards the class, red away from it."""

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

__all__ = ["attention_figure", "top_words_figure"]


def _word_labels(exp: Explanation) -> list[str]:
    """Escaped word texts; a word that occurs more than once gets its position, "good (#3)"."""
    counts = Counter(word.text for word in exp.words)
    return [
        _esc(word.text) + (f" (#{i + 1})" if counts[word.text] > 1 else "")
        for i, word in enumerate(exp.words)
    ]


def top_words_figure(
    explanations: Sequence[Explanation] | Explanation, *, k: int = 10, label: Any = None
) -> go.Figure:
    """One column per explanation: its ``k`` words with the largest |attribution|.

    Bars are sorted with the largest at the top; blue pushes towards the class, red away.
    A word that occurs more than once is labelled with its position, e.g. "good (#3)".
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
        "<br><sup>blue: towards the class · red: away from it</sup>",
        height=max(320, 26 * max(len(c[3]) for c in columns) + 160),
        template="plotly_white",
        margin={"t": 110},
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
        return f"{method}: {name}<br><sup>{_esc(ATTENTION_CAPTION)}</sup>"

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
