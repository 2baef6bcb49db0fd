"""Tests for workbench.widgets.analysis_panel, driven through ``.value`` and ``.click()``.

One tiny transformer is trained here on the embedded reviews (a few seconds), with the
checkpoints TracInCP needs; the panel runs its buttons in the calling thread
(``background=False``) so each click has finished when the next line runs.
"""

from __future__ import annotations

import html
import re

import pytest

from workbench import ModelConfig, TextClassifier, TrainConfig
from workbench.analysis import Examples, Slice, evaluate_slices, suggested_slices
from workbench.analysis.influence import KeepCheckpoints
from workbench.baselines import TfidfLogisticRegression
from workbench.data import load_reviews, load_reviews_table
from workbench.widgets import AnalysisPanel, analysis_panel

N_TRAIN, N_TEST = 400, 160


def plain_text(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


@pytest.fixture(scope="module")
def reviews():
    train, _ = load_reviews()
    table = load_reviews_table("test").sample(N_TEST, random_state=0).reset_index(drop=True)
    return train.texts[:N_TRAIN], train.labels[:N_TRAIN], table


@pytest.fixture(scope="module")
def trained(reviews):
    texts, labels, _ = reviews
    clf = TextClassifier(
        ModelConfig(d_model=16, num_heads=2, num_layers=1, d_ff=32, max_length=48, dropout=0.0),
        TrainConfig(
            num_epochs=2, batch_size=32, learning_rate=5e-3, seed=0, device="cpu", cpu_threads=1
        ),
    )
    keeper = KeepCheckpoints(clf)
    clf.fit(texts, labels, val_size=0.0, callbacks=[keeper], progress=False)
    return clf, keeper


@pytest.fixture(scope="module")
def panel(trained, reviews) -> AnalysisPanel:
    clf, keeper = trained
    texts, labels, table = reviews
    return analysis_panel(
        clf,
        table,
        train_texts=texts,
        train_labels=labels,
        checkpoints=keeper,
        background=False,
        max_texts=6,
        max_cases=8,
    )


def test_a_picked_slice_shows_the_metrics_of_evaluate_slices(panel, trained, reviews):
    clf, _ = trained
    examples = Examples.from_frame(reviews[2], model=clf, progress=False)
    family = [*suggested_slices(examples), Slice.misclassified()]
    expected = evaluate_slices(examples, family, n_bootstrap=panel.n_bootstrap, progress=False)

    names = [name for name, _ in panel.slice_choice.options]
    assert "domain = apps" in names and "phenomenon = negation" in names
    panel.slice_choice.value = dict(panel.slice_choice.options)["domain = apps"]
    panel.measure_button.click()
    assert panel.error is None, panel.error
    shown, want = panel.slice_result, expected["domain = apps"]
    assert (shown.n, shown.accuracy, shown.accuracy_ci) == (want.n, want.accuracy, want.accuracy_ci)
    assert (shown.macro_f1, shown.ece, shown.p_value_holm) == (
        want.macro_f1,
        want.ece,
        want.p_value_holm,
    )
    view = plain_text(panel.slice_view.value)
    assert f"{want.accuracy:.3f} [{want.accuracy_ci.low:.3f}, {want.accuracy_ci.high:.3f}]" in view
    assert panel.rest_result.n == N_TEST - want.n
    assert panel.rest_result.accuracy == pytest.approx(want.rest_accuracy)
    # its misclassified examples, offered for the last tab
    wrong = [i for i in range(N_TEST) if not examples.correct("")[i]]
    in_slice = [i for i in wrong if reviews[2].domain[i] == "apps"]
    assert [value for _, value in panel.slice_errors.options] == in_slice
    if in_slice:
        panel.slice_errors.value = in_slice[0]
        assert panel.example_index.value == in_slice[0]

    # a word of one's own: a family of one
    panel.slice_query.value = "not"
    assert panel.slice_choice.value[0] == "__custom__"
    panel.measure_button.click()
    own = evaluate_slices(
        examples, [Slice.contains_word("not")], n_bootstrap=panel.n_bootstrap, progress=False
    ).results[0]
    assert (panel.slice_result.n, panel.slice_result.accuracy) == (own.n, own.accuracy)
    assert panel.slice_result.p_value_holm == own.p_value


def test_discovery_adds_the_found_words_to_the_slices(panel):
    panel.min_support.value = 8
    panel.discover_button.click()
    assert panel.error is None, panel.error
    found = [name for name, value in panel.slice_choice.options if value[0] == "discovered"]
    assert len(found) == len(panel.discovered.results)
    if found:
        first = panel.discovered.results[0]
        panel.measure_button.click()  # the first found word is selected
        assert panel.slice_result.name == first.name
        assert panel.slice_result.p_value_holm == first.p_value_holm


def test_global_words_estimate_then_compute(panel):
    assert panel.words_method.options[0] == "integrated-gradients"
    panel.ig_steps.value = 4
    panel.estimate_button.click()
    assert "s per text" in plain_text(panel.words_estimate.value), panel.error
    panel.words_button.click()
    assert panel.error is None, panel.error
    assert panel.attributions.n_texts == 6 and panel.attributions.method == "integrated-gradients"
    assert panel.words_figure.outputs
    assert "towards" in plain_text(panel.words_view.value)


def test_behaviour_run_shows_pass_rates_and_failing_cases(panel):
    panel.behaviour_button.click()
    assert panel.error is None, panel.error
    table = plain_text(panel.behaviour_table.value)
    frame = panel.suite.to_frame()
    for name in frame["name"]:
        assert name in table
    assert panel.behaviour_test.options, "a tiny model fails some behavioural test"
    name = panel.behaviour_test.options[0][1]
    panel.behaviour_test.value = name
    failing = panel.suite.failures(name)
    assert failing["expected"].astype(str).iloc[0] in plain_text(panel.failures_view.value)


def test_a_point_picked_on_the_map_is_explained(panel):
    panel.color_by.value = "error"
    panel.map_button.click()
    assert panel.error is None, panel.error
    assert panel.map_output.outputs
    assert len(panel.map_point.options) == N_TEST
    label, row = panel.map_point.options[7]
    assert label.startswith("#7 ")
    panel.map_point.value = row
    assert panel.example_index.value == row
    panel.example_method.value = "integrated-gradients"  # shap's first import takes seconds
    panel.ig_steps.value = 4
    panel.map_explain_button.click()
    assert panel.error is None, panel.error
    assert panel.tabs.selected_index == 4
    assert panel.explanation.text == panel.examples.texts[row]
    assert panel.examples.texts[row].split()[0] in plain_text(panel.explanation_view.value)
    assert panel.example_errors == {}, panel.example_errors
    assert panel.flip is not None and "wb-flip" in panel.flip_view.value
    assert len(panel.neighbours) == 5 and "training text" in panel.neighbours_view.value
    assert panel.influence_result.scores.shape == (1, N_TRAIN)
    assert "approximation" in plain_text(panel.influence_view.value)


def test_colouring_by_the_measured_slice(panel, trained, reviews):
    fresh = analysis_panel(trained[0], reviews[2], background=False)
    fresh.color_by.value = "slice"
    assert fresh.draw_map() is False and "measure a slice first" in fresh.error

    panel.slice_choice.value = dict(panel.slice_choice.options)["domain = films"]
    panel.measure()
    panel.color_by.value = "slice"
    assert panel.draw_map(), panel.error
    assert panel.map_output.outputs  # the figure, as the front end renders it
    figure = panel.map.figure(color_by=panel.slice_result.slice)
    inside = [t for t in figure.data if t.name.startswith("in domain = films")]
    films = sorted(i for i, d in enumerate(reviews[2].domain) if d == "films")
    assert len(inside) == 1 and sorted(inside[0].customdata) == films


def test_a_pipeline_gets_no_gradients_and_influence_is_refused(reviews):
    texts, labels, _ = reviews
    tfidf = TfidfLogisticRegression().fit(texts, labels)
    odd = "<b>bold</b> & a truly great place"
    panel = analysis_panel(
        tfidf,
        [odd, "awful, never again", "great food", "not good at all"],
        ["positive", "negative", "positive", "negative"],
        train_texts=texts,
        train_labels=labels,
        background=False,
    )
    for offered in (panel.words_method.options, panel.example_method.options):
        assert "integrated-gradients" not in offered and "gradient-x-input" not in offered
        assert "shap" in offered and "lime" in offered
    assert "<b>bold</b>" not in panel.example_view.value  # user text escaped
    assert odd in plain_text(panel.example_view.value)
    panel.show_influence.value = True
    panel.show_flip.value = False
    panel.example_method.value = "lime"
    panel.lime_num_samples.value = 50
    assert panel.explain_example()
    refusal = panel.example_errors["influential training examples"]
    assert "no torch network" in refusal
    assert "no torch network" in plain_text(panel.influence_view.value)
    assert "<b>bold</b>" not in panel.explanation_view.value
    assert panel.neighbours is not None  # the other parts still ran


def test_errors_are_shown_not_raised(panel):
    panel.slice_choice.value = ("__custom__", 0)
    panel.slice_query.value = ""
    panel.measure_button.click()
    assert "type a word" in panel.error and "wb-error" in panel.status.value
    assert not panel.measure_button.disabled

    panel.slice_kind.value = "regex"
    panel.slice_query.value = "(unclosed"
    assert panel.measure() is False
    assert "not a valid regular expression" in panel.error
    panel.slice_kind.value = "word"

    assert panel.pick(10**6) is False and "no example" in panel.error
    assert panel.pick(3) and panel.example_index.value == 3
