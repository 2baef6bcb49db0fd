"""Notebooks 00, 03 and 05 run in JupyterLab in a real browser, and their panels work there.

Each test opens a notebook, runs it with Run > Run All Cells, checks that every code cell
ran and none shows an error, then uses the page like a person would: clicks the panel's
buttons, waits for the plotly charts and highlighted explanations they produce, and checks
what they show. A full-notebook screenshot of each ends up in the artifacts folder.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lab_driver import (
    PLOT_POINTS_JS,
    LabNotebook,
    assert_explains_text,
    assert_red_and_blue,
    expect,
    red_blue_pixels,
)

pytestmark = pytest.mark.browser

# Markup in the text typed into the explanation panel must come back as text.
TYPED_TEXT = "Great cast, but a <b>dull</b> plot & <img src=x onerror=alert(1)> ending"

# Explanations a cell displayed itself (show(...)), not those inside a panel's HTML widget.
CELL_EXPLANATIONS = ".jp-OutputArea-output[data-mime-type='text/html'] > .wb-explanation"


def plot_points(plot) -> dict:
    return plot.evaluate(PLOT_POINTS_JS)


def select_containing(select, prefix: str) -> None:
    """Pick the option of a ``<select>`` whose label starts with ``prefix``."""
    labels = select.locator("option").all_inner_texts()
    matches = [label for label in labels if label.strip().startswith(prefix)]
    assert matches, f"no option starting with {prefix!r} in {labels}"
    select.select_option(label=matches[0])


def type_into_readout(page, row, value: int) -> None:
    """Set an ipywidgets slider by typing into its editable readout, as a person can."""
    readout = row.locator(".widget-readout")
    readout.click()
    page.keyboard.press("Control+A")
    page.keyboard.type(str(value))
    page.keyboard.press("Enter")
    expect(row.locator("[role=slider]")).to_have_attribute(
        "aria-valuenow", re.compile(rf"^{value}(\.0)?$")
    )


def labelled_row(panel, label: str):
    """A panel row made by ``workbench.widgets._base.labelled``: bold label, then controls."""
    return panel.locator(".widget-hbox").filter(
        has=panel.page.locator("b", has_text=re.compile(rf"^{re.escape(label)}$"))
    )


def test_00_start_here_runs_in_jupyterlab(open_notebook, artifacts_dir: Path) -> None:
    notebook: LabNotebook = open_notebook("00_start_here.ipynb")
    notebook.run_all()
    notebook.assert_ran_cleanly()
    page = notebook.page

    plots = page.locator(".jp-Cell-outputArea .js-plotly-plot")
    expect(plots).to_have_count(2)  # training history, confusion matrix
    history = plot_points(plots.nth(0))
    assert history["markers"] > 0, f"the training history chart has no points: {history}"
    assert plot_points(plots.nth(1))["heatmaps"] > 0, "the confusion matrix is not drawn"

    explanation = page.locator(CELL_EXPLANATIONS)
    expect(explanation).to_have_count(1)
    expect(explanation).to_be_visible()
    methods = explanation.locator(".wb-method").all_inner_texts()
    assert methods == ["shap", "integrated-gradients"], methods
    assert_explains_text(explanation, "Great cast, but a dull, plodding plot.")

    notebook.screenshot(artifacts_dir / "00_start_here.png")
    assert not notebook.watched.dialogs, notebook.watched.dialogs


def test_03_train_panel_trains_and_stops_in_jupyterlab(open_notebook, artifacts_dir: Path) -> None:
    notebook: LabNotebook = open_notebook("03_train_a_transformer.ipynb")
    notebook.run_all()
    notebook.assert_ran_cleanly()
    page = notebook.page
    panel = notebook.panel("Train")
    expect(panel).to_have_count(1)
    status = panel.locator(".wb-message").first
    # The notebook's own panel.train() has finished: curves drawn, metrics shown.
    expect(status).to_contain_text("training finished")
    curves = panel.locator(".js-plotly-plot").first
    assert max(plot_points(curves)["line_vertices"]) >= 2, "no training-loss curve"

    # Now train from the browser, long enough to stop it: the biggest preset, 40 epochs,
    # and patience 10, so early stopping cannot end it within the first 10 epochs.
    select_containing(labelled_row(panel, "model size").locator("select"), "base")
    type_into_readout(page, labelled_row(panel, "max epochs"), 40)
    type_into_readout(page, labelled_row(panel, "patience"), 10)
    stop = panel.locator(".widget-button", has_text=re.compile(r"^\s*Stop\s*$"))
    expect(stop).to_be_disabled()
    panel.locator(".widget-button", has_text=re.compile(r"^\s*Train\s*$")).click()
    expect(stop).to_be_enabled()
    # Live progress from the background thread, a few steps in: "epoch 1, step 5 of 720".
    expect(status).to_contain_text(re.compile(r"step ([3-9]|\d\d+) of 720"))
    stop.click()
    expect(status).to_contain_text("training stopped by you")
    expect(stop).to_be_disabled()

    points = plot_points(panel.locator(".js-plotly-plot").first)
    assert points["line_vertices"] and points["line_vertices"][0] >= 2, (
        f"the loss curve of the stopped run has no points: {points}"
    )
    assert points["markers"] >= 2, f"no validation points (loss and accuracy): {points}"
    expect(panel.locator(".wb-table").first).to_be_visible()  # the validation metrics
    confusion = panel.locator(".js-plotly-plot").nth(1)
    assert plot_points(confusion)["heatmaps"] > 0, "the confusion matrix is not drawn"

    panel.locator(".widget-button", has_text=re.compile(r"^\s*Save\s*$")).click()
    expect(panel.locator(".wb-message.wb-success", has_text="saved to")).to_be_visible()
    assert (notebook.lab.root.parent / "runs" / "03_train_a_transformer").is_dir()

    assert not notebook.error_outputs(), notebook.error_outputs()
    notebook.screenshot(
        artifacts_dir / "03_train_a_transformer.png", {artifacts_dir / "03_train_panel.png": panel}
    )
    assert not notebook.watched.dialogs, notebook.watched.dialogs


def test_04_compare_panel_shows_the_leaderboard_in_jupyterlab(
    open_notebook, artifacts_dir: Path
) -> None:
    notebook: LabNotebook = open_notebook("04_compare_models.ipynb")
    notebook.run_all()
    notebook.assert_ran_cleanly()
    panel = notebook.panel("Run")
    expect(panel).to_have_count(1)
    expect(panel).to_be_visible()
    # The notebook leaves the panel on its disagreement browser, comparing two models.
    expect(panel.locator(".widget-button", has_text="Explain both")).to_be_visible()
    cells = notebook.page.locator(".jp-Cell-outputArea")
    for model in ("tfidf-logreg", "bag-of-embeddings", "transformer-small"):
        expect(cells.filter(has_text=model).first).to_be_visible()  # the leaderboard rows
    notebook.screenshot(
        artifacts_dir / "04_compare_models.png", {artifacts_dir / "04_compare_panel.png": panel}
    )
    assert not notebook.watched.dialogs, notebook.watched.dialogs


def test_05_explain_panel_explains_typed_text_in_jupyterlab(
    open_notebook, artifacts_dir: Path
) -> None:
    notebook: LabNotebook = open_notebook("05_explain_predictions.ipynb")
    notebook.run_all()
    notebook.assert_ran_cleanly()
    page = notebook.page

    # The plain outputs: highlighted text of the five methods, their top-word bars, and
    # the attention heatmap.
    cell_explanations = page.locator(CELL_EXPLANATIONS)
    expect(cell_explanations.first).to_be_visible()
    first = cell_explanations.first
    assert first.locator(".wb-method").all_inner_texts() == [
        "shap",
        "lime",
        "integrated-gradients",
        "gradient-x-input",
        "attention",
    ]
    assert_explains_text(first, "Not bad at all, I'd happily go back.")

    panel = notebook.panel("Explain")
    expect(panel).to_have_count(1)
    # The notebook ends on the TF-IDF model; explain typed text with the transformer,
    # adding attention to the ticked methods (SHAP and LIME).
    labelled_row(panel, "model").locator("select").select_option(label="transformer")
    attention_box = panel.locator(".widget-checkbox", has_text="attention").locator("input")
    expect(attention_box).to_be_enabled()
    attention_box.check()
    labelled_row(panel, "text").locator("textarea").fill(TYPED_TEXT)
    panel.locator(".widget-button", has_text=re.compile(r"^\s*Explain\s*$")).click()

    highlight = panel.locator(".wb-explanation")
    expect(highlight.locator(".wb-text").first).to_have_text(TYPED_TEXT)
    status = panel.locator(".wb-message").first
    expect(status).to_contain_text("explained with 3 method(s)")
    assert highlight.locator(".wb-method").all_inner_texts() == ["shap", "lime", "attention"]
    assert_explains_text(highlight, TYPED_TEXT)
    assert panel.locator(".wb-explanation img, .wb-explanation script").count() == 0

    plots = panel.locator(".js-plotly-plot")
    expect(plots).to_have_count(2)  # top words, attention
    bars = plot_points(plots.nth(0))["bars"]
    assert bars > 0, "the top-words chart has no bars"
    assert plot_points(plots.nth(1))["heatmaps"] > 0, "the attention heatmap is not drawn"

    panel.locator(".widget-button", has_text="Export HTML").click()
    expect(panel.locator(".wb-message.wb-success", has_text="wrote")).to_be_visible()
    exported = notebook.lab.root.parent / "runs" / "05_explanation.html"
    assert TYPED_TEXT not in exported.read_text(encoding="utf-8"), "export is not escaped"

    assert not notebook.error_outputs(), notebook.error_outputs()
    shots = {
        "panel": artifacts_dir / "05_explain_panel.png",
        "words": artifacts_dir / "05_explain_words.png",
        "bars": artifacts_dir / "05_explain_bars.png",
    }
    notebook.screenshot(
        artifacts_dir / "05_explain_predictions.png",
        {shots["panel"]: panel, shots["words"]: highlight.first, shots["bars"]: plots.nth(0)},
    )
    assert not notebook.watched.dialogs, f"typed markup ran in the page: {notebook.watched.dialogs}"

    # Both ends of the colour scale are visibly red and blue in the pixels: in the panel,
    # and in its explanation card alone (legend and words: no blue JupyterLab buttons).
    # The bars depend on the smoke-trained model's signs, so they are only reported.
    assert_red_and_blue(shots["panel"], "the explanation panel's screenshot")
    assert_red_and_blue(shots["words"], "the explanation card's screenshot")
    print(f"05 top-words chart: {red_blue_pixels(shots['bars'])} clearly red/blue pixels")
