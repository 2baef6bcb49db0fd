"""Tests for workbench.explain.render: escaped, self-contained HTML and valid plotly figures.

Explanations are built by hand from ``split_words``; no model is needed.
"""

from __future__ import annotations

import colorsys
import html
import re
from html.parser import HTMLParser

import numpy as np
import plotly.graph_objects as go
import pytest

from workbench.errors import InputError
from workbench.explain.base import Explanation
from workbench.explain.figures import attention_figure, top_words_figure
from workbench.explain.render import ATTENTION_CAPTION, explanation_html, show
from workbench.tokenizer import split_words

CLASSES = ["negative", "positive"]
ALLOWED_TAGS = {"div", "span", "p", "small", "b", "h1", "h2", "h3", "html", "head", "body"}
ALLOWED_TAGS |= {"meta", "title"}


def make(text, towards_positive=None, *, method="shap", probabilities=(0.2, 0.8), **kwargs):
    """An explanation whose positive-class attributions are ``towards_positive``."""
    words = split_words(text)
    values = np.zeros(len(words)) if towards_positive is None else np.asarray(towards_positive)
    attributions = np.stack([-values, values], axis=1).astype(float)
    return Explanation(
        text=text,
        words=words,
        classes=list(CLASSES),
        attributions=attributions,
        probabilities=np.asarray(probabilities, dtype=float),
        method=method,
        **kwargs,
    )


def make_attention(text, seed=0, layers=2, heads=3, **kwargs):
    words = split_words(text)
    rng = np.random.default_rng(seed)
    raw = rng.random((layers, heads, len(words) + 1, len(words) + 1))
    attention = raw / raw.sum(axis=-1, keepdims=True)
    cls_row = attention[-1].mean(axis=0)[0, 1:]
    return make(text, cls_row, method="attention", kind="attention", attention=attention, **kwargs)


class Page(HTMLParser):
    """Collects tags, attributes, the text inside each ``wb-text`` div and each word span."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.texts: list[str] = []
        self.words: list[dict] = []  # {"text", "title", "style"}
        self._depth_in_text = 0
        self._word: dict | None = None
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if self._depth_in_text:
            self._depth_in_text += 1
        elif tag == "div" and "wb-text" in (attributes.get("class") or ""):
            self._depth_in_text = 1
            self.texts.append("")
        if tag == "span" and "wb-word" in (attributes.get("class") or ""):
            self._word = {"text": "", "title": attributes.get("title"), **attributes}
            self.words.append(self._word)

    def handle_endtag(self, tag):
        if self._depth_in_text:
            self._depth_in_text -= 1
        if tag == "span":
            self._word = None

    def handle_data(self, data):
        if self._depth_in_text:
            self.texts[-1] += data
        if self._word is not None:
            self._word["text"] += data


def background(word: dict) -> tuple[int, int, int] | None:
    match = re.search(r"background-color:#([0-9a-f]{6})", word.get("style") or "")
    if match is None:
        return None
    value = match.group(1)
    return tuple(int(value[i : i + 2], 16) for i in (0, 2, 4))


def hue_and_saturation(rgb) -> tuple[float, float]:
    h, s, _ = colorsys.rgb_to_hsv(*(c / 255 for c in rgb))
    return h, s


def is_blue(rgb) -> bool:
    return rgb[2] > rgb[0]


def is_red(rgb) -> bool:
    return rgb[0] > rgb[2]


# --- escaping and self-containment -------------------------------------------------------

HOSTILE_TEXT = 'Nice <script>alert(1)</script> film "><img src=x onerror=alert(1)> & more'


def test_user_text_is_escaped_everywhere():
    exp = make(
        HOSTILE_TEXT,
        np.linspace(-1, 1, len(split_words(HOSTILE_TEXT))),
        method="<b>shap</b>",
        notes=["<b>truncated</b> at 'x'"],
        settings={"<b>key</b>": '<img src=y onerror="alert(2)">'},
    )
    exp.classes = ["<b>neg</b>", '"><img src=z onerror=alert(3)>']
    markup = explanation_html([exp], standalone=True, title="<script>t</script>")
    assert "<script" not in markup.lower()
    assert "<img" not in markup.lower()
    assert "<b>shap" not in markup and "<b>neg" not in markup and "<b>truncated" not in markup
    # No `onerror=` may sit inside a tag outside a quoted (escaped) attribute value.
    for tag in re.findall(r"<[^>]*>", markup):
        assert "onerror" not in re.sub(r'"[^"]*"', '""', tag).lower(), tag
    page = Page(markup)
    for tag, attributes in page.tags:
        assert tag in ALLOWED_TAGS, tag
        assert not any(name.lower().startswith("on") for name in attributes), (tag, attributes)
    # The text's word units sit in separate spans: look for escaped forms between the tags.
    between_tags = re.sub(r"<[^>]*>", "", markup)
    for escaped in (
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;",
        "&lt;b&gt;shap&lt;/b&gt;",
        "&lt;b&gt;truncated&lt;/b&gt;",
        "&lt;b&gt;key&lt;/b&gt;",
        "&amp; more",
    ):
        assert escaped in between_tags, escaped
    # The label lands in attribute values (word titles): still escaped, still one attribute.
    assert "towards &quot;&gt;&lt;img src=z onerror=alert(3)&gt;" in markup
    assert page.texts == [HOSTILE_TEXT]


def test_no_external_resources_or_styles_blocks():
    exps = [make("good film", [0.5, 0.1]), make_attention("good film")]
    for markup in (explanation_html(exps), explanation_html(exps, standalone=True)):
        assert "http://" not in markup and "https://" not in markup
        assert "<script" not in markup and "<style" not in markup and "<link" not in markup
        assert "url(" not in markup and "@import" not in markup


# --- text reproduced exactly -------------------------------------------------------------

AWKWARD_TEXT = "  Great  movie,\tbut the\nending…\r\nwas 😀 bad!! 这部电影很好 好  "


def test_visible_text_equals_the_original_and_every_word_appears_in_order():
    words = split_words(AWKWARD_TEXT)
    exp = make(AWKWARD_TEXT, np.linspace(-0.5, 0.5, len(words)))
    page = Page(explanation_html([exp]))
    assert page.texts == [AWKWARD_TEXT]
    assert [w["text"] for w in page.words] == [w.text for w in words]


def test_text_container_preserves_whitespace_and_direction():
    page = Page(explanation_html([make("שלום עולם", [0.1, 0.2])]))
    (attributes,) = [a for t, a in page.tags if "wb-text" in (a.get("class") or "")]
    assert attributes["dir"] == "auto"
    assert "white-space:pre-wrap" in attributes["style"]


def test_text_without_words_renders():
    page = Page(explanation_html([make("   ", [])]))
    assert page.texts == ["   "] and page.words == []


# --- colours -----------------------------------------------------------------------------

COLOUR_TEXT = "awful plot but great acting and a fine score"
COLOUR_VALUES = [-0.4, 0.0, 0.05, 0.8, 0.0, 0.0, 0.0, 0.3, -0.1]


def colours(exp, **kwargs):
    return [background(w) for w in Page(explanation_html([exp], **kwargs)).words]


def test_diverging_colours_follow_sign_and_size():
    shades = colours(make(COLOUR_TEXT, COLOUR_VALUES))
    strongest_positive = int(np.argmax(COLOUR_VALUES))
    blues = [i for i, rgb in enumerate(shades) if COLOUR_VALUES[i] > 0]
    reds = [i for i, rgb in enumerate(shades) if COLOUR_VALUES[i] < 0]
    assert all(is_blue(shades[i]) for i in blues)
    assert all(is_red(shades[i]) for i in reds)
    saturation = [hue_and_saturation(rgb)[1] for rgb in shades]
    assert max(blues, key=lambda i: saturation[i]) == strongest_positive
    assert max(reds, key=lambda i: saturation[i]) == int(np.argmin(COLOUR_VALUES))
    # Saturation grows with the value: 0.8 > 0.3 > 0.05 among the blues.
    assert saturation[3] > saturation[7] > saturation[2] > 0
    for i, value in enumerate(COLOUR_VALUES):
        if value == 0:
            assert min(shades[i]) >= 250, shades[i]  # white-ish


def test_strong_shades_get_white_text():
    page = Page(explanation_html([make(COLOUR_TEXT, COLOUR_VALUES)]))
    strongest = page.words[int(np.argmax(COLOUR_VALUES))]
    weakest = page.words[1]
    assert "color:#ffffff" in strongest["style"].replace("background-color", "")
    assert "color:#ffffff" not in weakest["style"].replace("background-color", "")


def test_each_explanation_is_normalised_by_its_own_maximum():
    values = np.array(COLOUR_VALUES)
    assert colours(make(COLOUR_TEXT, values)) == colours(make(COLOUR_TEXT, values * 10))
    assert colours(make(COLOUR_TEXT, values)) == colours(make(COLOUR_TEXT, values / 1000))
    legend = explanation_html([make(COLOUR_TEXT, values)])
    assert "scaled by its own largest |attribution|" in legend


def test_label_switches_the_class_explained():
    exp = make(COLOUR_TEXT, COLOUR_VALUES)
    towards_negative = colours(exp, label="negative")
    assert is_red(towards_negative[3]) and is_blue(towards_negative[0])
    page = Page(explanation_html([exp], label="negative"))
    assert page.words[3]["title"] == "-0.8 towards negative"
    with pytest.raises(InputError, match="not one of the classes"):
        explanation_html([exp], label="neutral")


def test_all_zero_attributions_render_white():
    shades = colours(make("nothing matters here", [0.0, 0.0, 0.0]))
    assert shades == [(255, 255, 255)] * 3


def test_words_beyond_a_truncation_are_unshaded():
    text = "great film " + " ".join(["filler"] * 6)
    values = [0.6, 0.2, 0.1, 0.0, 0.0, 0.0, 0.0, 0.0]  # the model read the first three words
    values[2] = 0.1
    exp = make(text, values, notes=["text truncated to the first 3 words (max_length 4)"])
    page = Page(explanation_html([exp]))
    shaded = [background(w) is not None for w in page.words]
    assert shaded == [True, True, True] + [False] * 5
    assert "beyond the truncation" in page.words[-1]["title"]
    # Without a note, a trailing zero is a genuine zero and keeps its (white) shade.
    plain = Page(explanation_html([make(text, values)]))
    assert all(background(w) is not None for w in plain.words)


# --- hover titles, stacking, captions, notes, documents ---------------------------------


def test_every_word_has_a_title_with_its_exact_value():
    page = Page(explanation_html([make(COLOUR_TEXT, COLOUR_VALUES)]))
    titles = [w["title"] for w in page.words]
    assert titles[0] == "-0.4 towards positive"
    assert titles[3] == "+0.8 towards positive"
    assert titles[7] == "+0.3 towards positive"
    assert all(t for t in titles)


def test_stacked_methods_each_appear_with_their_name_and_legend_facts():
    text = "a great film with a dull end"
    n = len(split_words(text))
    rng = np.random.default_rng(1)
    exps = [
        make(text, rng.normal(size=n), method="shap", evaluations=512),
        make(text, rng.normal(size=n), method="lime", evaluations=300),
        make(text, rng.normal(size=n), method="integrated gradients", evaluations=50),
        make_attention(text),
    ]
    markup = explanation_html(exps)
    page = Page(markup)
    assert len(page.texts) == 4 and set(page.texts) == {text}
    assert "Text 1 of" not in markup  # one text, stacked rows
    positions = [markup.index(f">{name}</b>") for name in ("shap", "lime", "integrated gradients")]
    assert positions == sorted(positions)
    for count in (512, 300, 50):
        assert f"{count} model evaluations" in markup
    assert markup.count(html.escape(ATTENTION_CAPTION)) == 1
    assert "where the model looked, not why" in ATTENTION_CAPTION
    assert "predicted “positive” (p = 0.800)" in markup
    assert "explaining “positive”" in markup


def test_different_texts_follow_one_another():
    first, second = make("good film", [0.3, 0.1]), make("bad film", [-0.3, 0.1])
    page = Page(explanation_html([first, second, make("good film", [0.2, 0.2], method="lime")]))
    assert page.texts == ["good film", "good film", "bad film"]  # grouped by text
    assert "Text 2 of 2" in explanation_html([first, second])


def test_attention_caption_and_titles():
    markup = explanation_html([make_attention("the plot was dull")])
    assert html.escape(ATTENTION_CAPTION) in markup
    titles = [w["title"] for w in Page(markup).words]
    assert all(t.startswith("attention ") for t in titles)
    shades = [background(w) for w in Page(markup).words]
    assert all(is_blue(s) or min(s) >= 250 for s in shades)


def test_notes_and_settings_appear():
    exp = make(
        "good film",
        [0.3, 0.1],
        notes=["only the first 2 words were read", "LIME used 300 samples"],
        settings={"num_samples": 300, "seed": 0, "big": np.zeros(100)},
    )
    markup = explanation_html([exp])
    assert "only the first 2 words were read" in markup
    assert "LIME used 300 samples" in markup
    assert "num_samples=300" in markup and "seed=0" in markup
    assert "big=" not in markup


def test_standalone_is_a_full_utf8_document(tmp_path):
    exp = make("café 😀 good", [0.1, 0.0, 0.4])
    markup = explanation_html([exp], standalone=True, title="My <review>")
    assert markup.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in markup
    assert "<title>My &lt;review&gt;</title>" in markup
    assert markup.rstrip().endswith("</html>")
    fragment = explanation_html([exp])
    assert not fragment.startswith("<!DOCTYPE") and "<html" not in fragment
    # Explanation.to_html writes the standalone page.
    path = exp.to_html(tmp_path / "explanation.html")
    written = path.read_text("utf-8")
    assert written.startswith("<!DOCTYPE html>") and Page(written).texts == ["café 😀 good"]


def test_show_returns_an_ipython_html_object():
    from IPython.display import HTML

    exp = make("good film", [0.3, 0.1])
    shown = show(exp)
    assert isinstance(shown, HTML)
    assert shown.data == explanation_html([exp])
    assert show([exp], label="negative").data == explanation_html([exp], label="negative")


def test_bad_inputs_raise_input_error():
    with pytest.raises(InputError, match="no explanations"):
        explanation_html([])
    with pytest.raises(InputError, match="Explanation objects"):
        explanation_html(["not an explanation"])
    exp = make("good film", [0.3, 0.1])
    exp.attributions = exp.attributions[:1]
    with pytest.raises(InputError, match="shape"):
        explanation_html([exp])
    other = make("good film", [0.3, 0.1])
    other.words = split_words("a much longer text than this one")[:2][::-1]
    with pytest.raises(InputError, match="different text"):
        explanation_html([other])


# --- plotly ------------------------------------------------------------------------------

REPEAT_TEXT = "good good film but the ending was bad and not good"


def check_valid(fig: go.Figure) -> None:
    assert isinstance(fig, go.Figure)
    fig.to_dict()
    fig.to_html(include_plotlyjs=False)


def test_top_words_one_sorted_bar_trace_per_method():
    n = len(split_words(REPEAT_TEXT))
    rng = np.random.default_rng(3)
    exps = [make(REPEAT_TEXT, rng.normal(size=n), method=m) for m in ("shap", "lime", "<b>x</b>")]
    fig = top_words_figure(exps, k=4)
    check_valid(fig)
    bars = [t for t in fig.data if t.type == "bar"]
    assert len(bars) == 3
    for bar, exp in zip(bars, exps, strict=True):
        values = np.asarray(bar.x)
        assert len(values) == 4
        assert list(np.abs(values)) == sorted(np.abs(values), reverse=True)
        expected = sorted(np.abs(exp.for_class()), reverse=True)[:4]
        np.testing.assert_allclose(np.abs(values), expected)
        assert len(set(bar.y)) == len(bar.y)
        for value, colour, hover in zip(values, bar.marker.color, bar.hovertext, strict=True):
            assert colour == ("#2166ac" if value > 0 else "#b2182b")
            assert f"{value:+.4g}" in hover
    assert fig.layout.yaxis.autorange == "reversed"  # largest at the top
    titles = [a.text for a in fig.layout.annotations]
    assert "&lt;b&gt;x&lt;/b&gt; → positive" in titles
    assert "<b>x" not in str(fig.to_dict())
    assert "positive" in fig.layout.title.text


def test_top_words_disambiguates_repeated_words_and_caps_k():
    words = split_words(REPEAT_TEXT)
    values = np.array([0.9 if w.text == "good" else 0.01 * i for i, w in enumerate(words)])
    fig = top_words_figure([make(REPEAT_TEXT, values)], k=3)
    assert list(fig.data[0].y) == ["good (#1)", "good (#2)", "good (#11)"]
    wide = top_words_figure([make(REPEAT_TEXT, values)], k=100)
    assert len(wide.data[0].x) == len(words)
    assert "film" in wide.data[0].y  # unique words keep their plain text
    hostile_text = "<b>bold</b> claim"
    hostile_values = np.linspace(0.1, 0.9, len(split_words(hostile_text)))
    hostile = top_words_figure([make(hostile_text, hostile_values)])
    assert not any("<" in label for label in hostile.data[0].y)
    with pytest.raises(InputError, match="k must be"):
        top_words_figure([make("good film", [0.1, 0.2])], k=0)


def test_top_words_with_label_and_attention():
    exp = make(COLOUR_TEXT, COLOUR_VALUES)
    fig = top_words_figure([exp, make_attention(COLOUR_TEXT)], k=2, label="negative")
    check_valid(fig)
    assert fig.data[0].x[0] == pytest.approx(-0.8)
    assert "negative" in fig.layout.title.text


def test_attention_figure_dropdown_and_shapes():
    text = "good film , good cast"
    n = len(split_words(text))
    exp = make_attention(text, layers=2, heads=3)
    fig = attention_figure(exp)
    check_valid(fig)
    heatmaps = [t for t in fig.data if t.type == "heatmap"]
    assert len(heatmaps) == 2 * 3 + 2
    for heatmap in heatmaps:
        assert np.asarray(heatmap.z).shape == (n + 1, n + 1)
        assert list(heatmap.x) == ["[CLS]", "good (#1)", "film", ",", "good (#4)", "cast"]
    (menu,) = fig.layout.updatemenus
    labels = [b.label for b in menu.buttons]
    assert len(labels) == 8 and "layer 2 · mean of heads" in labels and "layer 1 · head 3" in labels
    assert [h.visible for h in heatmaps] == [True] + [False] * 7
    for i, button in enumerate(menu.buttons):
        visible = button.args[0]["visible"]
        assert visible == [j == i for j in range(8)]
    np.testing.assert_allclose(heatmaps[2].z, exp.attention[0, 2])
    np.testing.assert_allclose(heatmaps[3].z, exp.attention[0].mean(axis=0))
    assert "not why" in fig.layout.title.text


def test_attention_figure_includes_rollout_and_escapes():
    text = "<b>x</b> ok"
    exp = make_attention(text, layers=1, heads=2)
    size = len(exp.words) + 1
    exp.settings["rollout"] = np.eye(size).tolist()
    fig = attention_figure(exp)
    check_valid(fig)
    assert [b.label for b in fig.layout.updatemenus[0].buttons][-1] == "rollout"
    assert len(fig.data) == 1 * 2 + 1 + 1
    assert not any("<" in tick for tick in fig.data[0].x)
    exp.settings["rollout"] = np.zeros(3)
    with pytest.raises(InputError, match="rollout"):
        attention_figure(exp)


def test_attention_figure_covers_only_the_words_the_model_read():
    exp = make_attention("one two three four", layers=1, heads=1)
    exp.attention = exp.attention[:, :, :3, :3]  # truncated: [CLS] + two words
    fig = attention_figure(exp)
    assert list(fig.data[0].x) == ["[CLS]", "one", "two"]


def test_attention_figure_without_attention_raises():
    with pytest.raises(InputError, match="no attention"):
        attention_figure(make("good film", [0.1, 0.2]))
    bad = make_attention("good film")
    bad.attention = np.zeros((1, 1, 9, 9))
    with pytest.raises(InputError, match="different text"):
        attention_figure(bad)


# --- base values -------------------------------------------------------------------------


def test_base_value_and_prediction_appear_under_the_header():
    exp = make("good film", [0.3, 0.1], base_values=np.array([0.6, 0.4]))
    markup = explanation_html([exp])
    line = "base value (empty text): p(positive) = 0.400 → prediction 0.800"
    assert line in markup and "add up to the difference (+0.400)" in markup
    assert len([a for _, a in Page(markup).tags if "wb-base" in (a.get("class") or "")]) == 1
    assert markup.index("wb-header") < markup.index("wb-base") < markup.index("wb-text")
    # the line follows the class explained
    assert "p(negative) = 0.600 → prediction 0.200" in explanation_html([exp], label="negative")


def test_base_value_line_says_what_each_method_compares_against():
    lime = make("good film", [0.3, 0.05], method="lime", base_values=np.array([0.55, 0.45]))
    integrated = make(
        "good film",
        [1.5, 0.5],
        method="integrated-gradients",
        base_values=np.array([0.5, -1.0]),
        settings={"units": "logit", "baseline": "padding embedding"},
    )
    other = make("good film", [0.1, 0.1], method="custom", base_values=np.array([0.5, 0.5]))
    markup = html.unescape(explanation_html([lime, integrated, other]))
    assert "LIME's intercept" in markup and "p(positive) ≈ 0.450 → 0.800" in markup
    assert "f(baseline: padding embedding): logit(positive) = -1.000 → +1.000" in markup
    assert "up to the integration error" in markup
    assert "base value (model output) for positive: 0.5 → 0.7" in markup


def test_base_value_line_is_escaped():
    exp = make(
        "good film",
        [0.3, 0.1],
        method="integrated-gradients",
        base_values=np.array([0.0, 0.0]),
        settings={"units": "logit", "baseline": "<img src=x onerror=alert(1)>"},
    )
    exp.classes = ["neg", "<b>pos</b>"]
    markup = explanation_html([exp])
    assert "<img" not in markup and "<b>pos" not in markup
    assert "f(baseline: &lt;img src=x onerror=alert(1)&gt;): logit(&lt;b&gt;pos&lt;/b&gt;)" in (
        markup
    )
    for tag, _ in Page(markup).tags:
        assert tag in ALLOWED_TAGS, tag


def test_without_a_base_value_no_line_is_rendered():
    exps = [make("good film", [0.3, 0.1], method="gradient-x-input"), make_attention("good film")]
    markup = explanation_html(exps)
    assert "wb-base" not in markup and "base value" not in markup
    assert all(e.base_value_line() is None for e in exps)
