"""Every explanation view states the base value, and its numbers add up.

SHAP: base value = p(class) of the empty text, and base + the word values = the text's
probability. Integrated gradients: base value = the logit with every word absent, and base +
the word values = the text's logit, up to the integration error. LIME: its intercept, and
intercept + weights = its local estimate. Gradient × input and attention have no base value
and every view says so. A tiny planted-word transformer (as in ``test_explain.py``) keeps
this fast.
"""

from __future__ import annotations

import html
import re

import numpy as np
import pytest

from workbench import ModelConfig, TextClassifier, TrainConfig
from workbench.data import planted_dataset
from workbench.explain import attention_figure, explain, explanation_html, top_words_figure
from workbench.explain.base import Explanation
from workbench.explain.figures import base_value_caption
from workbench.tokenizer import split_words
from workbench.widgets import explain_panel

TEXT = "the movie was zork on this very plot"
SETTINGS = {
    "shap": {"max_evals": 300},
    "lime": {"num_samples": 300},
    "integrated-gradients": {"n_steps": 32},
}
NUMBER = r"([+-]?\d+\.\d+)"


@pytest.fixture(scope="module")
def model() -> TextClassifier:
    data = planted_dataset(300, 0)
    clf = TextClassifier(
        ModelConfig(d_model=32, num_heads=2, num_layers=1, d_ff=64, max_length=16, dropout=0.0),
        TrainConfig(num_epochs=4, learning_rate=3e-3, seed=0),
    )
    return clf.fit(data.texts, data.labels, val_size=0, progress=False)


@pytest.fixture(scope="module")
def explanations(model) -> dict[str, Explanation]:
    methods = ["shap", "lime", "integrated-gradients", "gradient-x-input", "attention"]
    return {m: explain(model, TEXT, m, progress=False, **SETTINGS.get(m, {})) for m in methods}


def axis_titles(fig) -> list[str]:
    """The x-axis titles of a top-words figure, one per column, as plain text lines."""
    axes = sorted(
        (name for name in fig.layout if name.startswith("xaxis")),
        key=lambda name: int(name[5:] or 1),
    )
    return [html.unescape(fig.layout[name].title.text).replace("<br>", "\n") for name in axes]


def arithmetic(caption: str) -> tuple[float, int, float, float]:
    """(base, number of words, sum of word values, total) read from a caption's lines."""
    base = float(re.search(rf"base {NUMBER}", caption).group(1))
    words = re.search(rf"\+ (\d+) word (?:values|weights) {NUMBER}", caption)
    total = float(re.search(rf"\n= (?:p\([^)]*\) |logit\([^)]*\) )?{NUMBER}", caption).group(1))
    return base, int(words.group(1)), float(words.group(2)), total


def test_shap_figure_states_the_base_value_and_adds_up(model, explanations):
    exp = explanations["shap"]
    (caption,) = axis_titles(top_words_figure(exp, k=3))
    name = exp.predicted_label
    assert caption.startswith("probability points\n")
    assert "base" in caption and "= p(no words)" in caption and f"= p({name}) " in caption
    base, count, added, total = arithmetic(caption)
    index = exp.predicted_index
    # what the caption says is the model's: p(empty text), all words, p(text)
    assert base == pytest.approx(model.predict_proba([""])[0][index], abs=1e-3)
    assert count == len(exp.words)  # every word's value, not only the three bars
    assert added == pytest.approx(exp.for_class().sum(), abs=1e-3)
    assert total == pytest.approx(exp.probabilities[index], abs=1e-3)
    assert base + added == pytest.approx(total, abs=2e-3)  # the printed numbers add up
    assert "(model:" not in caption  # SHAP is efficient: no gap to report


def test_integrated_gradients_figure_adds_up_to_the_texts_logit(model, explanations):
    exp = explanations["integrated-gradients"]
    (caption,) = axis_titles(top_words_figure(exp))
    index = exp.predicted_index
    name = exp.predicted_label
    assert caption.startswith("logit points\n")
    assert "= logit(no words)" in caption and f"= logit({name}) " in caption
    base, count, added, total = arithmetic(caption)
    delta = exp.settings["convergence_delta"][index]
    assert f"± {delta:.1g}" in caption
    logit = float(model.predict_logits([TEXT])[0][index])
    assert base == pytest.approx(exp.base_values[index], abs=1e-3)
    assert count == len(exp.words)
    assert base + added == pytest.approx(total, abs=2e-3)
    # complete up to the integration error the caption reports (and printing's rounding)
    assert abs(total - logit) <= delta + 2e-3


def test_lime_figure_states_its_intercept_and_local_estimate(explanations):
    exp = explanations["lime"]
    (caption,) = axis_titles(top_words_figure(exp))
    assert "LIME's intercept" in caption
    base, count, added, total = arithmetic(caption)
    assert base == pytest.approx(exp.base_values[exp.predicted_index], abs=1e-3)
    assert base + added == pytest.approx(total, abs=2e-3)
    assert f"≈ p {exp.probabilities[exp.predicted_index]:.3f}" in caption


def test_methods_without_a_base_value_say_their_values_do_not_add_up(explanations):
    fig = top_words_figure([explanations["gradient-x-input"], explanations["attention"]])
    gradient, attention = axis_titles(fig)
    assert gradient.startswith("logit points\nno base value:")
    assert "do not add up" in gradient and "base " not in gradient.replace("base value", "")
    assert attention.startswith("attention weight\nno base value:")
    assert "not shares\nof the prediction" in attention
    heat = attention_figure(explanations["attention"])
    assert "no base value" in heat.layout.title.text
    buttons = heat.layout.updatemenus[0].buttons
    assert all("no base value" in button.args[1]["title.text"] for button in buttons)


def test_every_column_of_a_stacked_figure_has_its_own_caption(explanations):
    fig = top_words_figure(list(explanations.values()), k=4)
    captions = axis_titles(fig)
    assert len(captions) == len(explanations)
    for caption, exp in zip(captions, explanations.values(), strict=True):
        has_base = exp.base_values is not None
        assert ("no base value" in caption) != has_base, exp.method
    assert "base value + all word values = prediction" in fig.layout.title.text


def test_caption_follows_the_label_asked_for(explanations):
    exp = explanations["shap"]
    other = next(c for c in exp.classes if c != exp.predicted_label)
    index = exp.classes.index(other)
    (caption,) = axis_titles(top_words_figure(exp, label=other))
    base, _, added, total = arithmetic(caption)
    assert f"p({other})" in caption
    assert base == pytest.approx(exp.base_values[index], abs=1e-3)
    assert total == pytest.approx(exp.probabilities[index], abs=1e-3)
    assert base_value_caption(exp, other) == caption.split("\n", 1)[1]


def test_figure_caption_escapes_class_names():
    text = "good film"
    values = np.array([0.2, 0.1])
    exp = Explanation(
        text=text,
        words=split_words(text),
        classes=["neg", "<img src=x onerror=alert(1)>"],
        attributions=np.stack([-values, values], axis=1),
        probabilities=np.array([0.2, 0.8]),
        method="shap",
        settings={"units": "probability"},
        base_values=np.array([0.5, 0.5]),
    )
    fig = top_words_figure(exp)
    raw = fig.layout.xaxis.title.text
    assert "<img" not in raw and "&lt;img src=x onerror=alert(1)&gt;" in raw
    assert "base 0.500" in raw and "+ 2 word values +0.300" in raw and "0.800" in raw


def test_html_json_and_panel_show_the_base_value(model, explanations):
    for method in ("shap", "lime", "integrated-gradients"):
        exp = explanations[method]
        line = exp.base_value_line()
        assert line is not None and html.escape(line, quote=True) in explanation_html(exp)
        payload = exp.to_dict()  # what the server's POST /explain answers
        assert payload["base_values"] == pytest.approx(
            dict(zip(exp.classes, exp.base_values, strict=True))
        )

    panel = explain_panel({"transformer": model}, [TEXT], background=False)
    panel.methods = ["shap", "integrated-gradients", "gradient-x-input", "attention"]
    panel.shap_max_evals.value = 300
    panel.ig_steps.value = 16
    assert panel.explain()
    shown = html.unescape(re.sub(r"<[^>]+>", "", panel.highlight.value))
    for exp in panel.explanations:
        if exp.base_values is not None:
            assert exp.base_value_line() in shown
    assert "gradient-x-input, attention: no base value" in shown
    assert "do not add up to the prediction" in shown
