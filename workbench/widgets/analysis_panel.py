"""The analysis panel: a model across a dataset, then one example of it, in five tabs.

``analysis_panel(model, examples)`` returns an :class:`AnalysisPanel`:

- **Slices**: pick a suggested slice (length thirds, each value of a column of categories,
  the least confident quarter, the misclassified), a discovered one (**Find error slices**:
  the words that go with the largest drop in accuracy), or type a word or a regular
  expression; **Measure** shows n, accuracy, macro-F1 and ECE with bootstrap intervals for
  the slice and for the rest, the p-value of slice against rest (and Holm's, over the family
  the slice was tested in), and the slice's misclassified examples.
- **Words**: global attributions of one method (only those the model supports), the top words
  towards and against a class over a seeded sample of at most ``max texts`` texts;
  **Estimate** times two texts and extrapolates before a long run.
- **Behaviour**: the shipped CheckList-style sentiment suite on the examples: pass rates with
  intervals; pick a test to see its failing cases as diffs.
- **Map**: a PCA map of the model's representations, coloured by label, prediction, error,
  confidence, a column or the slice measured last.
- **This example**: for the picked example, its local explanation, the smallest edit found
  that flips it, its nearest training texts (with ``train_texts``) and its most influential
  training examples (with ``checkpoints`` kept by
  :class:`~workbench.analysis.influence.KeepCheckpoints`).

**Picking a point.** Clicking a point of a plotly figure reaches Python only through
``plotly.graph_objects.FigureWidget``, which needs the ``anywidget`` package. When it is
installed the map is a FigureWidget and a click picks the example; otherwise (the pinned
environment) pick it in the **point** dropdown under the map, whose entries carry the same
``#n`` as the hover labels, or type its row number in **example** on the last tab. Each
point's ``customdata`` is its row in the examples, so any other front end can do the same.
The misclassified examples of a slice and the failing behavioural cases are offered the same
way.

Every action goes through :meth:`Panel._start <workbench.widgets._base.Panel._start>`: one
job at a time, errors shown as messages, never raised. Budgets are small by default so that a
laptop CPU answers in seconds; raise them for a report. All text from the data and the user
is escaped before it reaches HTML.
"""

from __future__ import annotations

import html
import importlib.util
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd

from workbench.analysis.behaviour import SuiteResult, run_suite, sentiment_suite
from workbench.analysis.discovery import discover_slices
from workbench.analysis.embedding_map import EmbeddingMap, RepresentationIndex, embedding_map
from workbench.analysis.examples import Examples
from workbench.analysis.influence import InfluenceResult, influence
from workbench.analysis.minimal_flips import Flip, minimal_flip
from workbench.analysis.slices import (
    Slice,
    SliceReport,
    SliceResult,
    evaluate_slices,
    measure_slice,
    suggested_slices,
)
from workbench.analysis.word_attributions import GlobalAttributions, global_attributions
from workbench.data import LabeledTexts, as_text_list, plain, shorten
from workbench.errors import InputError, describe_error
from workbench.estimators import TextModel, check_fitted
from workbench.explain import Explanation, explain, explanation_html
from workbench.explain.methods import supported_methods
from workbench.widgets._base import (
    Panel,
    button,
    html_table,
    int_box,
    labelled,
    message_html,
    show_figures,
)

__all__ = ["TAB_TITLES", "AnalysisPanel", "analysis_panel"]

TAB_TITLES = ("Slices", "Words", "Behaviour", "Map", "This example")
_CUSTOM = "__custom__"
# Rows of a table shown at once (misclassified examples, failing cases, neighbours).
_ROWS_SHOWN = 20


def _fmt(value: float | None, pattern: str = "{:.3f}") -> str:
    return "n/a" if value is None or not np.isfinite(value) else pattern.format(value)


def _fmt_p(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.2g}" if value >= 1e-4 else f"{value:.1e}"


def _with_interval(value: float | None, interval: Any) -> str:
    if value is None:
        return "n/a"
    if interval is None:
        return f"{value:.3f}"
    return f"{value:.3f} [{interval.low:.3f}, {interval.high:.3f}]"


def _muted(text: str) -> str:
    return f'<div style="color:#6b6b6b"><small>{html.escape(text)}</small></div>'


class AnalysisPanel(Panel):
    """Slices, global words, behavioural tests and the map of one model on a dataset, and a
    local view of any example; see :func:`analysis_panel`.

    Widgets (attributes), by tab:

    - Slices: ``slice_choice`` (Dropdown), ``slice_query`` (Text: a word or a regex),
      ``slice_kind`` (ToggleButtons "word"/"regex"), ``measure_button``,
      ``min_support``, ``discover_button``, ``slice_view`` (HTML), ``slice_errors``
      (Dropdown of the slice's misclassified examples).
    - Words: ``words_method``, ``words_class``, ``max_texts``, ``estimate_button``,
      ``words_estimate`` (HTML), ``words_button``, ``words_view`` (HTML),
      ``words_figure`` (Output).
    - Behaviour: ``max_cases``, ``behaviour_button``, ``behaviour_table`` (HTML),
      ``behaviour_test`` (Dropdown), ``failures_view`` (HTML).
    - Map: ``color_by``, ``map_button``, ``map_output`` (Output), ``map_point``
      (Dropdown), ``map_explain_button``.
    - This example: ``example_index`` (BoundedIntText), ``example_view`` (HTML),
      ``example_method``, ``shap_max_evals``, ``lime_num_samples``, ``ig_steps``,
      ``show_flip``, ``show_neighbours``, ``show_influence`` (Checkboxes),
      ``explain_button``, ``explanation_view``, ``flip_view``, ``neighbours_view``,
      ``influence_view`` (HTML).

    Results: ``slice_result`` and ``rest_result`` (the slice measured last and the rest),
    ``slice_report`` (the family it was tested in), ``discovered`` (a
    :class:`~workbench.analysis.SliceReport`), ``attributions``
    (:class:`~workbench.analysis.GlobalAttributions`), ``suite``
    (:class:`~workbench.analysis.behaviour.SuiteResult`), ``map``
    (:class:`~workbench.analysis.embedding_map.EmbeddingMap`), ``explanation``, ``flip``,
    ``neighbours`` (DataFrame), ``influence_result`` and ``example_errors`` (part ->
    message, for the parts of the last example that failed).
    """

    def __init__(
        self,
        model: TextModel,
        examples: Examples,
        *,
        train_texts: Sequence[str] | None = None,
        train_labels: Sequence | None = None,
        checkpoints: Any = None,
        positive: Any = None,
        negative: Any = None,
        n_bootstrap: int = 200,
        max_texts: int = 40,
        max_cases: int = 50,
        max_map_points: int = 2000,
        influence_layers: str = "all",
        seed: int = 0,
        background: bool = True,
    ) -> None:
        super().__init__(background=background)
        self.model = model
        self.examples = examples
        self.train_texts = None if train_texts is None else as_text_list(train_texts, "train_texts")
        self.train_labels = None if train_labels is None else [plain(v) for v in train_labels]
        if (
            self.train_texts is not None
            and self.train_labels is not None
            and len(self.train_labels) != len(self.train_texts)
        ):
            raise InputError(
                f"there are {len(self.train_texts)} train_texts but {len(self.train_labels)} "
                "train_labels; give one label per text"
            )
        self.checkpoints = checkpoints
        self.positive, self.negative = positive, negative
        self.n_bootstrap, self.seed = n_bootstrap, seed
        self.max_map_points = max_map_points
        self.influence_layers = influence_layers
        self.methods = supported_methods(model)

        self.suggested = suggested_slices(examples)
        if examples.has_labels and examples.has_predictions:
            self.suggested.append(Slice.misclassified())
        self.slice_report: SliceReport | None = None
        self.discovered: SliceReport | None = None
        self.slice_result: SliceResult | None = None
        self.rest_result: SliceResult | None = None
        self.attributions: GlobalAttributions | None = None
        self.suite: SuiteResult | None = None
        self.map: EmbeddingMap | None = None
        self._map_rows: np.ndarray | None = None
        self._index: RepresentationIndex | None = None
        self.explanation: Explanation | None = None
        self.flip: Flip | None = None
        self.neighbours: pd.DataFrame | None = None
        self.influence_result: InfluenceResult | None = None
        self.example_errors: dict[str, str] = {}

        self._build_widgets(max_texts, max_cases)
        self._wire()
        self.tabs = widgets.Tab(children=self._tab_pages())
        self.tabs.titles = TAB_TITLES
        self.children = [self._header(), self.tabs, self.status]
        self._show_example_info()

    # ------------------------------------------------------------------ widgets
    def _build_widgets(self, max_texts: int, max_cases: int) -> None:
        wide = {"width": "640px"}
        ex = self.examples
        # Slices
        options = [(item.name, ("suggested", i)) for i, item in enumerate(self.suggested)]
        options.append(("(the word or regex below)", (_CUSTOM, 0)))
        self.slice_choice = widgets.Dropdown(options=options, layout=wide)
        self.slice_query = widgets.Text(placeholder="a word, e.g. not, or a regex", layout=wide)
        self.slice_kind = widgets.ToggleButtons(options=["word", "regex"], value="word")
        self.measure_button = button("Measure", style="primary", icon="table")
        support = max(3, min(20, len(ex) // 50))  # texts a word needs to be tested
        self.min_support = int_box("min support", support, 1, 10**6, 1, "200px")
        self.discover_button = button("Find error slices", icon="search")
        self.slice_view = widgets.HTML()
        self.slice_errors = widgets.Dropdown(options=[], layout=wide)
        # Words
        word_methods = [m for m in self.methods if m != "attention"]
        if "integrated-gradients" in word_methods:  # batched: the fastest, first
            word_methods.remove("integrated-gradients")
            word_methods.insert(0, "integrated-gradients")
        self.words_method = widgets.Dropdown(options=word_methods, layout={"width": "260px"})
        self.words_class = widgets.Dropdown(
            options=[(str(c), i) for i, c in enumerate(ex.classes)], layout={"width": "200px"}
        )
        self.max_texts = int_box("max texts", min(max_texts, len(ex)), 1, len(ex), 1, "200px")
        self.shap_max_evals = int_box("SHAP max_evals", 200, 20, 100_000, 1, "200px")
        self.lime_num_samples = int_box("LIME num_samples", 200, 20, 100_000, 1, "200px")
        self.ig_steps = int_box("IG steps", 20, 2, 2000, 1, "140px")
        self.estimate_button = button("Estimate", icon="clock-o")
        self.words_estimate = widgets.HTML()
        self.words_button = button("Global words", style="primary", icon="bar-chart")
        self.words_view = widgets.HTML()
        self.words_figure = widgets.Output()
        # Behaviour
        self.max_cases = int_box("cases per test", max_cases, 1, 100_000, 1, "200px")
        self.behaviour_button = button("Run tests", style="primary", icon="check")
        self.behaviour_table = widgets.HTML()
        self.behaviour_test = widgets.Dropdown(options=[], layout=wide)
        self.failures_view = widgets.HTML()
        # Map
        colourings = ["label", "prediction", "error", "confidence", "slice"]
        if not ex.has_labels:
            colourings = [c for c in colourings if c not in ("label", "error")]
        colourings += [str(c) for c in ex.columns.columns if str(c) not in colourings]
        self.color_by = widgets.Dropdown(options=colourings, layout={"width": "260px"})
        self.map_button = button("Draw map", style="primary", icon="map")
        self.map_output = widgets.Output()
        self.map_point = widgets.Dropdown(options=[], layout=wide)
        self.map_explain_button = button("Explain this point", icon="search")
        # This example
        self.example_index = int_box("example (row)", 0, 0, len(ex) - 1, 1, "200px")
        self.example_view = widgets.HTML()
        self.example_method = widgets.Dropdown(options=self.methods, layout={"width": "260px"})
        if "shap" in self.methods:
            self.example_method.value = "shap"
        self.show_flip = widgets.Checkbox(value=True, description="minimal flip", indent=False)
        self.show_neighbours = widgets.Checkbox(
            value=self.train_texts is not None, description="nearest training texts", indent=False
        )
        self.show_influence = widgets.Checkbox(
            value=self.checkpoints is not None, description="influential training", indent=False
        )
        self.explain_button = button("Explain", style="primary", icon="search")
        self.explanation_view = widgets.HTML()
        self.flip_view = widgets.HTML()
        self.neighbours_view = widgets.HTML()
        self.influence_view = widgets.HTML()
        self._action_buttons = [
            self.measure_button,
            self.discover_button,
            self.estimate_button,
            self.words_button,
            self.behaviour_button,
            self.map_button,
            self.map_explain_button,
            self.explain_button,
        ]

    def _wire(self) -> None:
        block = lambda: not self.background  # noqa: E731 (read when clicked)
        self.measure_button.on_click(lambda _: self.measure(block=block()))
        self.discover_button.on_click(lambda _: self.discover(block=block()))
        self.estimate_button.on_click(lambda _: self.estimate_words(block=block()))
        self.words_button.on_click(lambda _: self.compute_words(block=block()))
        self.behaviour_button.on_click(lambda _: self.run_behaviour(block=block()))
        self.map_button.on_click(lambda _: self.draw_map(block=block()))
        self.map_explain_button.on_click(lambda _: self.explain_example(block=block()))
        self.explain_button.on_click(lambda _: self.explain_example(block=block()))
        self.slice_query.observe(self._on_query, names="value")
        self.behaviour_test.observe(lambda _: self._show_failures(), names="value")
        self.example_index.observe(lambda _: self._show_example_info(), names="value")
        for picker in (self.slice_errors, self.map_point):
            picker.observe(self._on_pick, names="value")

    def _header(self) -> widgets.HTML:
        ex = self.examples
        parts = [f"{type(self.model).__name__} on {len(ex)} examples ({ex.source})"]
        if ex.has_labels and ex.has_predictions:
            parts.append(f"accuracy {ex.correct('accuracy').mean():.3f}")
        elif not ex.has_labels:
            parts.append("no labels: accuracy, slices' metrics and error colours are n/a")
        return widgets.HTML(f"<b>{html.escape(' · '.join(parts))}</b>")

    def _tab_pages(self) -> list[widgets.Widget]:
        budgets = widgets.HBox([self.shap_max_evals, self.lime_num_samples, self.ig_steps])
        slices = widgets.VBox(
            [
                labelled("slice", self.slice_choice),
                labelled("word / regex", self.slice_query, self.slice_kind),
                widgets.HBox([self.measure_button, self.min_support, self.discover_button]),
                self.slice_view,
                labelled("its errors", self.slice_errors),
            ]
        )
        words = widgets.VBox(
            [
                labelled("method", self.words_method, self.words_class),
                labelled("budget", self.max_texts, budgets),
                widgets.HBox([self.estimate_button, self.words_button]),
                self.words_estimate,
                self.words_view,
                self.words_figure,
            ]
        )
        behaviour = widgets.VBox(
            [
                widgets.HBox([self.behaviour_button, self.max_cases]),
                self.behaviour_table,
                labelled("failures of", self.behaviour_test),
                self.failures_view,
            ]
        )
        picking = (
            "click a point, or pick it here"
            if _clicks_reach_python()
            else "plotly's clicks need the anywidget package: pick the point here (its #n is "
            "the hover's)"
        )
        map_page = widgets.VBox(
            [
                labelled("colour by", self.color_by, self.map_button),
                self.map_output,
                labelled("point", self.map_point, self.map_explain_button),
                widgets.HTML(_muted(picking)),
            ]
        )
        example = widgets.VBox(
            [
                labelled("example", self.example_index),
                self.example_view,
                labelled("method", self.example_method, budgets),
                labelled("also", self.show_flip, self.show_neighbours, self.show_influence),
                self.explain_button,
                self.explanation_view,
                self.flip_view,
                self.neighbours_view,
                self.influence_view,
            ]
        )
        return [slices, words, behaviour, map_page, example]

    # -------------------------------------------------------------------- picking
    def _on_query(self, change: dict) -> None:
        if change["new"].strip():
            self.slice_choice.value = (_CUSTOM, 0)

    def _on_pick(self, change: dict) -> None:
        if change["new"] is not None:
            self.example_index.value = int(change["new"])

    def pick(self, index: int) -> bool:
        """Make row ``index`` of the examples the picked one (the last tab shows it);
        False, with a message, for a row that does not exist."""

        def action() -> None:
            if not 0 <= int(index) < len(self.examples):
                raise InputError(
                    f"no example {index}; the rows go from 0 to {len(self.examples) - 1}"
                )
            self.example_index.value = int(index)

        return self._run_quietly(action)

    def _show_example_info(self) -> None:
        ex, i = self.examples, int(self.example_index.value)
        facts = []
        if ex.labels is not None:
            facts.append(f"label {ex.labels[i]}")
        if ex.predictions is not None:
            said = f"prediction {ex.predictions[i]}"
            if ex.proba is not None:
                said += f" ({ex.proba[i].max():.3f})"
            facts.append(said)
        for column in ex.columns.columns[:4]:
            facts.append(f"{column} {ex.columns[column].iloc[i]}")
        self.example_view.value = (
            f'<div style="white-space:pre-wrap;border-left:3px solid #d0d0d0;padding-left:8px">'
            f"{html.escape(ex.texts[i])}</div>" + _muted(" · ".join(facts))
        )

    # ------------------------------------------------------------------- slices
    def current_slice(self) -> tuple[Slice, str]:
        """The slice chosen (and where from: "suggested", "discovered" or "custom")."""
        where, position = self.slice_choice.value
        if where == "suggested":
            return self.suggested[position], where
        if where == "discovered":
            assert self.discovered is not None
            found = self.discovered.results[position].slice
            assert found is not None
            return found, where
        query = self.slice_query.value.strip()
        if not query:
            raise InputError("type a word or a regular expression to make a slice of your own")
        if self.slice_kind.value == "regex":
            return Slice.regex(query), "custom"
        return Slice.contains_word(query), "custom"

    def measure(self, block: bool = True) -> bool:
        """Measure the chosen slice against the rest (what **Measure** does)."""
        return self._start(self._measure, block=block)

    def _measure(self) -> None:
        self.slice_result = self.rest_result = None
        self.slice_view.value = ""
        self.slice_errors.options = []
        item, where = self.current_slice()
        self._say(f"measuring {item.name}", "busy")
        if where == "suggested":
            if self.slice_report is None:  # the whole family once: Holm over all of them
                self.slice_report = evaluate_slices(
                    self.examples,
                    self.suggested,
                    n_bootstrap=self.n_bootstrap,
                    seed=self.seed,
                    progress=False,
                )
            report = self.slice_report
            family = f"Holm over the {report.family_size} suggested slices"
            result = report[item.name]
        elif where == "discovered":
            assert self.discovered is not None
            report = self.discovered
            family = f"one-sided; Holm over the {report.family_size} words and pairs tested"
            result = report[item.name]
        else:
            report = evaluate_slices(
                self.examples, [item], n_bootstrap=self.n_bootstrap, seed=self.seed, progress=False
            )
            family = "a slice of your own, tested alone (Holm = the raw p-value)"
            result = report.results[0]
        mask = item.mask(self.examples)
        rest = None
        if 0 < mask.sum() < len(mask):
            rest = measure_slice(
                self.examples,
                ~item,
                ~mask,
                n_bootstrap=self.n_bootstrap,
                seed=self.seed,
                p_value=result.p_value,
            )
            rest = replace(rest, name="the rest")
        self.slice_result, self.rest_result = result, rest
        self.slice_view.value = self._slice_html(result, rest, report, family)
        self._offer_errors(mask)
        self._say(f"measured {item.name}: n = {result.n}", "success")

    def _slice_html(
        self, result: SliceResult, rest: SliceResult | None, report: SliceReport, family: str
    ) -> str:
        rows = [("n", str(result.n), str(result.n_rest))]
        for metric in ("accuracy", "macro_f1", "ece"):
            ours = _with_interval(getattr(result, metric), getattr(result, f"{metric}_ci"))
            theirs = (
                _with_interval(getattr(rest, metric), getattr(rest, f"{metric}_ci"))
                if rest is not None
                else "n/a"
            )
            rows.append((metric.replace("_", "-"), ours, theirs))
        level = f"{report.confidence:.0%}"
        table = html_table(rows, ["", f"slice ({level} interval)", f"the rest ({level} interval)"])
        diff = "n/a" if result.difference is None else f"{result.difference:+.3f}"
        lines = [
            f"accuracy difference {diff}; p = {_fmt_p(result.p_value)}, "
            f"p (Holm) = {_fmt_p(result.p_value_holm)} ({report.test}; {family})"
        ]
        lines += result.notes
        return (
            f"<b>{html.escape(result.name)}</b>{table}"
            + "".join(_muted(line) for line in lines)
            + self._errors_table(result)
        )

    def _slice_mistakes(self, mask: np.ndarray) -> np.ndarray:
        ex = self.examples
        if not (ex.has_labels and ex.has_predictions):
            return np.zeros(0, dtype=np.int64)
        return np.flatnonzero(mask & ~ex.correct("the slice's errors"))

    def _errors_table(self, result: SliceResult) -> str:
        item = result.slice
        if item is None:
            return ""
        wrong = self._slice_mistakes(item.mask(self.examples))
        if not len(wrong):
            return _muted("no misclassified example in this slice")
        ex = self.examples
        assert ex.labels is not None and ex.predictions is not None
        confidence = ex.proba.max(axis=1) if ex.proba is not None else None
        rows = [
            (
                int(i),
                shorten(ex.texts[i], 90),
                ex.labels[i],
                ex.predictions[i],
                "n/a" if confidence is None else f"{confidence[i]:.2f}",
            )
            for i in wrong[:_ROWS_SHOWN]
        ]
        more = f" (the first {_ROWS_SHOWN})" if len(wrong) > _ROWS_SHOWN else ""
        return f"<b>{len(wrong)} misclassified{more}</b>" + html_table(
            rows, ["row", "text", "label", "prediction", "confidence"]
        )

    def _offer_errors(self, mask: np.ndarray) -> None:
        wrong = self._slice_mistakes(mask)
        self.slice_errors.options = [
            (f"#{i} {shorten(self.examples.texts[i])}", int(i)) for i in wrong[:200]
        ]
        self.slice_errors.value = None

    def discover(self, block: bool = True) -> bool:
        """Find the words that go with errors and add them to the slice dropdown."""
        return self._start(self._discover, block=block)

    def _discover(self) -> None:
        self._say("looking for words that go with errors", "busy")
        report = discover_slices(
            self.examples,
            min_support=int(self.min_support.value),
            top=10,
            n_bootstrap=self.n_bootstrap,
            seed=self.seed,
            progress=False,
        )
        self.discovered = report
        kept = [o for o in self.slice_choice.options if o[1][0] != "discovered"]
        found = [(f"found: {r.name}", ("discovered", i)) for i, r in enumerate(report.results)]
        self.slice_choice.options = [*kept[:-1], *found, kept[-1]]
        if found:
            self.slice_choice.value = found[0][1]
            self._say(
                f"{len(found)} words go with a drop in accuracy (of {report.family_size} "
                "tested); they are in the slice list as 'found: ...'; Measure shows each",
                "success",
            )
        else:
            self._say("; ".join(report.notes), "warning")
        rows = [
            (r.name, r.n, _fmt(r.accuracy), _fmt(r.rest_accuracy), _fmt_p(r.p_value_holm))
            for r in report.results
        ]
        self.slice_view.value = html_table(
            rows, ["found", "n", "accuracy", "rest", "p (Holm)"]
        ) + "".join(_muted(note) for note in report.notes)

    # -------------------------------------------------------------------- words
    def _word_settings(self, method: str) -> dict[str, Any]:
        return {
            "shap": {"max_evals": int(self.shap_max_evals.value)},
            "lime": {"num_samples": int(self.lime_num_samples.value)},
            "integrated-gradients": {"n_steps": int(self.ig_steps.value)},
        }.get(method, {})

    def _word_sample(self) -> list[str]:
        n, budget = len(self.examples), int(self.max_texts.value)
        if n <= budget:
            return list(self.examples.texts)
        rows = np.sort(np.random.default_rng(self.seed).choice(n, size=budget, replace=False))
        return [self.examples.texts[i] for i in rows]

    def _word_method(self) -> str:
        method = self.words_method.value
        if method is None:
            raise InputError("this model supports no attribution method for global words")
        return method

    def estimate_words(self, block: bool = True) -> bool:
        """Time two texts with the chosen method and budget; say what the run would take."""
        return self._start(self._estimate_words, block=block)

    def _estimate_words(self) -> None:
        method, texts = self._word_method(), self._word_sample()
        probe = texts[:2]
        started = time.perf_counter()
        global_attributions(
            self.model,
            probe,
            method=method,
            min_count=1,
            progress=False,
            estimate=False,
            **self._word_settings(method),
        )
        each = (time.perf_counter() - started) / len(probe)
        line = (
            f"{method}: {each:.2f} s per text on the first {len(probe)}, so about "
            f"{each * len(texts):.0f} s for {len(texts)} texts"
        )
        if method == "integrated-gradients":
            line += " (less: a larger batch shares its passes)"
        self.words_estimate.value = message_html(line, "info")
        self._say("estimated", "success")

    def compute_words(self, block: bool = True) -> bool:
        """Global attributions over the sample (what **Global words** does)."""
        return self._start(self._compute_words, block=block)

    def _compute_words(self) -> None:
        self.attributions = None
        self.words_view.value = ""
        show_figures(self.words_figure)
        method, texts = self._word_method(), self._word_sample()
        self._say(f"explaining {len(texts)} texts with {method}", "busy")
        min_count = 2 if len(texts) < 100 else 5
        result = global_attributions(
            self.model,
            texts,
            method=method,
            min_count=min_count,
            progress=False,
            estimate=False,
            seed=self.seed,
            **self._word_settings(method),
        )
        self.attributions = result
        label = result.classes[int(self.words_class.value)]
        self.words_view.value = self._words_html(result, label)
        show_figures(self.words_figure, result.figure(k=10, classes=[label]))
        seconds = result.settings.get("seconds", 0.0)
        self._say(f"{method} over {result.n_texts} texts in {seconds:.1f} s", "success")

    def _words_html(self, result: GlobalAttributions, label: Any) -> str:
        parts = []
        for by, what in (("mean", "towards"), ("-mean", "against")):
            rows = result.top(label, 8, by=by)  # type: ignore[arg-type]
            rows = rows[rows["mean"] > 0] if by == "mean" else rows[rows["mean"] < 0]
            cells = [
                (r["word"], f"{r['mean']:+.4f}", f"[{r['low']:+.4f}, {r['high']:+.4f}]", r["count"])
                for r in rows.to_dict("records")
            ]
            parts.append(
                f"<b>{what} {html.escape(str(label))}</b>"
                + (
                    html_table(cells, ["word", "mean", "interval", "count"])
                    if cells
                    else _muted("(none)")
                )
            )
        note = (
            f"{result.method} in {result.units} points over {result.n_texts} texts; words seen "
            f"fewer than {result.min_count} times left out"
        )
        return (
            '<div style="display:flex;gap:24px">'
            + "".join(f"<div>{p}</div>" for p in parts)
            + "</div>"
            + _muted(note)
            + "".join(_muted(n) for n in result.notes)
        )

    # ---------------------------------------------------------------- behaviour
    def run_behaviour(self, block: bool = True) -> bool:
        """Run the sentiment suite on the examples (what **Run tests** does)."""
        return self._start(self._run_behaviour, block=block)

    def _run_behaviour(self) -> None:
        self.suite = None
        self.behaviour_table.value = self.failures_view.value = ""
        self.behaviour_test.options = []
        self._say("running the behavioural tests", "busy")
        ex = self.examples
        suite = run_suite(
            self.model,
            sentiment_suite(),
            ex.texts,
            ex.labels,
            positive=self.positive,
            negative=self.negative,
            max_cases=int(self.max_cases.value),
            n_bootstrap=self.n_bootstrap,
            seed=self.seed,
            progress=False,
        )
        self.suite = suite
        rows = []
        for t in suite.tests:
            if t.skipped:
                rate = f"skipped: {t.skipped}"
            else:
                rate = "no case" if t.pass_rate is None else f"{t.pass_rate:.0%}"
            interval = "" if t.interval is None else f"{t.interval.low:.0%}–{t.interval.high:.0%}"
            rows.append((t.name, t.kind, t.capability, t.n, t.passed, rate, interval))
        self.behaviour_table.value = html_table(
            rows, ["test", "kind", "capability", "cases", "passed", "pass rate", "interval"]
        ) + _muted(suite.summary().splitlines()[-1])
        failing = [t for t in suite.tests if t.failures]
        self.behaviour_test.options = [
            (f"{t.name} ({len(t.failures)} failing)", t.name) for t in failing
        ]
        self._say(f"{len(suite.tests)} tests run; {len(failing)} have failing cases", "success")

    def _show_failures(self) -> None:
        name = self.behaviour_test.value
        if self.suite is None or name is None:
            self.failures_view.value = ""
            return
        test = self.suite[name]
        frame = self.suite.failures(name, limit=_ROWS_SHOWN)
        rows = [
            (
                r["diff"] or r["text"],
                r["expected"],
                r["original_prediction"] if r["original"] is not None else "",
                r["prediction"],
            )
            for r in frame.to_dict("records")
        ]
        self.failures_view.value = _muted(
            f"{test.kind} · {test.capability}: {test.description}"
        ) + html_table(rows, ["case ([-old-]{+new+})", "expected", "before", "prediction"])

    # ---------------------------------------------------------------------- map
    def draw_map(self, block: bool = True) -> bool:
        """Place the examples on a PCA map of the model's representations (**Draw map**)."""
        return self._start(self._draw_map, block=block)

    def _draw_map(self) -> None:
        if self.map is None:
            self._say("reading the model's representations", "busy")
            ex, n = self.examples, len(self.examples)
            rows = np.arange(n)
            if n > self.max_map_points:
                rng = np.random.default_rng(self.seed)
                rows = np.sort(rng.choice(n, size=self.max_map_points, replace=False))
            mapped = ex if len(rows) == n else _subset(ex, rows)
            self.map = embedding_map(
                self.model, mapped, method="pca", seed=self.seed, progress=False
            )
            self._map_rows = rows
            self.map_point.options = [
                (f"#{k} {shorten(ex.texts[i])}", int(i)) for k, i in enumerate(rows)
            ]
            self.map_point.value = None
        colour: str | Slice = self.color_by.value
        if colour == "slice":
            if self.slice_result is None or self.slice_result.slice is None:
                raise InputError("measure a slice first (Slices tab), then colour the map by it")
            colour = self.slice_result.slice
        figure = self.map.figure(color_by=colour, seed=self.seed)
        if _clicks_reach_python():  # pragma: no cover - anywidget is not in the pinned env
            figure = self._clickable(figure)
            self.map_output.outputs = ()
            with self.map_output:
                from IPython.display import display

                display(figure)
        else:
            show_figures(self.map_output, figure)
        sampled = "" if len(self.map) == len(self.examples) else f" (a sample of {len(self.map)})"
        self._say(f"{len(self.map)} examples mapped{sampled}; {self.map.space}", "success")

    def _clickable(self, figure: Any) -> Any:  # pragma: no cover - needs anywidget
        import plotly.graph_objects as go

        live = go.FigureWidget(figure)
        rows = self._map_rows

        def clicked(trace: Any, points: Any, _state: Any) -> None:
            if points.point_inds and rows is not None:
                self.example_index.value = int(rows[int(trace.customdata[points.point_inds[0]])])

        for trace in live.data:
            trace.on_click(clicked)
        return live

    # -------------------------------------------------------------- one example
    def explain_example(self, block: bool = True) -> bool:
        """Explain the picked example: the local explanation, then the parts ticked
        (minimal flip, nearest training texts, influential training examples). A part that
        fails shows its message and leaves the others; False if the explanation failed."""
        return self._start(self._explain_example, block=block)

    def _explain_example(self) -> None:
        self.explanation = self.flip = self.neighbours = self.influence_result = None
        self.example_errors = {}
        for view in (self.explanation_view, self.flip_view, self.neighbours_view):
            view.value = ""
        self.influence_view.value = ""
        self.tabs.selected_index = TAB_TITLES.index("This example")
        i = int(self.example_index.value)
        text = self.examples.texts[i]
        method = self.example_method.value
        if method is None:
            raise InputError("this model supports no explanation method")
        self._say(f"explaining row {i} with {method}", "busy")
        settings = self._word_settings(method)
        self.explanation = explain(self.model, text, method, progress=False, **settings)
        self.explanation_view.value = explanation_html(self.explanation)
        parts: list[tuple[str, bool, widgets.HTML, Callable[[str], str]]] = [
            ("minimal flip", self.show_flip.value, self.flip_view, self._flip_html),
            (
                "nearest training texts",
                self.show_neighbours.value,
                self.neighbours_view,
                self._neighbours_html,
            ),
            (
                "influential training examples",
                self.show_influence.value,
                self.influence_view,
                self._influence_html,
            ),
        ]
        for name, wanted, view, build in parts:
            if not wanted:
                continue
            self._say(f"row {i}: {name}", "busy")
            try:
                view.value = f"<h4>{html.escape(name)}</h4>" + build(text)
            except Exception as exc:  # one part failing must not hide the others
                self.example_errors[name] = describe_error(exc)
                view.value = f"<h4>{html.escape(name)}</h4>" + message_html(
                    self.example_errors[name], "warning"
                )
        done = f"row {i} explained with {method}"
        if self.example_errors:
            self._say(f"{done}; not shown: {', '.join(self.example_errors)}", "warning")
        else:
            self._say(done, "success")

    def _flip_html(self, text: str) -> str:
        self.flip = minimal_flip(self.model, text, max_edits=2)
        return self.flip.to_html()

    def _neighbours_html(self, text: str) -> str:
        if self.train_texts is None:
            raise InputError(
                "give train_texts= (and train_labels=) to analysis_panel for the nearest "
                "training texts"
            )
        if self._index is None:
            self._index = RepresentationIndex.build(
                self.model, self.train_texts, self.train_labels, progress=False
            )
        found = self._index.query([text], k=5, progress=False)
        self.neighbours = found
        rows = [
            (r["rank"], f"{r['similarity']:.3f}", shorten(r["text"], 100), r["label"])
            for r in found.to_dict("records")
        ]
        return html_table(rows, ["rank", "cosine", "training text", "label"]) + _muted(
            f"similarity in {self._index.space}"
        )

    def _influence_html(self, text: str) -> str:
        if self.train_texts is None or self.train_labels is None:
            raise InputError(
                "influence needs the training examples: give train_texts= and train_labels= "
                "(and checkpoints=) to analysis_panel"
            )
        result = influence(
            self.model,
            [text],
            self.train_texts,
            self.train_labels,
            # None: influence() says what is missing (checkpoints, or a torch network)
            [] if self.checkpoints is None else self.checkpoints,
            top=5,
            layers=self.influence_layers,  # type: ignore[arg-type]
            progress=False,
        )
        self.influence_result = result
        frame = result.to_frame()
        rows = [
            (
                r["kind"],
                r["rank"],
                f"{r['score']:+.4g}",
                shorten(r["train_text"], 100),
                r["train_label"],
            )
            for r in frame.to_dict("records")
        ]
        caveat = (
            f"TracInCP ({result.method}, {result.checkpoints} checkpoints, traced at the "
            f"prediction {result.targets[0]}): an approximation of how the training steps on "
            "each example moved this prediction, not a retraining; "
            "workbench.analysis.influence.removal_check measures whether removing the top "
            "proponents moves it more than removing random examples"
        )
        return html_table(rows, ["", "rank", "score", "training text", "label"]) + _muted(caveat)


def _clicks_reach_python() -> bool:
    """Whether plotly's FigureWidget (click events) can run: it needs ``anywidget``."""
    return importlib.util.find_spec("anywidget") is not None


def _subset(examples: Examples, rows: np.ndarray) -> Examples:
    """The examples at ``rows``, with their labels, probabilities and columns."""
    labels = None if examples.labels is None else [examples.labels[i] for i in rows]
    options: dict[str, Any] = {"classes": examples.classes}
    if examples.proba is not None:
        options["proba"] = examples.proba[rows]
    elif examples.predictions is not None:
        options["predictions"] = [examples.predictions[i] for i in rows]
    return Examples(
        [examples.texts[i] for i in rows],
        labels,
        columns=examples.columns.iloc[rows].reset_index(drop=True),
        source=examples.source,
        **options,
    )


def _examples(
    model: TextModel, data: Any, labels: Sequence | None, text_col: str, label_col: str | None
) -> Examples:
    """``data`` as :class:`Examples` carrying ``model``'s probabilities."""
    if isinstance(data, Examples):
        if labels is not None:
            raise InputError("labels is for plain texts; the Examples hold their labels")
        if data.proba is None:
            return Examples.from_model(
                model, data.texts, data.labels, columns=data.columns, source=data.source
            )
        model_classes = [plain(c) for c in model.classes_]
        if list(data.classes) != model_classes:
            raise InputError(
                f"the examples' classes {data.classes} are not the model's {model_classes}; "
                "build them with Examples.from_model(model, ...)"
            )
        return data
    if isinstance(data, pd.DataFrame):
        if labels is not None:
            raise InputError("labels is for plain texts; a table names its label_col")
        return Examples.from_frame(
            data, text_col=text_col, label_col=label_col, model=model, progress=False
        )
    if isinstance(data, LabeledTexts):
        labels = data.labels if labels is None else labels
        return Examples.from_model(model, data.texts, labels, source=data.source, progress=False)
    if isinstance(data, str):
        data = [data]
    return Examples.from_model(model, data, labels, progress=False)


def analysis_panel(
    model: TextModel,
    examples_or_texts: Examples | pd.DataFrame | LabeledTexts | Sequence[str],
    labels: Sequence | None = None,
    *,
    train_texts: Sequence[str] | None = None,
    train_labels: Sequence | None = None,
    checkpoints: Any = None,
    text_col: str = "text",
    label_col: str | None = "label",
    **options: Any,
) -> AnalysisPanel:
    """A panel to analyse ``model`` on a dataset and explain any example of it.

    Args:
        model: a fitted text model (``predict_proba``, ``classes_``): a ``TextClassifier``,
            the TF-IDF baseline, a scikit-learn pipeline, a fine-tuned encoder. Methods the
            model does not support (gradients for a pipeline) are not offered.
        examples_or_texts: :class:`~workbench.analysis.Examples`, a table (its other
            columns, e.g. ``domain``, become slices and map colours; ``text_col`` and
            ``label_col`` name its columns, ``label_col=None`` for none), a
            :class:`~workbench.data.LabeledTexts`, or plain texts with ``labels``.
        labels: the labels of plain texts (None: the views that need labels say n/a).
        train_texts, train_labels: the training data, for the nearest training texts and
            for influence.
        checkpoints: what :class:`~workbench.analysis.influence.KeepCheckpoints` kept while
            ``model`` trained (the callback, its ``checkpoints`` or its directory), for the
            most influential training examples (TracInCP).
        options: ``positive``/``negative`` (the model's sentiment classes when its class
            names do not say, for the behavioural tests), ``n_bootstrap`` (200),
            ``max_texts`` (texts explained for global words, 40), ``max_cases`` (cases per
            behavioural test, 50), ``max_map_points`` (2000), ``influence_layers``
            (``"all"``, every parameter, or ``"last"``, the head only: several times faster,
            see :func:`~workbench.analysis.influence.influence`), ``seed``, ``background``
            (False: buttons block instead of using a thread).

    Returns:
        An :class:`AnalysisPanel`; it computes nothing heavy until a button (or its method:
        ``measure()``, ``discover()``, ``compute_words()``, ``run_behaviour()``,
        ``draw_map()``, ``explain_example()``) asks.
    """
    check_fitted(model, "classes_")
    if not hasattr(model, "predict_proba"):
        raise InputError(f"{type(model).__name__} needs predict_proba; pass a fitted model")
    examples = _examples(model, examples_or_texts, labels, text_col, label_col)
    return AnalysisPanel(
        model,
        examples,
        train_texts=train_texts,
        train_labels=train_labels,
        checkpoints=checkpoints,
        **options,
    )
