"""The README's screenshots, taken from real runs: trained models, an ordinary sentence.

Skipped unless ``WORKBENCH_DOCS_SCREENSHOTS=1``; ``update_docs_images.py --take`` sets it,
runs this file and copies the images to ``docs/images/``. These tests start a JupyterLab
of their own *without* smoke mode, so each notebook runs on its full budgets (about six
minutes for the four on two idle cores; slower on a busy machine), then they shoot the
meaningful regions at their natural width, in full colour, into ``<artifacts>/docs/``:

- ``00_start_here.png``: the cell that explains a review, with its coloured words;
- ``03_train_panel.png``: the training panel after the notebook trained the model to its
  normal end (early stopping or the last epoch): live curves, metrics, confusion matrix;
- ``04_compare_panel.png``: the comparison panel's leaderboard; ``04_disagreements.png``:
  its browser of disagreements, with both models' explanations of the one shown;
- ``05_explain_predictions.png``: five methods on one review and their top-word bars;
- ``05_explain_panel.png``: the explanation panel on a sentence typed into it,
  :data:`SENTENCE`, explained by the trained transformer.

Besides checking that each notebook ran cleanly, they check what the pictures are meant to
show: a training curve over several epochs, and both ends of the explanations' colour
scale visibly red and blue in the pixels (in the card of coloured words and in the bars,
where the trained model pushes "Great" and "dull" opposite ways).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from lab_driver import (
    PLOT_POINTS_JS,
    LabNotebook,
    assert_explains_text,
    assert_red_and_blue,
    expect,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        os.environ.get("WORKBENCH_DOCS_SCREENSHOTS") != "1",
        reason="documentation screenshots: WORKBENCH_DOCS_SCREENSHOTS=1, or run "
        "tests/browser/update_docs_images.py --take",
    ),
]

SENTENCE = "Great cast, but a dull plot."
# The notebooks' full budgets on a shared two-core machine: generous.
RUN_ALL_TIMEOUT_MS = 1_800_000
PANEL_TIMEOUT_MS = 900_000
CELL_EXPLANATIONS = ".jp-OutputArea-output[data-mime-type='text/html'] > .wb-explanation"


def _labelled_row(panel, label: str):
    return panel.locator(".widget-hbox").filter(
        has=panel.page.locator("b", has_text=re.compile(rf"^{re.escape(label)}$"))
    )


def _button(panel, text: str):
    return panel.locator(".widget-button", has_text=re.compile(rf"^\s*{re.escape(text)}\s*$"))


def test_docs_00_start_here(open_docs_notebook, docs_artifacts_dir: Path) -> None:
    notebook: LabNotebook = open_docs_notebook("00_start_here.ipynb")
    notebook.run_all(RUN_ALL_TIMEOUT_MS)
    notebook.assert_ran_cleanly()
    cell = notebook.code_cell("from workbench.explain import")
    explanation = cell.locator(CELL_EXPLANATIONS)
    expect(explanation).to_be_visible()
    assert_explains_text(explanation, "Great cast, but a dull, plodding plot.")
    shot = docs_artifacts_dir / "00_start_here.png"
    notebook.screenshot(None, {shot: cell})
    assert_red_and_blue(shot, "00's explanation")


def test_docs_03_train_panel(open_docs_notebook, docs_artifacts_dir: Path) -> None:
    notebook: LabNotebook = open_docs_notebook("03_train_a_transformer.ipynb")
    notebook.run_all(RUN_ALL_TIMEOUT_MS)
    notebook.assert_ran_cleanly()
    panel = notebook.panel("Train")
    expect(panel).to_have_count(1)
    status = panel.locator(".wb-message").first
    expect(status).to_contain_text("training finished")
    assert "stopped by you" not in status.inner_text()
    curves = panel.locator(".js-plotly-plot").first.evaluate(PLOT_POINTS_JS)
    # One validation loss and one accuracy marker per epoch: a real curve, not one point.
    assert curves["markers"] >= 2 * 3, f"fewer than three epochs on the curves: {curves}"
    assert max(curves["line_vertices"]) >= 20, f"a short training-loss curve: {curves}"
    notebook.screenshot(None, {docs_artifacts_dir / "03_train_panel.png": panel})


def test_docs_04_compare_panel(open_docs_notebook, docs_artifacts_dir: Path) -> None:
    notebook: LabNotebook = open_docs_notebook("04_compare_models.ipynb")
    notebook.run_all(RUN_ALL_TIMEOUT_MS)
    notebook.assert_ran_cleanly()
    panel = notebook.panel("Run")
    expect(panel).to_have_count(1)
    # The notebook leaves the panel on its disagreement browser, both models explained.
    pair = panel.locator(".wb-explanation")
    expect(pair.first).to_be_visible()
    disagreements = docs_artifacts_dir / "04_disagreements.png"
    notebook.screenshot(None, {disagreements: panel})

    panel.locator(".lm-TabBar-tab", has_text="Leaderboard").click()
    for model in ("tfidf-logreg", "bag-of-embeddings", "transformer-small"):
        expect(panel.locator(".wb-table", has_text=model).first).to_be_visible()
    notebook.screenshot(None, {docs_artifacts_dir / "04_compare_panel.png": panel})


def test_docs_05_explain(open_docs_notebook, docs_artifacts_dir: Path) -> None:
    notebook: LabNotebook = open_docs_notebook("05_explain_predictions.ipynb")
    notebook.run_all(RUN_ALL_TIMEOUT_MS)
    notebook.assert_ran_cleanly()
    page = notebook.page

    # The notebook's five methods on one review, and their top-word bars.
    shown = notebook.code_cell("show(panel.explanations)")
    bars_cell = notebook.code_cell("top_words_figure(panel.explanations")
    expect(shown.locator(CELL_EXPLANATIONS)).to_be_visible()
    expect(bars_cell.locator(".js-plotly-plot")).to_be_visible()
    predictions = docs_artifacts_dir / "05_explain_predictions.png"
    notebook.screenshot(None, {predictions: [shown, bars_cell]})

    # The panel, on a sentence typed into it, explained by the trained transformer.
    panel = notebook.panel("Explain")
    expect(panel).to_have_count(1)
    _labelled_row(panel, "model").locator("select").select_option(label="transformer")
    for method in ("shap", "lime", "integrated-gradients", "attention"):
        box = panel.locator(".widget-checkbox", has_text=method).first.locator("input")
        expect(box).to_be_enabled()
        box.check()
    _labelled_row(panel, "text").locator("textarea").fill(SENTENCE)
    _button(panel, "Explain").click()
    status = panel.locator(".wb-message").first
    expect(status).to_contain_text("explained with 4 method(s)", timeout=PANEL_TIMEOUT_MS)
    card = panel.locator(".wb-explanation").first
    assert card.locator(".wb-method").all_inner_texts() == [
        "shap",
        "lime",
        "integrated-gradients",
        "attention",
    ]
    assert_explains_text(card, SENTENCE)
    plots = panel.locator(".js-plotly-plot")
    expect(plots).to_have_count(2)  # top words, attention
    assert not notebook.error_outputs(), notebook.error_outputs()

    shots = {
        "panel": docs_artifacts_dir / "05_explain_panel.png",
        "words": docs_artifacts_dir / "05_explain_words.png",
        "bars": docs_artifacts_dir / "05_explain_bars.png",
    }
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    notebook.screenshot(
        None, {shots["panel"]: panel, shots["words"]: card, shots["bars"]: plots.nth(0)}
    )
    # A trained model reads "Great" towards positive and "dull" away from it: red and blue
    # bars both, and red and blue words beside the legend's.
    assert_red_and_blue(shots["panel"], "the explanation panel")
    assert_red_and_blue(shots["words"], "the explanation card")
    assert_red_and_blue(shots["bars"], "the top-words chart")
    assert_red_and_blue(predictions, "the five methods and their bars")
    assert not notebook.watched.dialogs, notebook.watched.dialogs
