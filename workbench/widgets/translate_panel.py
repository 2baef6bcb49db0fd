"""The translation panel: type a source sentence, see the model's translation and, for every
generated word, which source words it rests on (a target × source heatmap).

``translate_panel(translator)`` returns a :class:`TranslatePanel`. Type a sentence (or pick
an example), choose the beam size and an explanation method, press **Translate**: the panel
shows the translation, why it stopped (end-of-sequence or the length limit) and the notes
(words never seen in training, a source cut to the model's length), then the heatmap of
:meth:`~workbench.explain.generation.GenerationExplanation.figure`, whose menu switches to
each layer's attention. Errors (an empty sentence, a beam size the model cannot use) appear
in the panel as messages.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets

from workbench.data import shorten
from workbench.errors import InputError
from workbench.estimators import check_fitted
from workbench.explain.generation import GenerationExplanation, explain_translation
from workbench.widgets._base import Panel, button, labelled, show_figures

__all__ = ["PANEL_METHODS", "TranslatePanel", "translate_panel"]

# What the method dropdown offers: each explainer, the attention read at the step where
# the word is the decoder's input (Chen et al. 2020's shift-att) apart from attention read
# where it is output, and what each costs.
PANEL_METHODS = {
    "attention": "cross-attention where the word is output · one forward pass",
    "attention-shifted": "cross-attention where the word is the decoder's input (shift-att)",
    "integrated-gradients": "gradients along a path from 'no source words' · steps passes",
    "gradient-x-input": "one gradient per target word · cheapest gradient method",
    "occlusion": "leave one source word out · one pass per source word",
}
_STOP_REASONS = {
    "eos": "the model ended the sentence (end-of-sequence)",
    "max_length": "cut at the length limit: the model emitted no end-of-sequence",
}


class TranslatePanel(Panel):
    """Translate one sentence and explain each generated word; see :func:`translate_panel`.

    Widgets (attributes): ``text`` (Text), ``example`` (Dropdown), ``beam_size``,
    ``max_length`` (0: the model's limit), ``method`` (Dropdown), ``ig_steps``,
    ``translate_button``, ``status``, ``result`` (HTML: the translation, stop reason,
    notes) and ``heatmap`` (Output). Results of the last run: ``translation`` and
    ``explanation``.
    """

    def __init__(
        self,
        translator: Any,
        texts: Sequence[str] | None = None,
        *,
        method: str = "attention-shifted",
        background: bool = True,
    ) -> None:
        super().__init__(background=background)
        check_fitted(translator, "network_")
        if not hasattr(translator, "forced_inputs"):
            raise InputError(
                f"translate_panel needs a seq2seq Translator, got {type(translator).__name__}"
            )
        if method not in PANEL_METHODS:
            raise InputError(f"method must be one of {', '.join(PANEL_METHODS)}, got {method!r}")
        self.translator = translator
        if isinstance(texts, str):
            texts = [texts]
        self.examples = list(dict.fromkeys(t for t in texts or [] if isinstance(t, str) and t))
        self.translation: Any = None
        self.explanation: GenerationExplanation | None = None
        self._build_widgets(method)
        self.example.observe(self._on_example, names="value")
        self.translate_button.on_click(lambda _: self.translate(block=not self.background))
        self.children = [
            labelled("source", self.text),
            labelled("example", self.example),
            labelled("decoding", self.beam_size, self.max_length),
            labelled("explain by", self.method, self.method_note),
            labelled("budget", self.ig_steps),
            self.translate_button,
            self.status,
            self.result,
            self.heatmap,
        ]
        self._on_method({"new": method})
        self.method.observe(self._on_method, names="value")

    def _build_widgets(self, method: str) -> None:
        first = self.examples[0] if self.examples else ""
        limit = self.translator.network_.config.max_target_length
        self.text = widgets.Text(
            value=first, placeholder="Type a source sentence", layout={"width": "640px"}
        )
        self.example = widgets.Dropdown(
            options=[("(type your own above)", "")] + [(shorten(t), t) for t in self.examples],
            value=first,
            layout={"width": "640px"},
        )
        self.beam_size = widgets.BoundedIntText(
            value=1, min=1, max=16, description="beam size", layout={"width": "160px"}
        )
        self.max_length = widgets.BoundedIntText(
            value=0,
            min=0,
            max=limit,
            description="max tokens",
            tooltip=f"0: the model's limit ({limit})",
            layout={"width": "170px"},
        )
        self.method = widgets.Dropdown(
            options=list(PANEL_METHODS), value=method, layout={"width": "220px"}
        )
        self.method_note = widgets.HTML()
        self.ig_steps = widgets.BoundedIntText(
            value=32, min=2, max=512, description="IG steps", layout={"width": "160px"}
        )
        self.translate_button = button("Translate", style="primary", icon="language")
        self.result = widgets.HTML()
        self.heatmap = widgets.Output()
        self._action_buttons = [self.translate_button]

    def _on_example(self, change: dict) -> None:
        if change["new"]:
            self.text.value = change["new"]

    def _on_method(self, change: dict) -> None:
        self.method_note.value = f"<small>{html.escape(PANEL_METHODS[change['new']])}</small>"
        self.ig_steps.disabled = change["new"] != "integrated-gradients"

    def translate(self, block: bool = True) -> bool:
        """Translate and explain the sentence (what **Translate** does); False on failure."""
        return self._start(self._translate, block=block)

    def _translate(self) -> None:
        # Clear first: after a failed run, stale results beside the error would mislead.
        self.translation, self.explanation = None, None
        self.result.value = ""
        show_figures(self.heatmap)
        source = self.text.value
        if not source.strip():
            raise InputError("the source is empty: type a sentence or pick an example")
        beam, limit = int(self.beam_size.value), int(self.max_length.value) or None
        self._say("translating", "busy")
        translation = self.translator.translate([source], beam_size=beam, max_length=limit)[0]
        if translation.stop_reason == "empty_source":
            raise InputError("the source has no words the model can read: type a sentence")
        self.translation = translation
        self.result.value = _result_html(translation)
        if not translation.tokens:
            self._say("the model ended the translation at once: nothing to explain", "warning")
            return
        chosen = self.method.value
        self._say(f"explaining {len(translation.tokens)} target word(s) by {chosen}", "busy")
        own = beam == 1 and limit is None  # the explainer decodes the same greedy output
        self.explanation = explain_translation(
            self.translator,
            source,
            target=None if own else translation.text,
            methods=["attention" if chosen.startswith("attention") else chosen],
            n_steps=int(self.ig_steps.value),
        )
        show_figures(self.heatmap, self.explanation.figure(chosen))
        extra = [n for n in self.explanation.notes if n not in translation.notes]
        done = f"translated and explained by {chosen}"
        self._say("; ".join([done, *extra]), "warning" if extra else "success")


def _result_html(translation: Any) -> str:
    """The translation, its stop reason and its notes, escaped."""
    reason = _STOP_REASONS.get(translation.stop_reason, translation.stop_reason)
    lines = [
        f'<div style="font-size:16px"><b>translation</b>: '
        f'<span class="wb-translation">{html.escape(translation.text)}</span></div>',
        f'<div style="color:#6b6b6b"><small>{len(translation.tokens)} word(s); stop reason: '
        f"{html.escape(reason)}; log-probability {translation.score:.3f}</small></div>",
    ]
    lines.extend(
        f'<div class="wb-note" style="color:#8a5a00"><small>Note: {html.escape(note)}</small></div>'
        for note in translation.notes
    )
    return "".join(lines)


def translate_panel(
    translator: Any, texts: Sequence[str] | None = None, **options: Any
) -> TranslatePanel:
    """A panel to translate a typed or picked sentence and see each word's explanation.

    Args:
        translator: a fitted :class:`~workbench.seq2seq.Translator`.
        texts: example source sentences offered in a dropdown (the first fills the box).
        options: ``method`` (the explanation shown first, default ``"attention-shifted"``;
            one of :data:`PANEL_METHODS`), ``background`` (False: the button blocks
            instead of using a thread).
    """
    return TranslatePanel(translator, texts, **options)
