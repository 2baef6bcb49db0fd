"""Explanations on screen: self-contained HTML with coloured words.

The plotly figures (:mod:`workbench.explain.figures`) read explanations through the checks
here and follow the same escaping and colours.

**HTML that renders everywhere.** The markup uses inline ``style`` attributes only: no
``<style>`` block, no ``<script>``, no external font, stylesheet or image. GitHub's notebook
preview strips ``<style>`` blocks and class-based CSS, nbconvert's static HTML and VS Code
run no notebook extension, and an explanation sent to an auditor must open offline. The
``wb-*`` class names carry no styling; they are hooks for tests and for people who restyle.
Colours are set explicitly (a white card with dark ink), so the output stays readable under
dark notebook themes too.

**Escaping.** Every piece of text that came from a user or a model (the text, its words,
method names, class labels, notes, settings, the base-value line) passes through
:func:`html.escape` with ``quote=True`` before it reaches markup, attribute values included.
Plotly interprets a subset of HTML in tick labels, titles and hover text, so the figures
escape it too.

**Base value.** Under the header of each row, the explanation's base value (what its word
values are measured from: p(empty text) for SHAP, LIME's intercept, f(baseline) for
integrated gradients) and where the word values lead, from
:meth:`Explanation.base_value_line`; methods without one (gradient × input, attention)
show no such line.

**Colour scale.** Blue pushes towards the class explained, red away from it, white is no
effect. Each explanation is normalised by its own largest ``|attribution|`` (full colour =
that value), because methods report on different scales (probability points, logits,
attention weights); the legend says so, and every word's ``title`` holds its exact value.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.data import plain
from workbench.errors import InputError
from workbench.explain.base import Explanation

if TYPE_CHECKING:
    from IPython.display import HTML

__all__ = ["explanation_html", "show"]

# The two ends of ColorBrewer's RdBu scale: dark enough for white text, distinguishable
# by people with the common red-green colour-vision deficiencies.
BLUE = (33, 102, 172)
RED = (178, 24, 43)
# A word or point with no effect either way, or outside the slice looked at.
GREY = (150, 150, 150)
INK = "#1a1a1a"
MUTED = "#6b6b6b"
ATTENTION_CAPTION = "attention — where the model looked, not why"
ROLLOUT_KEY = "rollout"  # ``settings[ROLLOUT_KEY]``: a (T, T) or (T,) rollout, if computed

_FONT = "font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif"
_CARD = (
    f"{_FONT};font-size:14px;line-height:1.5;color:{INK};background-color:#ffffff;"
    "border:1px solid #d0d0d0;border-radius:6px;padding:10px 14px;margin:6px 0"
)
_RAMP_STEPS = 9


def _esc(value: Any) -> str:
    # A literal CR would be folded into LF by any HTML parser; a character reference survives.
    return html.escape(str(value), quote=True).replace("\r", "&#13;")


def _fmt(value: float) -> str:
    return f"{value:+.4g}"


# --- checking and reading an explanation ----------------------------------------------


def _as_list(explanations: Sequence[Explanation] | Explanation) -> list[Explanation]:
    items = [explanations] if isinstance(explanations, Explanation) else list(explanations)
    if not items:
        raise InputError("there are no explanations to render; pass at least one Explanation")
    for item in items:
        if not isinstance(item, Explanation):
            raise InputError(
                f"can only render Explanation objects, got {type(item).__name__}; "
                "pass what an explainer returned"
            )
        _check(item)
    return items


def _check(exp: Explanation) -> None:
    """Fail with a clear message rather than render colours on the wrong words."""
    n_words, n_classes = len(exp.words), len(exp.classes)
    shape = np.shape(exp.attributions)
    if shape != (n_words, n_classes):
        raise InputError(
            f"{exp.method}: attributions have shape {shape}, expected (num_words, num_classes)"
            f" = ({n_words}, {n_classes}); the words and attributions come from different texts"
        )
    if np.shape(exp.probabilities) != (n_classes,):
        raise InputError(
            f"{exp.method}: probabilities have shape {np.shape(exp.probabilities)}, "
            f"expected ({n_classes},), one per class"
        )
    previous_end = 0
    for i, word in enumerate(exp.words):
        if not previous_end <= word.start <= word.end <= len(exp.text):
            raise InputError(
                f"{exp.method}: word {i} ({word.text!r}) spans {word.start}:{word.end}, which "
                "is not inside the text after the previous word; the words were made from "
                "a different text"
            )
        previous_end = word.end


def _scores(exp: Explanation, label: Any) -> tuple[np.ndarray, Any]:
    """One value per word towards ``label`` (default: the predicted class), and that class."""
    if label is not None and label not in list(exp.classes):
        raise InputError(
            f"label {label!r} is not one of the classes of the {exp.method} explanation "
            f"({list(exp.classes)}); pass one of them, or None for the predicted class"
        )
    index = exp.predicted_index if label is None else list(exp.classes).index(label)
    return np.asarray(exp.attributions[:, index], dtype=np.float64), exp.classes[index]


def _visible_count(exp: Explanation) -> int:
    """How many leading words the model read; the rest render unshaded.

    A truncated text shows up as a trailing run of words whose attributions are exactly 0
    for every class, together with a note. An explainer may say it outright instead with
    an integer ``settings["visible_words"]``.
    """
    stated = exp.settings.get("visible_words")
    if isinstance(stated, (int, np.integer)) and not isinstance(stated, bool):
        return max(0, min(int(stated), len(exp.words)))
    if exp.kind != "attribution" or not exp.notes:
        return len(exp.words)
    zero_rows = np.all(np.asarray(exp.attributions) == 0, axis=1)
    count = len(exp.words)
    while count > 0 and zero_rows[count - 1]:
        count -= 1
    return count


def _scale(scores: np.ndarray) -> float:
    finite = np.abs(scores[np.isfinite(scores)])
    return float(finite.max()) if finite.size else 0.0


# --- colours ---------------------------------------------------------------------------


def _luminance(rgb: tuple[int, int, int]) -> float:
    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def shade(intensity: float) -> tuple[str, str]:
    """Background and text colour (hex) for ``intensity`` in [-1, 1]: red, white, blue.

    The text colour is whichever of white and dark ink has the higher WCAG contrast on the
    background, so strong shades get white text.
    """
    end = BLUE if intensity >= 0 else RED
    t = min(abs(float(intensity)), 1.0)
    rgb = tuple(round(255 + (c - 255) * t) for c in end)
    background = "#{:02x}{:02x}{:02x}".format(*rgb)
    lum = _luminance(rgb)  # type: ignore[arg-type]
    ink_lum = _luminance((0x1A, 0x1A, 0x1A))
    white_contrast = 1.05 / (lum + 0.05)
    ink_contrast = (lum + 0.05) / (ink_lum + 0.05)
    return background, ("#ffffff" if white_contrast > ink_contrast else INK)


# --- HTML ------------------------------------------------------------------------------


def _ramp(low: float, labels: tuple[str, str, str]) -> str:
    boxes = "".join(
        f'<span style="display:inline-block;width:16px;height:12px;vertical-align:middle;'
        f'border:1px solid #c8c8c8;background-color:{shade(value)[0]}"></span>'
        for value in np.linspace(low, 1.0, _RAMP_STEPS)
    )
    left, middle, right = labels
    return (
        f'<div class="wb-ramp" style="margin:2px 0">'
        f'<small style="color:{MUTED}">{left}</small> {boxes} '
        f'<small style="color:{MUTED}">{right}</small>'
        f'<small style="color:{MUTED}"> · {middle}</small></div>'
    )


def _legend(explanations: list[Explanation]) -> str:
    parts = []
    if any(e.kind != "attention" for e in explanations):
        parts.append(
            _ramp(
                -1.0,
                (
                    "red: pushes away from the class",
                    "white: no effect; each row is scaled by its own largest |attribution|",
                    "blue: pushes towards the class",
                ),
            )
        )
    if any(e.kind == "attention" for e in explanations):
        parts.append(
            _ramp(
                0.0,
                (
                    "little attention",
                    "attention rows are scaled by their own largest weight",
                    "most attention",
                ),
            )
        )
    parts.append(
        f'<div style="margin:2px 0"><small style="color:{MUTED}">Hover over a word for its '
        "exact value.</small></div>"
    )
    return f'<div class="wb-legend" style="margin:0 0 6px 0">{"".join(parts)}</div>'


def _settings_text(settings: dict[str, Any]) -> str:
    shown = []
    for key, value in settings.items():
        if key == ROLLOUT_KEY:
            continue
        if isinstance(value, np.ndarray) or (isinstance(value, (list, tuple)) and len(value) > 8):
            continue  # arrays belong in figures, not in a caption
        text = repr(plain(value))
        shown.append(f"{key}={text if len(text) <= 60 else text[:57] + '...'}")
    return ", ".join(shown)


def _row(exp: Explanation, label: Any) -> str:
    scores, explained = _scores(exp, label)
    visible = _visible_count(exp)
    scale = _scale(scores[:visible])
    attention = exp.kind == "attention"

    spans = []
    previous_end = 0
    for i, word in enumerate(exp.words):
        spans.append(_esc(exp.text[previous_end : word.start]))
        value = float(scores[i])
        if i >= visible:
            tip = "not read by the model: beyond the truncation (see the note)"
            style = f"color:{MUTED}"
        elif not math.isfinite(value):
            tip = f"no value ({value})"
            style = f"color:{MUTED}"
        else:
            intensity = value / scale if scale > 0 else 0.0
            background, ink = shade(intensity)
            tip = f"attention {value:.4g}" if attention else f"{_fmt(value)} towards {explained}"
            style = f"background-color:{background};color:{ink}"
        spans.append(
            f'<span class="wb-word" title="{_esc(tip)}" '
            f'style="{style};border-radius:3px">{_esc(exp.text[word.start : word.end])}</span>'
        )
        previous_end = word.end
    spans.append(_esc(exp.text[previous_end:]))

    probability = float(exp.probabilities[exp.predicted_index])
    header = [f'<b class="wb-method">{_esc(exp.method)}</b>']
    if attention:
        header.append(
            f'<span class="wb-caption" style="color:#8a5a00;font-style:italic">'
            f"{_esc(ATTENTION_CAPTION)}</span>"
        )
        header.append(f"full colour = {scale:.4g}")
    else:
        header.append(f"explaining “{_esc(explained)}”")
        header.append(f"full colour = ±{scale:.4g}")
    header.append(f"predicted “{_esc(exp.predicted_label)}” (p = {probability:.3f})")
    header.append(f"{int(exp.evaluations)} model evaluations")

    base_line = exp.base_value_line(explained)
    base = (
        f'<div class="wb-base" style="margin-bottom:2px;color:{MUTED}">{_esc(base_line)}</div>'
        if base_line is not None
        else ""
    )
    footer = [
        f'<div class="wb-note" style="color:#8a5a00"><small>Note: {_esc(note)}</small></div>'
        for note in exp.notes
    ]
    settings = _settings_text(exp.settings)
    if settings:
        footer.append(
            f'<div class="wb-settings" style="color:{MUTED}"><small>settings: '
            f"{_esc(settings)}</small></div>"
        )
    return (
        f'<div class="wb-row" style="margin:6px 0 10px 0">'
        f'<div class="wb-header" style="margin-bottom:2px">{" · ".join(header)}</div>'
        f"{base}"
        f'<div class="wb-text" dir="auto" style="white-space:pre-wrap;overflow-wrap:anywhere;'
        f'font-size:15px;line-height:1.9">{"".join(spans)}</div>'
        f"{''.join(footer)}</div>"
    )


def explanation_html(
    explanations: Sequence[Explanation] | Explanation,
    *,
    label: Any = None,
    standalone: bool = False,
    title: str | None = None,
) -> str:
    """The explanations as self-contained HTML: each word shaded by its attribution.

    Explanations of the same text are stacked, one row per method; different texts follow
    one another in order of first appearance. ``label`` picks the class explained (default:
    each explanation's predicted class). ``standalone=True`` returns a complete UTF-8 page
    (what :meth:`Explanation.to_html` writes); otherwise a fragment for a notebook.
    """
    items = _as_list(explanations)
    groups: dict[str, list[Explanation]] = {}
    for exp in items:
        groups.setdefault(exp.text, []).append(exp)

    body = []
    if title is not None:
        body.append(f'<h2 style="margin:0 0 6px 0;font-size:18px">{_esc(title)}</h2>')
    body.append(_legend(items))
    for number, group in enumerate(groups.values(), start=1):
        caption = (
            f'<div style="color:{MUTED}"><small>Text {number} of {len(groups)}</small></div>'
            if len(groups) > 1
            else ""
        )
        rows = "".join(_row(exp, label) for exp in group)
        body.append(
            f'<div class="wb-group" style="border-top:1px solid #e0e0e0;padding-top:4px">'
            f"{caption}{rows}</div>"
        )
    fragment = f'<div class="wb-explanation" style="{_CARD}">{"".join(body)}</div>'
    if not standalone:
        return fragment
    return page(title if title is not None else f"Explanation ({items[0].method})", fragment)


def page(title: str, fragment: str) -> str:
    """A self-contained HTML page around ``fragment`` (already escaped HTML); ``title`` is
    plain text and escaped here."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_esc(title)}</title>\n</head>\n"
        f'<body style="margin:24px;background-color:#ffffff">\n{fragment}\n</body>\n</html>\n'
    )


def show(explanations: Sequence[Explanation] | Explanation, *, label: Any = None) -> HTML:
    """The explanations as an ``IPython.display.HTML`` object; the notebook displays it."""
    from IPython.display import HTML

    return HTML(explanation_html(explanations, label=label))
