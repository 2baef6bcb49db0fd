"""The explanation panel: one text, one model, several explanation methods side by side.

``explain_panel(models, texts)`` returns an :class:`ExplainPanel`. Type a text (or pick an
example), choose a model and methods, set the budgets, press **Explain**: the panel stacks
the highlighted text of every method (:func:`~workbench.explain.explanation_html`), draws
the top words of each (:func:`~workbench.explain.top_words_figure`) and, when attention was
chosen, the attention heatmap. **Export HTML** writes a self-contained page. Each row
says its base value (what the word values are measured from) and where they lead; under
the highlights, a line names the methods that have none (gradient × input, attention: their
values do not add up to the prediction). Under each column of the top-words figure, base
value + all word values = prediction is written out.

SHAP gives Owen values by default (``shap``'s Partition explainer over its text
clustering, any length); the **SHAP values** dropdown switches to exact Shapley values,
enumerated over every word coalition, for texts of up to 12 words.

Gradient methods and attention need a torch network (a workbench ``TextClassifier`` or a
fine-tuned encoder; attention also needs a transformer); for other models (TF-IDF, a
scikit-learn pipeline) their boxes are disabled. Which methods a model supports, and the
message when it does not, come from :mod:`workbench.explain.methods`, as for ``explain()``
and the CLI.
"""

from __future__ import annotations

import html
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from workbench.artifacts import atomic_write
from workbench.data import shorten
from workbench.errors import InputError, describe_error
from workbench.estimators import TextModel
from workbench.explain import (
    METHODS,
    Explanation,
    attention_figure,
    explain,
    explanation_html,
    top_words_figure,
)
from workbench.explain.methods import (
    GRADIENT_METHODS,
    check_methods,
    supported_methods,
    supports_attention,
    supports_gradients,
    unsupported_message,
)
from workbench.explain.perturbation import MAX_EXACT_WORDS
from workbench.widgets._base import (
    Panel,
    button,
    int_box,
    labelled,
    message_html,
    show_figures,
)

# GRADIENT_METHODS, supported_methods and the supports_* checks lived here before they moved
# to workbench.explain.methods; listed here, they stay importable from this module.
__all__ = [
    "GRADIENT_METHODS",
    "METHOD_NOTES",
    "ExplainPanel",
    "explain_panel",
    "supported_methods",
    "supports_attention",
    "supports_gradients",
]

# What each method costs, shown beside its box.
METHOD_NOTES = {
    "shap": "Owen values over shap's word clustering (≤ max_evals model calls), or exact "
    f"Shapley values for ≤ {MAX_EXACT_WORDS} words (2^words calls)",
    "lime": "local linear fit on random word deletions · num_samples model calls",
    "integrated-gradients": "gradients along a path from 'no words' · steps × classes passes",
    "gradient-x-input": "one gradient per class · cheapest, noisiest",
    "attention": "where the model looked, not why · one forward pass",
}


class ExplainPanel(Panel):
    """Explain one text with several methods; see :func:`explain_panel`.

    Widgets (attributes): ``text`` (Textarea), ``example`` (Dropdown), ``model`` (Dropdown),
    ``method_boxes`` (name -> Checkbox), ``shap_algorithm`` (Dropdown: "partition" or
    "exact"), ``shap_max_evals``, ``lime_num_samples``, ``ig_steps``, ``explain_button``,
    ``progress``, ``status``, ``highlight`` (HTML), ``top_words`` and ``attention``
    (Outputs), ``export_path``, ``export_button``, ``export_status``. Results:
    ``explanations`` (the last run's, one per method) and ``errors`` (method -> message
    for methods that failed in the last run).
    """

    def __init__(
        self,
        models: Mapping[str, TextModel],
        texts: Sequence[str] | None = None,
        *,
        methods: Sequence[str] = ("shap", "lime"),
        export_path: str = "runs/explanation.html",
        background: bool = True,
    ) -> None:
        super().__init__(background=background)
        self.models = _check_models(models)
        check_methods(methods)
        if isinstance(texts, str):
            texts = [texts]
        self.examples = list(
            dict.fromkeys(t for t in texts or [] if isinstance(t, str) and t.strip())
        )
        self.explanations: list[Explanation] = []
        self.explained_model: str | None = None
        self.errors: dict[str, str] = {}
        self._build_widgets(methods, export_path)
        self._wire()
        self.children = self._layout()
        self._update_methods()

    def _build_widgets(self, methods: Sequence[str], export_path: str) -> None:
        wide = {"width": "640px"}
        first = self.examples[0] if self.examples else ""
        self.text = widgets.Textarea(
            value=first,
            placeholder="Type a sentence to explain",
            layout={"width": "640px", "height": "70px"},
        )
        self.example = widgets.Dropdown(
            options=[("(type your own above)", "")] + [(shorten(t), t) for t in self.examples],
            value=first,
            layout=wide,
        )
        self.model = widgets.Dropdown(options=list(self.models), layout={"width": "320px"})
        self.method_boxes = {
            name: widgets.Checkbox(
                value=name in methods, description=name, indent=False, layout={"width": "190px"}
            )
            for name in METHODS
        }
        self.shap_algorithm = widgets.Dropdown(
            options=[
                ("Owen (partition, any length)", "partition"),
                (f"exact Shapley (≤ {MAX_EXACT_WORDS} words)", "exact"),
            ],
            value="partition",
            layout={"width": "260px"},
        )
        self.shap_max_evals = int_box("SHAP max_evals", 500, 20, 100_000, 100, "210px")
        self.lime_num_samples = int_box("LIME num_samples", 1000, 20, 100_000, 100, "220px")
        self.ig_steps = int_box("IG steps", 50, 2, 2000, 10, "160px")
        self.explain_button = button("Explain", style="primary", icon="search")
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="methods")
        self.highlight = widgets.HTML()
        self.top_words = widgets.Output()
        self.attention = widgets.Output()
        self.export_path = widgets.Text(value=export_path, description="path", layout=wide)
        self.export_button = button("Export HTML", icon="download")
        self.export_status = widgets.HTML()
        self._action_buttons = [self.explain_button, self.export_button]

    def _wire(self) -> None:
        self.example.observe(self._on_example, names="value")
        self.model.observe(lambda _: self._update_methods(), names="value")
        self.explain_button.on_click(lambda _: self.explain(block=not self.background))
        self.export_button.on_click(lambda _: self.export())

    def _layout(self) -> list[widgets.Widget]:
        method_rows = [
            widgets.HBox([box, widgets.HTML(f"<small>{METHOD_NOTES.get(name, '')}</small>")])
            for name, box in self.method_boxes.items()
        ]
        return [
            labelled("text", self.text),
            labelled("example", self.example),
            labelled("model", self.model),
            labelled("methods", widgets.VBox(method_rows)),
            labelled("SHAP values", self.shap_algorithm),
            labelled("budget", self.shap_max_evals, self.lime_num_samples, self.ig_steps),
            widgets.HBox([self.explain_button, self.progress]),
            self.status,
            self.highlight,
            self.top_words,
            self.attention,
            widgets.HBox([self.export_path, self.export_button]),
            self.export_status,
        ]

    # ------------------------------------------------------------------- state
    @property
    def methods(self) -> list[str]:
        """The ticked methods, in ``METHODS`` order."""
        return [name for name, box in self.method_boxes.items() if box.value]

    @methods.setter
    def methods(self, names: Sequence[str]) -> None:
        check_methods(names)
        for name, box in self.method_boxes.items():
            box.value = name in names and not box.disabled

    def _on_example(self, change: dict) -> None:
        if change["new"]:
            self.text.value = change["new"]

    def _update_methods(self) -> None:
        model = self.models[self.model.value]
        available = supported_methods(model)
        for name, box in self.method_boxes.items():
            box.disabled = name not in available
            if box.disabled:
                box.value = False
        refused = unsupported_message(model, METHODS, self.model.value)
        self._say(refused or f"{self.model.value}: every method is available", "info")

    # ----------------------------------------------------------------- actions
    def explain(self, block: bool = True) -> bool:
        """Explain the text with the ticked methods (what **Explain** does).

        Blocks unless ``block=False`` (a background thread; :meth:`wait` joins it). Returns
        False if nothing started or, when blocking, if no method succeeded.
        """
        return self._start(self._explain, block=block)

    def export(self, path: str | os.PathLike | None = None) -> Path | None:
        """Write the last explanations as a self-contained HTML page; None on failure."""
        target = self.export_path.value if path is None else path
        written: list[Path] = []

        def action() -> None:
            if not self.explanations:
                raise InputError("there is nothing to export yet: press Explain first")
            if not str(target).strip():
                raise InputError("type a file path to export to, e.g. runs/explanation.html")
            written.append(_write_atomically(Path(target).expanduser(), self._page()))

        if self._run_quietly(action):
            self.export_status.value = message_html(f"wrote {written[0]}", "success")
            return written[0]
        self.export_status.value = self.status.value
        return None

    # --------------------------------------------------------------- internals
    def _page(self) -> str:
        methods = ", ".join(e.method for e in self.explanations)
        title = f"{self.explained_model}: {methods}"
        return explanation_html(self.explanations, standalone=True, title=title)

    def _explain(self) -> None:
        # Clear first: after a failed run, stale results beside the error would mislead.
        self.explanations, self.explained_model, self.errors = [], None, {}
        self.highlight.value = ""
        show_figures(self.top_words)
        show_figures(self.attention)
        text = self.text.value
        if not text.strip():
            raise InputError("the text is empty: type a sentence or pick an example")
        name = self.model.value
        model = self.models[name]
        chosen = self.methods
        if not chosen:
            raise InputError("tick at least one method")
        refused = unsupported_message(model, chosen, name)
        if refused is not None:
            raise InputError(refused)
        budgets: dict[str, dict[str, Any]] = {
            "shap": {
                "algorithm": self.shap_algorithm.value,
                "max_evals": int(self.shap_max_evals.value),
            },
            "lime": {"num_samples": int(self.lime_num_samples.value)},
            "integrated-gradients": {"n_steps": int(self.ig_steps.value)},
        }
        self.progress.max, self.progress.value = len(chosen), 0
        results: list[Explanation] = []
        errors: dict[str, str] = {}
        for i, method in enumerate(chosen, start=1):
            self._say(f"running {method} on {name} ({i} of {len(chosen)})", "busy")
            try:
                results.append(
                    explain(model, text, method, progress=False, **budgets.get(method, {}))
                )
            except Exception as exc:  # one failing method must not hide the others
                errors[method] = describe_error(exc)
            self.progress.value = i
        self.errors = errors
        if not results:
            reasons = list(dict.fromkeys(errors.values()))  # often one reason for all
            if len(reasons) == 1:
                raise InputError(reasons[0])
            raise InputError("; ".join(f"{m}: {e}" for m, e in errors.items()))
        self.explanations, self.explained_model = results, name
        self.highlight.value = explanation_html(results) + _no_base_value_html(results)
        show_figures(self.top_words, top_words_figure(results))
        attention = [e for e in results if e.attention is not None]
        show_figures(self.attention, *(attention_figure(e) for e in attention[:1]))
        cost = ", ".join(f"{e.method}: {e.evaluations}" for e in results)
        summary = f"explained with {len(results)} method(s); model evaluations: {cost}"
        if errors:
            failed = "; ".join(f"{m} failed: {e}" for m, e in errors.items())
            self._say(f"{summary}. {failed}", "warning")
        else:
            self._say(summary, "success")


def _no_base_value_html(explanations: Sequence[Explanation]) -> str:
    """A line naming the explanations without a base value (gradient × input, attention),
    whose values do not add up to the prediction; "" when every one has a base value."""
    missing = [e.method for e in explanations if e.base_values is None]
    if not missing:
        return ""
    names = ", ".join(dict.fromkeys(missing))
    line = (
        f"{names}: no base value; these values do not add up to the prediction, so compare "
        "their sizes within a row only (SHAP, LIME and integrated gradients start from their "
        "base value, shown under their titles)"
    )
    return (
        f'<div class="wb-no-base" style="color:#6b6b6b;font-family:system-ui,sans-serif">'
        f"<small>{html.escape(line, quote=True)}</small></div>"
    )


def _check_models(models: Mapping[str, TextModel]) -> dict[str, TextModel]:
    """A copy of ``models`` once it is a non-empty dict of name -> fitted model."""
    if not isinstance(models, Mapping) or not models:
        raise InputError(
            'models must be a non-empty dict of name -> fitted model, e.g. {"transformer": clf}'
        )
    for name, model in models.items():
        if not hasattr(model, "predict_proba") or not hasattr(model, "classes_"):
            raise InputError(
                f"model {name!r} ({type(model).__name__}) needs predict_proba and classes_; "
                "pass fitted models"
            )
    return dict(models)


def _write_atomically(path: Path, content: str) -> Path:
    if path.is_dir():
        raise InputError(f"{path} is a directory; give a file name such as {path}/explanation.html")
    return atomic_write(path, lambda temporary: temporary.write_text(content, encoding="utf-8"))


def explain_panel(
    models: Mapping[str, TextModel] | TextModel,
    texts: Sequence[str] | None = None,
    **options: Any,
) -> ExplainPanel:
    """A panel to explain a typed or picked text with SHAP, LIME, gradients and attention.

    Args:
        models: name -> fitted model (a ``TextClassifier``, ``TfidfLogisticRegression`` or
            anything with ``predict_proba`` and ``classes_``); a single model is accepted too.
        texts: example texts offered in a dropdown (the first one fills the text box).
        options: ``methods`` (ticked at start, default shap and lime), ``export_path``,
            ``background`` (False: the buttons block instead of using a thread).

    Returns:
        An :class:`ExplainPanel`; ``panel.explanations`` holds the last results.
    """
    if not isinstance(models, Mapping):
        models = {type(models).__name__: models}
    return ExplainPanel(models, texts, **options)
