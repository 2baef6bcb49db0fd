"""Tests for workbench.widgets: each panel driven through ``.value`` and ``.click()``.

Buttons run their work in a background thread (as in a live notebook); ``panel.wait()``
joins it. Busy-guard and Stop tests hold the worker on an Event, so nothing depends on
timing: the timeouts only keep a broken build from hanging the suite.
"""

from __future__ import annotations

import html
import re
import threading

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.pipeline import make_pipeline

from workbench import LabeledTexts, TextClassifier
from workbench.baselines import TfidfLogisticRegression
from workbench.train import Callback
from workbench.widgets import compare_panel, explain_panel, train_panel

JOIN_TIMEOUT_S = 120  # a hang guard, not a timing assertion


def labeled(pair: tuple[list[str], list], source: str = "synthetic") -> LabeledTexts:
    return LabeledTexts(list(pair[0]), list(pair[1]), source)


def finish(panel) -> None:
    assert panel.wait(JOIN_TIMEOUT_S), "the panel's worker thread did not finish"


def plain_text(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


class GateAt(Callback):
    """Holds the fit loop at a given batch until released, telling the test it got there."""

    def __init__(self, step: int = 1) -> None:
        self.step = step
        self.reached = threading.Event()
        self.release = threading.Event()

    def on_batch_end(self, state) -> None:
        if state.step == self.step:
            self.reached.set()
            self.release.wait(JOIN_TIMEOUT_S)


# ------------------------------------------------------------------------ train panel


@pytest.fixture
def small_data(make_corpus):
    return labeled(make_corpus(96, seed=3)), labeled(make_corpus(32, seed=4))


def tiny_panel(train, validation, **options):
    panel = train_panel(train, validation, smoke=True, device="cpu", **options)
    panel.size.value = "tiny"
    panel.learning_rate.value = 5e-3
    panel.dropout.value = 0.0
    return panel


def test_train_panel_click_trains_shows_curves_metrics_and_saves(small_data, tmp_path):
    panel = tiny_panel(*small_data)
    panel.epochs.value = 2
    panel.train_button.click()
    finish(panel)

    assert panel.error is None, panel.error
    assert panel.runs == 1
    history = panel.history
    assert not history.interrupted and len(history.epochs) == 2
    losses = panel.curves_figure.data[0]
    assert len(losses.x) == history.steps and all(np.isfinite(losses.y))
    assert len(panel.curves_figure.data[2].y) == 2  # one validation accuracy per epoch
    assert panel.progress.value == panel.progress.max == history.steps
    assert panel.curves.outputs and panel.confusion.outputs
    assert "accuracy" in panel.metrics.value and "macro-F1" in panel.metrics.value
    counts = np.array(panel.confusion_figure.data[0].z)
    assert counts.sum() == len(small_data[1])
    assert set(panel.classifier.predict(["good great", "bad awful"])) <= {"positive", "negative"}
    assert not panel.train_button.disabled and panel.stop_button.disabled

    panel.save_path.value = str(tmp_path / "model")
    panel.save_button.click()
    assert (tmp_path / "model" / "config.json").is_file()
    assert "saved to" in panel.save_status.value
    reloaded = TextClassifier.load(tmp_path / "model")
    texts = ["really good", "quite dull"]
    np.testing.assert_allclose(
        reloaded.predict_proba(texts), panel.classifier.predict_proba(texts), atol=1e-6
    )
    # A new run makes that message stale: it would describe the previous model.
    assert panel.train()
    assert panel.save_status.value == ""


def test_train_panel_second_click_while_busy_starts_nothing(small_data):
    gate = GateAt(step=1)
    panel = tiny_panel(*small_data, callbacks=[gate])
    panel.epochs.value = 1
    panel.train_button.click()
    assert gate.reached.wait(JOIN_TIMEOUT_S)
    assert panel.busy and panel.train_button.disabled and not panel.stop_button.disabled
    panel.train_button.click()  # disabled in the browser; the guard holds for code too
    assert panel.train(block=False) is False
    gate.release.set()
    finish(panel)
    assert panel.runs == 1
    assert panel.classifier is not None and panel.error is None


def test_stop_ends_training_and_keeps_the_best_model(small_data):
    gate = GateAt(step=3)
    panel = tiny_panel(*small_data, callbacks=[gate])
    panel.epochs.value = 10
    panel.train_button.click()
    assert gate.reached.wait(JOIN_TIMEOUT_S)
    panel.stop_button.click()  # from the test's thread, as a user's click would be
    panel.train_button.click()  # refused while busy, and must not cancel the Stop
    gate.release.set()
    finish(panel)

    history = panel.history
    assert panel.error is None, panel.error
    assert history.interrupted and history.steps == 3
    assert history.best_epoch == 1 and len(history.epochs) == 1
    assert "stopped" in panel.status.value
    proba = panel.classifier.predict_proba(["good", "bad"])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_train_panel_shows_errors_instead_of_raising(make_corpus, tmp_path):
    texts, _ = make_corpus(40)
    panel = tiny_panel(labeled((texts, ["positive"] * len(texts))), None)
    assert panel.train() is False  # one class only: fit cannot learn anything
    assert panel.error and "class" in panel.error
    assert "wb-error" in panel.status.value and "Traceback" not in panel.status.value
    assert panel.classifier is None and not panel.train_button.disabled

    panel.save_path.value = str(tmp_path / "nothing")
    panel.save_button.click()
    assert "Train first" in panel.save_status.value
    assert not (tmp_path / "nothing").exists()


# ---------------------------------------------------------------------- explain panel


@pytest.fixture(scope="module")
def tfidf_model(corpus):
    return TfidfLogisticRegression().fit(*corpus)


class GatedModel:
    """A model whose predictions wait for a gate: keeps a run busy for as long as needed."""

    def __init__(self, model) -> None:
        self.model = model
        self.classes_ = model.classes_
        self.gate = threading.Event()
        self.called = threading.Event()

    def predict_proba(self, texts):
        self.called.set()
        self.gate.wait(JOIN_TIMEOUT_S)
        return self.model.predict_proba(texts)


def test_explain_panel_explains_with_every_method_and_exports(trained_clf, tfidf_model, tmp_path):
    text = "the staff was really excellent but the plot was dull"
    panel = explain_panel({"transformer": trained_clf, "tfidf": tfidf_model}, [text, "bad food"])
    assert panel.text.value == text
    for box in panel.method_boxes.values():
        assert not box.disabled
        box.value = True
    panel.shap_max_evals.value = 60
    panel.lime_num_samples.value = 60
    panel.ig_steps.value = 8
    panel.explain_button.click()
    finish(panel)

    assert panel.error is None, panel.error
    assert [e.method for e in panel.explanations] == [
        "shap",
        "lime",
        "integrated-gradients",
        "gradient-x-input",
        "attention",
    ]
    shown = plain_text(panel.highlight.value)
    for word in text.split():
        assert word in shown
    assert panel.highlight.value.count('class="wb-row"') == 5
    assert panel.top_words.outputs and panel.attention.outputs
    assert panel.progress.value == panel.progress.max == 5

    panel.export_path.value = str(tmp_path / "out" / "explanation.html")
    panel.export_button.click()
    page = (tmp_path / "out" / "explanation.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "integrated-gradients" in page and "wrote" in panel.export_status.value


def test_explain_panel_offers_gradients_only_to_workbench_models(trained_clf, tfidf_model):
    panel = explain_panel({"transformer": trained_clf, "tfidf": tfidf_model})
    panel.model.value = "tfidf"
    assert panel.method_boxes["integrated-gradients"].disabled
    assert panel.method_boxes["attention"].disabled
    assert not panel.method_boxes["lime"].disabled
    panel.methods = ["lime", "integrated-gradients"]
    assert panel.methods == ["lime"]
    panel.example.value = ""  # "type your own" leaves the text alone
    panel.text.value = "<b>bold</b> & lovely service"
    panel.lime_num_samples.value = 50
    assert panel.explain()
    assert "<b>bold</b>" not in panel.highlight.value  # user text is escaped...
    assert "<b>bold</b> & lovely service" in plain_text(panel.highlight.value)  # ...and intact


def test_explain_panel_shows_base_values_and_offers_exact_shapley(tfidf_model):
    panel = explain_panel({"tfidf": tfidf_model}, ["the food was great"])
    panel.methods = ["shap", "lime"]
    assert panel.shap_algorithm.value == "partition"  # Owen values unless asked
    panel.shap_algorithm.value = "exact"
    panel.lime_num_samples.value = 50
    assert panel.explain()
    shap_result, lime_result = panel.explanations
    assert shap_result.settings["algorithm"] == "exact"
    assert shap_result.evaluations == 2**4
    shown = plain_text(panel.highlight.value)
    for result in (shap_result, lime_result):
        assert result.base_value_line() in shown
    assert "base value (empty text)" in shown and "LIME's intercept" in shown

    panel.text.value = " ".join(f"word{i}" for i in range(13))
    panel.methods = ["shap"]
    assert panel.explain() is False
    assert "13 words" in panel.error and "partition" in panel.error


def test_explain_panel_shows_errors_instead_of_raising(trained_clf):
    panel = explain_panel({"transformer": trained_clf})
    panel.text.value = "   "
    panel.explain_button.click()
    finish(panel)
    assert "empty" in panel.error and "wb-error" in panel.status.value
    assert panel.explanations == [] and panel.highlight.value == ""
    assert not panel.explain_button.disabled

    panel.text.value = "good food"
    panel.methods = []
    assert panel.explain() is False and "at least one method" in panel.error
    panel.export()  # nothing explained yet
    assert "Explain first" in panel.export_status.value


def test_explain_panel_second_click_while_busy_starts_nothing(trained_clf):
    gated = GatedModel(trained_clf)
    panel = explain_panel({"gated": gated}, ["good food"])
    panel.methods = ["lime"]
    panel.lime_num_samples.value = 30
    panel.explain_button.click()
    assert gated.called.wait(JOIN_TIMEOUT_S)
    assert panel.busy and panel.explain_button.disabled
    panel.explain_button.click()
    gated.gate.set()
    finish(panel)
    assert panel.runs == 1 and len(panel.explanations) == 1


# ---------------------------------------------------------------------- compare panel


class BrokenModel:
    classes_ = None

    def fit(self, texts, labels):
        raise RuntimeError("this model always fails to train")

    def predict_proba(self, texts):  # pragma: no cover - never reached
        raise AssertionError


class GatedFit:
    """A TF-IDF model whose fit waits for a gate."""

    def __init__(self) -> None:
        self.model = TfidfLogisticRegression()
        self.gate = threading.Event()
        self.started = threading.Event()

    def fit(self, texts, labels):
        self.started.set()
        self.gate.wait(JOIN_TIMEOUT_S)
        self.model.fit(texts, labels)
        self.classes_ = self.model.classes_
        return self

    def predict_proba(self, texts):
        return self.model.predict_proba(texts)


def test_compare_panel_runs_fills_tables_figures_and_browser(
    make_corpus, tiny_model_config, tiny_train_config
):
    train, test = labeled(make_corpus(96, seed=5)), labeled(make_corpus(40, seed=6))
    constant = make_pipeline(CountVectorizer(), DummyClassifier(strategy="most_frequent"))
    tiny = TextClassifier(tiny_model_config(), tiny_train_config(num_epochs=2))
    panel = compare_panel(
        train,
        test,
        models=[
            "tfidf-logreg",
            ("tiny-transformer", tiny),
            ("constant", constant),
            ("broken", BrokenModel()),
        ],
        selected=["tfidf-logreg", "tiny-transformer", "constant", "broken"],
        n_bootstrap=100,
    )
    said: list[str] = []
    panel.status.observe(lambda change: said.append(plain_text(change["new"])), names="value")
    panel.run_button.click()
    finish(panel)

    assert panel.error is None, panel.error
    for i, name in enumerate(["tfidf-logreg", "tiny-transformer", "constant", "broken"]):
        assert f"training {name} ({i + 1} of 4)" in said
    assert any(s.startswith("training tiny-transformer (2 of 4): epoch 1, step 1 of") for s in said)
    comparison = panel.comparison
    assert set(comparison.probabilities) == {"tfidf-logreg", "tiny-transformer", "constant"}
    assert comparison.models["tiny-transformer"] is tiny  # the real model, not a wrapper
    board = plain_text(panel.leaderboard.value)
    for name in ("tfidf-logreg", "tiny-transformer", "constant", "broken"):
        assert name in board
    assert "always fails to train" in board and "broken" in panel.status.value
    assert re.search(r"\d\.\d{3} \[\d\.\d{3}, \d\.\d{3}\]", board)  # intervals shown
    assert plain_text(panel.significance.value).count("tfidf-logreg") == 2  # two pairs
    assert panel.leaderboard_plot.outputs and panel.confusion.outputs
    assert panel.progress.value == panel.progress.max == 4

    panel.model_a.value = "tfidf-logreg"
    panel.model_b.value = "constant"
    table = panel.disagreements
    assert len(table) > 0 and panel.disagreement_index.max == len(table) - 1
    panel.disagreement_index.value = panel.disagreement_index.max
    row = table.iloc[-1]
    shown = plain_text(panel.disagreement.value)
    assert row["text"] in shown and "tfidf-logreg" in shown and "constant" in shown

    panel.explain_method.value = "lime"
    panel.explain_button.click()
    finish(panel)
    assert panel.error is None, panel.error
    assert [e.text for e in panel.pair_explanations] == [row["text"]] * 2
    assert "tfidf-logreg · lime" in panel.pair_html.value
    assert "constant · lime" in panel.pair_html.value

    panel.model_b.value = "tfidf-logreg"  # the same model twice: a message, no table
    assert panel.disagreements is None and "two different" in panel.disagreement.value


def test_compare_panel_second_click_while_busy_starts_nothing(make_corpus):
    gated = GatedFit()
    panel = compare_panel(
        labeled(make_corpus(40)),
        labeled(make_corpus(20, seed=1)),
        models=[("gated", gated)],
        n_bootstrap=50,
    )
    panel.run_button.click()
    assert gated.started.wait(JOIN_TIMEOUT_S)
    assert panel.busy and panel.run_button.disabled
    panel.run_button.click()
    assert panel.run(block=False) is False
    gated.gate.set()
    finish(panel)
    assert panel.runs == 1 and panel.error is None
    assert list(panel.comparison.leaderboard["model"]) == ["gated"]
    assert "run a comparison of two or more" in panel.disagreement.value


def test_compare_panel_shows_errors_instead_of_raising(make_corpus):
    panel = compare_panel(labeled(make_corpus(40)), labeled(make_corpus(20, seed=1)))
    panel.model_select.value = ()
    panel.run_button.click()
    finish(panel)
    assert "select at least one model" in panel.error and panel.comparison is None
    assert panel.explain_both() is False and "run a comparison first" in panel.error
    assert not panel.run_button.disabled


def test_train_panel_early_stopping_can_watch_the_validation_loss(small_data):
    panel = tiny_panel(*small_data)
    panel.monitor.value = "loss"
    assert panel.train_config().monitor == "loss"
    panel.epochs.value = 2
    assert panel.train()
    losses = [e["val_loss"] for e in panel.history.epochs]
    assert panel.history.best_epoch == 1 + losses.index(min(losses))


def test_panel_figures_carry_plotlys_javascript_at_most_once(monkeypatch):
    """Issue 11: every redraw of a live curve used to re-send plotly's 4.8 MB bundle (an
    executed notebook 03 of 452 MB); the notebook renderer activates once per kernel."""
    import plotly.graph_objects as go
    import plotly.io as pio
    from plotly.io import _base_renderers

    from workbench.widgets._base import figure_outputs

    shown = []
    monkeypatch.setattr(
        _base_renderers.ipython_display, "display_html", lambda html, raw: shown.append(html)
    )
    monkeypatch.setattr(pio.renderers, "default", "plotly_mimetype+notebook")
    figure = go.Figure(go.Scatter(y=[1, 2, 3]), layout={"title": {"text": "loss"}})
    outputs = [figure_outputs(figure, figure)[0] for _ in range(5)]
    bundles = [output["data"] for output in outputs]
    assert len(shown) == 1, f"plotly.js displayed {len(shown)} times"
    assert all(set(b) >= {"application/vnd.plotly.v1+json", "text/html"} for b in bundles)
    assert all(len(b["text/html"]) < 100_000 for b in bundles)  # a figure, not the library
