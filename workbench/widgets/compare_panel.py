"""The comparison panel: train several models on one split, rank them honestly, and browse
the test texts on which two of them disagree, with both models' explanations.

``compare_panel(train, test)`` returns a :class:`ComparePanel`. **Run** calls
:func:`workbench.compare.compare` on the selected models and fills five tabs: the
leaderboard (intervals, cost) with its figure, the pairwise significance table (McNemar's
exact test, Holm-corrected), the confusion matrices, the reliability diagram, and the
disagreement browser. ``panel.comparison`` holds the :class:`~workbench.compare.Comparison`.
"""

from __future__ import annotations

import dataclasses
import html
import time
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets
import pandas as pd

from workbench import plots
from workbench.compare import Comparison, compare, registered_models, resolve_models
from workbench.compare.report import NO_PAIRS, leaderboard_table, significance_table
from workbench.data import LabeledTexts
from workbench.errors import InputError
from workbench.estimators import TextModel
from workbench.explain import Explanation, explain, explanation_html
from workbench.train import Callback, TrainState
from workbench.widgets._base import Panel, button, html_table, labelled, message_html, show_figures

# Offered and ticked by default when present: cheap enough for a laptop in a minute or two.
DEFAULT_SELECTION = ("tfidf-logreg", "bag-of-embeddings", "transformer-small")
# Budgets of "Explain both": small, because the browser is for a quick look.
PAIR_BUDGETS: dict[str, dict[str, Any]] = {"lime": {"num_samples": 500}, "shap": {"max_evals": 300}}
_STATUS_INTERVAL_S = 0.5


class _ProgressReporter(Callback):
    """Says which model :func:`compare` is training (its ``on_model_start`` hook) and, at
    most every ``_STATUS_INTERVAL_S``, how far that model's fit got (a fit callback)."""

    def __init__(self, panel: ComparePanel) -> None:
        self.panel = panel
        self.training = ""  # "name (i of n)"
        self._last = 0.0

    def model_started(self, name: str, index: int, total: int) -> None:
        self.training, self._last = f"{name} ({index + 1} of {total})", 0.0
        self.panel.progress.value = index
        self.panel._say(f"training {self.training}", "busy")

    def on_batch_end(self, state: TrainState) -> None:
        now = time.monotonic()
        if now - self._last >= _STATUS_INTERVAL_S:
            self._last = now
            self.panel._say(
                f"training {self.training}: epoch {state.epoch + 1}, step {state.step} of "
                f"{state.total_steps}",
                "busy",
            )


def _selection(names: list[str], selected: Sequence[str] | None) -> list[str]:
    """The models ticked at start: ``selected``, or the cheap defaults that are offered."""
    if selected is None:
        return [n for n in DEFAULT_SELECTION if n in names] or names
    unknown = sorted(set(selected) - set(names))
    if unknown:
        raise InputError(f"selected models {unknown} are not offered; offered: {names}")
    return list(selected)


def leaderboard_html(comparison: Comparison) -> str:
    """The leaderboard with 95% intervals and cost columns, best first; every cell escaped."""
    table = leaderboard_table(comparison.leaderboard)
    return (
        f"<b>Leaderboard</b> ({len(comparison.test)} test texts; best accuracy first; "
        "[95% bootstrap interval])" + html_table(table.itertuples(index=False), table.columns)
    )


def significance_html(significance: pd.DataFrame) -> str:
    """Pairwise tests as an escaped table, with a one-line reading guide."""
    if significance.empty:
        return message_html(NO_PAIRS, "info")
    table = significance_table(significance)
    guide = (
        "<small>only_a / only_b: test texts exactly one of the two gets right (all McNemar "
        "looks at). p_holm: the p-value corrected for testing every pair; "
        "'significant' means p_holm &lt; 0.05.</small>"
    )
    return (
        "<b>Is the difference real?</b>"
        + html_table(table.itertuples(index=False), table.columns)
        + guide
    )


class ComparePanel(Panel):
    """Compare models on one split and browse their disagreements; see :func:`compare_panel`.

    Widgets (attributes): ``model_select`` (SelectMultiple), ``epochs``, ``run_button``,
    ``progress``, ``status``, ``tabs``, ``leaderboard`` and ``significance`` (HTML),
    ``leaderboard_plot``, ``confusion`` and ``calibration`` (Outputs); the disagreement
    browser: ``model_a``, ``model_b``, ``disagreement_index`` (IntSlider),
    ``disagreement`` (HTML), ``explain_method``, ``explain_button``, ``pair_html``.
    Results: ``comparison``, ``disagreements`` (the current pair's table),
    ``pair_explanations`` (the last "Explain both").
    """

    def __init__(
        self,
        train: LabeledTexts,
        test: LabeledTexts,
        *,
        models: Sequence[str | tuple[str, TextModel]] | None = None,
        selected: Sequence[str] | None = None,
        num_epochs: int = 8,
        seed: int = 0,
        n_bootstrap: int = 1000,
        background: bool = True,
    ) -> None:
        super().__init__(background=background)
        for data, what in ((train, "train"), (test, "test")):
            if not isinstance(data, LabeledTexts):
                raise InputError(f"{what} must be LabeledTexts, e.g. from workbench.load_reviews()")
        self.train_data, self.test_data = train, test
        self.seed, self.n_bootstrap = seed, n_bootstrap
        self._entries = self._offered(models, seed)
        names = list(self._entries)
        selected = _selection(names, selected)
        self.comparison: Comparison | None = None
        self.disagreements: pd.DataFrame | None = None
        self.pair_explanations: list[Explanation] = []
        self._filling = False

        self._build_run_widgets(names, selected, num_epochs)
        self._build_browser()
        self._action_buttons = [self.run_button, self.explain_button]
        self.tabs = self._tabs()
        self._wire()
        self.children = [
            labelled("models", self.model_select),
            labelled("training", self.epochs),
            widgets.HBox([self.run_button, self.progress]),
            self.status,
            self.tabs,
        ]
        self._say(f"{len(train)} training and {len(test)} test texts; pick models and press Run.")

    def _build_run_widgets(self, names: list[str], selected: list[str], num_epochs: int) -> None:
        """The model selector, the epochs, Run and its progress, and the result views."""
        described = registered_models()
        self.model_select = widgets.SelectMultiple(
            options=[(f"{n} — {described[n]}" if described.get(n) else n, n) for n in names],
            value=tuple(selected),
            rows=min(6, max(3, len(names))),
            layout={"width": "640px"},
        )
        self.epochs = widgets.IntSlider(
            value=num_epochs,
            min=1,
            max=40,
            description="epochs (neural models)",
            style={"description_width": "initial"},
            layout={"width": "420px"},
        )
        self.run_button = button("Run", style="primary", icon="play")
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="models")
        self.leaderboard = widgets.HTML()
        self.leaderboard_plot = widgets.Output()
        self.significance = widgets.HTML()
        self.confusion = widgets.Output()
        self.calibration = widgets.Output()

    def _build_browser(self) -> None:
        """The disagreement browser: two models, a slider over their disagreements, and
        **Explain both**."""
        self.model_a = widgets.Dropdown(
            description="model A", options=[], layout={"width": "300px"}
        )
        self.model_b = widgets.Dropdown(
            description="model B", options=[], layout={"width": "300px"}
        )
        self.disagreement_index = widgets.IntSlider(
            value=0,
            min=0,
            max=0,
            description="disagreement",
            style={"description_width": "initial"},
            disabled=True,
            layout={"width": "420px"},
        )
        self.disagreement = widgets.HTML()
        self.explain_method = widgets.Dropdown(
            options=["lime", "shap"], value="lime", description="method", layout={"width": "200px"}
        )
        self.explain_button = button("Explain both", icon="search", tooltip="Explain both models")
        self.pair_html = widgets.HTML()

    def _tabs(self) -> widgets.Tab:
        browser = widgets.VBox(
            [
                widgets.HBox([self.model_a, self.model_b]),
                self.disagreement_index,
                self.disagreement,
                widgets.HBox([self.explain_method, self.explain_button]),
                self.pair_html,
            ]
        )
        pages = {
            "Leaderboard": widgets.VBox([self.leaderboard, self.leaderboard_plot]),
            "Significance": self.significance,
            "Confusion": self.confusion,
            "Calibration": self.calibration,
            "Disagreements": browser,
        }
        tabs = widgets.Tab(children=list(pages.values()))
        for i, title in enumerate(pages):
            tabs.set_title(i, title)
        return tabs

    def _wire(self) -> None:
        self.run_button.on_click(lambda _: self.run(block=not self.background))
        self.explain_button.on_click(lambda _: self.explain_both(block=not self.background))
        self.model_a.observe(lambda _: self._update_pair(), names="value")
        self.model_b.observe(lambda _: self._update_pair(), names="value")
        self.disagreement_index.observe(lambda _: self._show_disagreement(), names="value")

    @staticmethod
    def _offered(
        models: Sequence[str | tuple[str, TextModel]] | None, seed: int
    ) -> dict[str, str | tuple[str, TextModel]]:
        """name -> what :func:`resolve_models` takes: a registry name or a (name, estimator)
        pair to fit as it is."""
        if models is None:
            return {name: name for name in registered_models()}
        # Every name and pair is checked now; Run builds fresh ones with the chosen epochs.
        resolved = resolve_models(models, seed)
        return {name: item for (name, _), item in zip(resolved, models, strict=True)}

    # ----------------------------------------------------------------- actions
    def run(self, block: bool = True) -> bool:
        """Train and score the selected models (what **Run** does).

        Blocks unless ``block=False`` (a background thread; :meth:`wait` joins it). Returns
        False if nothing started or, when blocking, if the comparison failed as a whole
        (a single model's failure is listed on the leaderboard instead).
        """
        return self._start(self._run, block=block)

    def explain_both(self, block: bool = True) -> bool:
        """Explain the shown disagreement with both models (what **Explain both** does)."""
        return self._start(self._explain_both, block=block)

    # --------------------------------------------------------------- internals
    def _run(self) -> None:
        names = list(self.model_select.value)
        if not names:
            raise InputError("select at least one model")
        options = {"num_epochs": int(self.epochs.value)}
        resolved = resolve_models([self._entries[name] for name in names], self.seed, options)
        self.progress.max, self.progress.value = len(resolved), 0
        # A new run clears the old results, so they are never mistaken for the new ones.
        self.comparison = None
        self.leaderboard.value = self.significance.value = ""
        for output in (self.leaderboard_plot, self.confusion, self.calibration):
            show_figures(output)
        self._show_pair_options([])
        reporter = _ProgressReporter(self)
        comparison = compare(
            resolved,
            self.train_data,
            self.test_data,
            seed=self.seed,
            n_bootstrap=self.n_bootstrap,
            progress=False,  # the panel reports progress; the models' own bars stay off
            on_model_start=reporter.model_started,
            callbacks=[reporter],
        )
        self.progress.value = self.progress.max
        self.comparison = comparison
        self._show(comparison)
        failed = comparison.errors
        if failed:
            self._say(
                f"compared {len(comparison.probabilities)} model(s); failed: "
                + "; ".join(f"{n}: {e}" for n, e in failed.items()),
                "warning",
            )
        else:
            self._say(
                f"compared {len(names)} model(s) on {len(self.test_data)} test texts", "success"
            )

    def _show(self, comparison: Comparison) -> None:
        self.leaderboard.value = leaderboard_html(comparison)
        self.significance.value = significance_html(comparison.significance())
        scored = [n for n in comparison.leaderboard["model"] if n in comparison.probabilities]
        if scored:
            show_figures(self.leaderboard_plot, plots.leaderboard_figure(comparison))
            show_figures(self.confusion, plots.confusion_matrices_figure(comparison))
            show_figures(self.calibration, plots.reliability_figure(comparison))
        else:
            for output in (self.leaderboard_plot, self.confusion, self.calibration):
                show_figures(output)
        self._show_pair_options(scored)

    def _show_pair_options(self, scored: list[str]) -> None:
        # Fill both dropdowns before reacting: their observers would see a half-set pair.
        self._filling = True
        try:
            self.model_a.options = scored
            self.model_b.options = scored
            self.model_a.value = scored[0] if scored else None
            self.model_b.value = scored[1] if len(scored) > 1 else None
        finally:
            self._filling = False
        self._update_pair()

    def _update_pair(self) -> None:
        if self._filling:
            return
        comparison = self.comparison
        self.pair_explanations = []
        self.pair_html.value = ""
        a, b = self.model_a.value, self.model_b.value
        self.disagreements = None
        if comparison is None or a is None or b is None:
            self._set_rows(0)
            self.disagreement.value = message_html("run a comparison of two or more models", "info")
            return
        if a == b:
            self._set_rows(0)
            self.disagreement.value = message_html("pick two different models", "warning")
            return
        self.disagreements = comparison.disagreements(a, b)
        self._set_rows(len(self.disagreements))
        self._show_disagreement()

    def _set_rows(self, n: int) -> None:
        self.disagreement_index.max = max(n - 1, 0)
        self.disagreement_index.value = 0
        self.disagreement_index.disabled = n <= 1

    def current_disagreement(self) -> pd.Series | None:
        """The row of ``disagreements`` the slider points at (None when there is none)."""
        table = self.disagreements
        if table is None or table.empty:
            return None
        return table.iloc[min(self.disagreement_index.value, len(table) - 1)]

    def _show_disagreement(self) -> None:
        self.pair_explanations = []
        self.pair_html.value = ""
        row = self.current_disagreement()
        table = self.disagreements
        if row is None:
            if table is not None:
                self.disagreement.value = message_html(
                    f"{self.model_a.value} and {self.model_b.value} agree on every test text",
                    "info",
                )
            return
        assert table is not None  # the row is one of its rows
        a, b = table.attrs["model_a"], table.attrs["model_b"]

        def verdict(name: str) -> str:
            return "✔ right" if row["correct"] == name else "✘ wrong"

        rows = [
            (f"A: {a}", row["prediction_a"], f"{row['confidence_a']:.3f}", verdict(a)),
            (f"B: {b}", row["prediction_b"], f"{row['confidence_b']:.3f}", verdict(b)),
        ]
        position = self.disagreement_index.value + 1
        # pandas-stubs type Series.name as any Hashable; here it is the test row's int label
        test_row = int(row.name)  # type: ignore[call-overload]
        self.disagreement.value = (
            f"<div><b>Disagreement {position} of {len(table)}</b> "
            f"<small>(test row {test_row}; sorted by how far apart the two models' "
            f"probabilities are: gap {row['confidence_gap']:.3f})</small></div>"
            f'<blockquote style="margin:6px 0;padding:6px 10px;border-left:3px solid #ccc;'
            f'white-space:pre-wrap">{html.escape(str(row["text"]))}</blockquote>'
            f"<div>true label: <b>{html.escape(str(row['true_label']))}</b></div>"
            + html_table(rows, ["model", "prediction", "confidence", ""])
        )

    def _explain_both(self) -> None:
        row = self.current_disagreement()
        if row is None or self.comparison is None:
            raise InputError("there is no disagreement to explain: run a comparison first")
        method = self.explain_method.value
        table = self.disagreements
        assert table is not None  # the row is one of its rows
        explanations = []
        for side in ("model_a", "model_b"):
            name = table.attrs[side]
            self._say(f"explaining with {name} ({method})", "busy")
            result = explain(
                self.comparison.models[name],
                str(row["text"]),
                method,
                progress=False,
                **PAIR_BUDGETS.get(method, {}),
            )
            # The method label names the model, so the stacked rows say whose they are.
            explanations.append(dataclasses.replace(result, method=f"{name} · {method}"))
        self.pair_explanations = explanations
        self.pair_html.value = explanation_html(explanations)
        self._say(
            f"explained disagreement {self.disagreement_index.value + 1} with both models; "
            "each row explains that model's own prediction",
            "success",
        )


def compare_panel(
    train: LabeledTexts,
    test: LabeledTexts,
    *,
    models: Sequence[str | tuple[str, TextModel]] | None = None,
    **options: Any,
) -> ComparePanel:
    """A panel that compares models on one split and browses where two of them disagree.

    Args:
        train, test: labelled texts; every model trains on ``train`` with the same seed and
            is scored on ``test``.
        models: what the selector offers: registry names (default: every registered model)
            and/or ``(name, estimator)`` pairs of unfitted models.
        options: ``selected`` (ticked at start; default tfidf-logreg, bag-of-embeddings and
            transformer-small when offered), ``num_epochs`` (for registry models that train
            by epochs), ``seed``, ``n_bootstrap``, ``background`` (False: buttons block).

    Returns:
        A :class:`ComparePanel`; after **Run**, ``panel.comparison`` holds the result.
    """
    return ComparePanel(train, test, models=models, **options)
