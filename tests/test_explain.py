"""Tests for workbench.explain: shared word units, additivity, planted features, bad input."""

import html
import itertools
import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from workbench import ModelConfig, TextClassifier, TrainConfig
from workbench.artifacts import load_model
from workbench.baselines import TfidfLogisticRegression
from workbench.cli import main
from workbench.data import PLANTED_WORDS, planted_dataset
from workbench.errors import InputError
from workbench.explain import (
    METHODS,
    FailedExplanation,
    ModelPredictor,
    explain,
    remove_words,
    supported_methods,
    unsupported_message,
    word_units,
)
from workbench.explain.base import MASK_SENTINEL, truncation_note
from workbench.explain.gradients import attention_rollout
from workbench.tokenizer import split_words
from workbench.widgets import explain_panel


def planted_corpus(n: int = 450, seed: int = 0) -> tuple[list[str], list[str]]:
    data = planted_dataset(n, seed)
    return data.texts, data.labels


@pytest.fixture(scope="module")
def planted_model() -> TextClassifier:
    texts, labels = planted_corpus()
    clf = TextClassifier(
        ModelConfig(d_model=32, num_heads=2, num_layers=1, d_ff=64, max_length=16, dropout=0.0),
        TrainConfig(num_epochs=6, learning_rate=3e-3, seed=0),
    )
    return clf.fit(texts, labels, val_size=0, progress=False)


@pytest.fixture(scope="module")
def sklearn_model():
    texts, labels = planted_corpus()
    model = make_pipeline(TfidfVectorizer(token_pattern=r"\w+"), LogisticRegression(C=10))
    return model.fit(texts, labels)


TEXT = "the movie was zork on this very plot"
SETTINGS = {
    "shap": {"max_evals": 300},
    "lime": {"num_samples": 300},
    "integrated-gradients": {"n_steps": 32},
}


def test_planted_model_learned_the_rule(planted_model):
    texts, labels = planted_corpus(100, seed=1)
    assert planted_model.score(texts, labels) == 1.0


@pytest.mark.parametrize("method", list(METHODS))
def test_every_method_reports_the_same_word_units(planted_model, method):
    result = explain(planted_model, TEXT, method, **SETTINGS.get(method, {}))
    assert result.words == word_units(planted_model, TEXT) == split_words(TEXT)
    assert all(TEXT[w.start : w.end] == w.text for w in result.words)
    assert result.attributions.shape == (len(result.words), 3)
    assert result.classes == ["negative", "neutral", "positive"]
    assert np.allclose(result.probabilities, planted_model.predict_proba([TEXT])[0], atol=1e-6)
    assert result.evaluations >= 1


@pytest.mark.parametrize("method", ["shap", "lime", "integrated-gradients"])
def test_planted_word_ranks_first(planted_model, method):
    for text, cue in [(TEXT, "zork"), ("with a blick and the cast it was", "blick")]:
        result = explain(planted_model, text, method, **SETTINGS.get(method, {}))
        assert result.predicted_label == PLANTED_WORDS[cue]
        assert result.top_words(1)[0][0].text == cue


def test_shap_values_add_up_to_the_probability(planted_model):
    result = explain(planted_model, TEXT, "shap", max_evals=300)
    assert np.allclose(result.base_values + result.attributions.sum(0), result.probabilities)
    # base value = the model's output with every word deleted (the absence convention)
    assert np.allclose(result.base_values, planted_model.predict_proba([""])[0], atol=1e-9)


@pytest.mark.parametrize("masks_per_call", [10, 64])
def test_shap_with_dense_masks_equals_shaps_own_partition_explainer(planted_model, masks_per_call):
    import shap

    from workbench.explain.perturbation import _WordUnitTokenizer

    result = explain(planted_model, TEXT, "shap", max_evals=300, masks_per_call=masks_per_call)
    masker = shap.maskers.Text(
        _WordUnitTokenizer(planted_model), mask_token=MASK_SENTINEL, collapse_mask_token=False
    )
    reference = shap.explainers.Partition(ModelPredictor(planted_model), masker)(
        [TEXT], max_evals=300, batch_size=masks_per_call, silent=True
    )
    np.testing.assert_allclose(result.attributions, reference.values[0], atol=1e-12)
    assert result.settings["masks_per_call"] == masks_per_call


class WordGame:
    """A hand-made model: p(positive) = 0.2 + the weight of every term whose words all occur.

    Its Shapley values are known in closed form: a term's weight is shared equally among
    its words, and a word in no term gets 0.
    """

    classes_ = np.array(["negative", "positive"])

    def __init__(self, terms: dict[frozenset[str], float]) -> None:
        self.terms = terms

    def predict_proba(self, texts) -> np.ndarray:
        present = [set(str(t).split()) for t in texts]
        p = np.array([0.2 + sum(w for ws, w in self.terms.items() if ws <= s) for s in present])
        return np.column_stack([1 - p, p])


def brute_force_shapley(model, text: str) -> np.ndarray:
    """The textbook definition: each word's marginal contribution averaged over orderings."""
    words = split_words(text)
    n = len(words)

    def value(kept: set[int]) -> np.ndarray:
        keep = [i in kept for i in range(n)]
        return model.predict_proba([text if all(keep) else remove_words(words, keep)])[0]

    phi = np.zeros((n, len(model.classes_)))
    for order in itertools.permutations(range(n)):
        kept: set[int] = set()
        for i in order:
            before = value(kept)
            kept.add(i)
            phi[i] += value(kept) - before
    return phi / math.factorial(n)


def test_exact_shap_is_efficient_and_says_which_values_it_holds(planted_model):
    result = explain(planted_model, TEXT, "shap", algorithm="exact")
    assert result.settings["algorithm"] == "exact"
    assert result.settings["values"] == "Shapley (exact)"
    assert result.evaluations == 2 ** len(result.words)  # every coalition, counted
    np.testing.assert_allclose(
        result.base_values + result.attributions.sum(0), result.probabilities, atol=1e-12
    )
    # p("") scored alone or in a batch of padded texts: equal up to float32 rounding
    np.testing.assert_allclose(result.base_values, planted_model.predict_proba([""])[0], atol=1e-6)
    assert result.top_words(1)[0][0].text == "zork"
    default = explain(planted_model, TEXT, "shap", max_evals=300)
    assert default.settings["algorithm"] == "partition"
    assert default.settings["values"].startswith("Owen")


def test_exact_shap_symmetry_and_dummy_on_a_hand_made_model():
    model = WordGame({frozenset({"great", "fun"}): 0.3, frozenset({"cast"}): 0.1})
    result = explain(model, "great cast the fun", "shap", algorithm="exact")
    positive = result.for_class("positive")
    # great and fun are interchangeable (symmetry), "the" changes nothing (dummy)
    np.testing.assert_allclose(positive, [0.15, 0.1, 0.0, 0.15], atol=1e-12)
    np.testing.assert_allclose(result.for_class("negative"), -positive, atol=1e-12)
    np.testing.assert_allclose(result.base_values, [0.8, 0.2])


def test_exact_shap_equals_the_permutation_formula_on_four_words(planted_model):
    text = "with zork the plot"
    result = explain(planted_model, text, "shap", algorithm="exact")
    # atol: the network scores a text alone or in a padded batch equal up to float32 rounding
    np.testing.assert_allclose(
        result.attributions, brute_force_shapley(planted_model, text), atol=1e-6
    )


def test_exact_shap_refuses_long_texts_and_unknown_algorithms(planted_model):
    thirteen = "a b c d e f g h i j k l m"
    with pytest.raises(InputError, match=r"13 words .*algorithm='partition'"):
        explain(planted_model, thirteen, "shap", algorithm="exact")
    with pytest.raises(InputError, match="max_exact_words=4"):
        explain(planted_model, TEXT, "shap", algorithm="exact", max_exact_words=4)
    with pytest.raises(InputError, match="'partition'.*'exact'"):
        explain(planted_model, TEXT, "shap", algorithm="kernel")


def test_owen_values_of_the_default_explainer_differ_from_exact_shapley():
    # A three-word interaction: Shapley shares it equally; Owen values share it along
    # shap's clustering of the words, first between clusters, then within them.
    model = WordGame({frozenset({"great", "fun", "cast"}): 0.6})
    exact = explain(model, "great fun cast", "shap", algorithm="exact")
    owen = explain(model, "great fun cast", "shap")
    np.testing.assert_allclose(exact.for_class("positive"), [0.2, 0.2, 0.2], atol=1e-12)
    for result in (exact, owen):
        np.testing.assert_allclose(result.base_values + result.attributions.sum(0), [0.2, 0.8])
    assert np.abs(owen.attributions - exact.attributions).max() > 0.01


@pytest.mark.parametrize(
    "method, says",
    [
        ("shap", "base value (empty text): p("),
        ("lime", "base value (LIME's intercept"),
        ("integrated-gradients", "base value f(baseline: "),
        ("gradient-x-input", None),
        ("attention", None),
    ],
)
def test_every_explanation_carries_its_base_value(planted_model, method, says):
    result = explain(planted_model, TEXT, method, **SETTINGS.get(method, {}))
    line = result.base_value_line()
    if says is None:
        assert result.base_values is None and line is None
        return
    assert result.base_values.shape == (3,)
    assert line.startswith(says) and result.predicted_label in line
    assert result.base_value_line("neutral") != line
    with pytest.raises(InputError, match="no class"):
        result.base_value_line("nonsense")
    assert json.loads(json.dumps(result.to_dict()))["base_values"].keys() == {
        "negative",
        "neutral",
        "positive",
    }


def test_lime_base_value_is_its_local_models_intercept():
    # On a model additive in word presence the local linear model is right, so its
    # intercept estimates p("") and the weights the word effects; only estimates (LIME
    # fits a ridge regression on random deletions), so intercept + weights is near the
    # prediction, not equal to it.
    model = WordGame({frozenset({"great"}): 0.3, frozenset({"cast"}): 0.1})
    result = explain(model, "great cast the fun movie", "lime", num_samples=1000)
    assert result.settings["units"] == "probability"
    assert result.base_values[1] == pytest.approx(0.2, abs=0.03)
    np.testing.assert_allclose(result.for_class("positive"), [0.3, 0.1, 0, 0, 0], atol=0.03)
    local = result.base_values + result.attributions.sum(0)
    np.testing.assert_allclose(local, result.probabilities, atol=0.03)
    assert "intercept" in result.base_value_line()


def test_lime_records_the_kernel_width_it_passed_to_lime(monkeypatch):
    import lime.lime_text

    widths = []

    class Recording(lime.lime_text.LimeTextExplainer):
        def __init__(self, **kwargs):
            widths.append(kwargs.get("kernel_width"))
            super().__init__(**kwargs)

    monkeypatch.setattr(lime.lime_text, "LimeTextExplainer", Recording)
    model = WordGame({frozenset({"great"}): 0.3})
    result = explain(model, "great cast", "lime", num_samples=20)
    assert widths == [result.settings["kernel_width"]]


def test_integrated_gradients_is_complete(planted_model):
    result = explain(planted_model, TEXT, "integrated-gradients", n_steps=64)
    logits = planted_model.predict_logits([TEXT])[0]
    assert np.allclose(result.base_values + result.attributions.sum(0), logits, atol=0.05)
    assert max(result.settings["convergence_delta"]) < 0.05


def test_lime_is_reproducible_with_a_seed(planted_model):
    first = explain(planted_model, TEXT, "lime", num_samples=200, seed=3)
    again = explain(planted_model, TEXT, "lime", num_samples=200, seed=3)
    other = explain(planted_model, TEXT, "lime", num_samples=200, seed=4)
    assert np.array_equal(first.attributions, again.attributions)
    assert not np.array_equal(first.attributions, other.attributions)


def test_attention_is_labelled_and_rollout_rows_sum_to_one(planted_model):
    result = explain(planted_model, TEXT, "attention")
    assert result.kind == "attention"
    assert result.attention.shape == (1, 2, len(result.words) + 1, len(result.words) + 1)
    assert np.allclose(result.attention.sum(-1), 1.0)
    assert np.allclose(result.attributions[:, 0], result.attributions[:, 1])
    rollout = attention_rollout(result.attention)
    assert np.allclose(rollout.sum(-1), 1.0)


def test_rollout_of_identity_attention_is_identity():
    attention = np.broadcast_to(np.eye(4), (3, 2, 4, 4))
    assert np.allclose(attention_rollout(attention), np.eye(4))


@pytest.mark.parametrize("method", ["shap", "lime"])
def test_perturbation_methods_work_for_any_predict_proba_model(sklearn_model, method):
    result = explain(sklearn_model, TEXT, method, **SETTINGS[method])
    assert result.words == split_words(TEXT)
    assert result.top_words(1)[0][0].text == "zork"


@pytest.mark.parametrize("method", ["integrated-gradients", "gradient-x-input", "attention"])
def test_gradient_methods_explain_why_they_need_the_transformer(sklearn_model, method):
    with pytest.raises(InputError, match="TextClassifier"):
        explain(sklearn_model, TEXT, method)


@pytest.fixture(scope="module")
def bag_model() -> TextClassifier:
    texts, labels = planted_corpus(150)
    clf = TextClassifier(
        ModelConfig(architecture="bag-of-embeddings", d_model=16, max_length=16),
        TrainConfig(num_epochs=1, seed=0),
    )
    return clf.fit(texts, labels, val_size=0, progress=False)


GRADIENT_METHODS = ["integrated-gradients", "gradient-x-input"]


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("sklearn_model", ["shap", "lime"]),
        ("bag_model", ["shap", "lime", *GRADIENT_METHODS]),
        ("planted_model", list(METHODS)),
    ],
)
def test_explain_and_the_panel_agree_on_what_a_model_supports(request, fixture, expected):
    model = request.getfixturevalue(fixture)
    assert supported_methods(model) == expected
    assert unsupported_message(model, expected) is None
    panel = explain_panel({"m": model}, [TEXT], background=False)
    assert [name for name, box in panel.method_boxes.items() if not box.disabled] == expected
    refused = [m for m in METHODS if m not in expected]
    if refused:
        assert html.unescape(panel.status.value).count(unsupported_message(model, refused, "m"))
    else:
        assert "every method is available" in panel.status.value
    panel.methods = []
    for method in refused:
        message = unsupported_message(model, [method])
        assert method in message and "use shap" in message
        with pytest.raises(InputError) as raised:
            explain(model, TEXT, method)
        assert str(raised.value) == message
        with pytest.raises(InputError) as raised:  # a list: said once, before any text runs
            explain(model, [TEXT, TEXT], method, errors="record", progress=False)
        assert str(raised.value) == message
        panel.method_boxes[method].value = True  # even a box ticked behind its back
        assert panel.explain() is False
        assert panel.error == unsupported_message(model, [method], "m")
        panel.method_boxes[method].value = False


def test_cli_refuses_an_unsupported_method_with_the_same_message(bag_model, tmp_path, capsys):
    texts, labels = planted_corpus(150)
    tfidf = TfidfLogisticRegression().fit(texts, labels)
    for model, method in [(tfidf, "integrated-gradients"), (bag_model, "attention")]:
        artifact = model.save(tmp_path / type(model).__name__)
        message = unsupported_message(load_model(artifact), [method])
        assert main(["explain", "--model", str(artifact), "--method", method, TEXT]) == 2
        assert capsys.readouterr().err == f"workbench: error: {message}\n"
        table = tmp_path / "texts.csv"
        pd.DataFrame({"text": [TEXT, "the film"]}).to_csv(table, index=False)
        out = tmp_path / "out.jsonl"
        argv = ["explain", "--model", str(artifact), "--method", method]
        assert main([*argv, "--data", str(table), "--jsonl", str(out)]) == 2
        assert capsys.readouterr().err == f"workbench: error: {message}\n"


def test_batch_of_texts_returns_one_explanation_each(planted_model):
    texts = [TEXT, "blick on the film"]
    results = explain(planted_model, texts, "gradient-x-input", progress=False)
    assert [r.text for r in results] == texts


def test_predictor_batches_and_scores_each_distinct_text_once():
    calls = []

    class Counting:
        classes_ = np.array(["a", "b"])

        def predict_proba(self, texts):
            calls.append(list(texts))
            return np.tile([0.25, 0.75], (len(texts), 1))

    predictor = ModelPredictor(Counting(), batch_size=2)
    out = predictor(["x y", "x  y", "z", "x y", "w", "v"])
    assert out.shape == (6, 2)
    assert predictor.evaluations == 4  # "x y" and "x  y" fold to one text
    assert [len(c) for c in calls] == [2, 2]
    predictor(["z", "x y"])
    assert predictor.evaluations == 4


def test_absence_is_deletion():
    words = split_words("not bad, at all")
    assert remove_words(words, [False, True, True, True, True]) == "bad , at all"
    assert remove_words(words, [False] * 5) == ""


@pytest.mark.parametrize("text", ["", "   \n\t"])
def test_blank_text_is_refused(planted_model, text):
    with pytest.raises(InputError, match="empty"):
        explain(planted_model, text, "shap")


def test_long_text_is_truncated_and_says_so(planted_model):
    text = " ".join(["the movie"] * 20 + ["zork"])  # 41 words, the model reads 15
    for method in ["shap", "integrated-gradients"]:
        result = explain(planted_model, text, method, **SETTINGS[method])
        assert len(result.words) == 41
        assert result.settings["visible_words"] == 15
        assert np.all(result.attributions[15:] == 0)
        assert truncation_note(result.words, 15) in result.notes  # one wording for all
        assert "first 15 words" in truncation_note(result.words, 15)


def test_unknown_words_emoji_and_other_scripts_get_explained(planted_model):
    text = "qwerty 😀 好 Привет zork"
    result = explain(planted_model, text, "shap", max_evals=200)
    assert [w.text for w in result.words] == ["qwerty", "😀", "好", "Привет", "zork"]
    only_unknown = explain(planted_model, "qwerty asdf", "integrated-gradients")
    assert any("unknown" in note for note in only_unknown.notes)


def test_markup_in_text_is_explained_as_words_and_rendered_inert(planted_model, tmp_path):
    text = 'zork <script>alert(1)</script> "><img src=x onerror=alert(1)>'
    result = explain(planted_model, text, "lime", num_samples=200)
    page = result.to_html(tmp_path / "e.html").read_text()
    assert "<script" not in page and "<img" not in page
    assert text in html.unescape(re.sub(r"<[^>]*>", "", page))  # shown as text, escaped
    assert json.loads(result.to_json(tmp_path / "e.json").read_text())["text"] == text


def test_cli_explain_writes_json_and_html(planted_model, tmp_path, capsys):
    artifact = planted_model.save(tmp_path / "model")
    out_json, out_html = tmp_path / "out.json", tmp_path / "out.html"
    code = main(
        ["explain", "--model", str(artifact), "--method", "lime", "--num-samples", "200",
         "--json", str(out_json), "--html", str(out_html), TEXT]
    )  # fmt: skip
    assert code == 0
    payload = json.loads(out_json.read_text())
    assert {
        "words",
        "attributions",
        "predicted_label",
        "probabilities",
        "method",
        "evaluations",
    } <= set(payload)
    assert payload["words"][3] == {"text": "zork", "start": 14, "end": 18}
    assert set(payload["attributions"]) == {"negative", "neutral", "positive"}
    assert payload["predicted_label"] == "positive"
    printed = capsys.readouterr().out
    assert "zork" in printed and "intercept" in printed  # LIME's base value line
    assert out_html.read_text().startswith("<!DOCTYPE html>")


def test_cli_explain_exact_shapley_prints_the_base_value(planted_model, tmp_path, capsys):
    artifact = planted_model.save(tmp_path / "model")
    code = main(["explain", "--model", str(artifact), "--shap-algorithm", "exact", TEXT])
    assert code == 0
    printed = capsys.readouterr().out
    assert "base value (empty text)" in printed
    assert f"{2 ** len(split_words(TEXT))} model evaluations" in printed


def test_cli_explain_bad_input_exits_2(planted_model, tmp_path, capsys):
    artifact = planted_model.save(tmp_path / "model")
    assert main(["explain", "--model", str(artifact), "   "]) == 2
    assert capsys.readouterr().err.startswith("workbench: error:")


def test_cli_explains_a_table_to_json_lines_in_order(planted_model, tmp_path, capsys):
    artifact = planted_model.save(tmp_path / "model")
    texts = planted_corpus(3, seed=4)[0]
    table = tmp_path / "texts.csv"
    pd.DataFrame({"review": texts}).to_csv(table, index=False)
    out = tmp_path / "out" / "explanations.jsonl"
    code = main(
        ["explain", "--model", str(artifact), "--method", "gradient-x-input",
         "--data", str(table), "--text-col", "review", "--jsonl", str(out)]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["text"] for r in records] == texts
    expected = explain(planted_model, texts[1], "gradient-x-input")
    np.testing.assert_allclose(records[1]["attributions"]["positive"], expected.attributions[:, 2])
    assert f"3 gradient-x-input explanations written to {out}" in capsys.readouterr().out


@pytest.mark.parametrize(
    "extra, message",
    [
        ([], "give either TEXT or --data FILE"),
        (["a text", "--data", "t.csv"], "give either TEXT or --data FILE"),
        (["a text", "--jsonl", "o.jsonl"], "--jsonl goes with --data"),
        (["--data", "t.csv"], "say where to write them with --jsonl OUT"),
        (["--data", "t.csv", "--jsonl", "o.jsonl", "--html", "o.html"], "with --data use --jsonl"),
    ],
)
def test_cli_explain_input_combinations_are_checked(
    planted_model, tmp_path, capsys, extra, message
):
    artifact = planted_model.save(tmp_path / "model")
    assert main(["explain", "--model", str(artifact), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("workbench: error:") and message in err


def test_scorecard_scores_every_method_on_every_text(planted_model):
    from workbench.explain import scorecard

    texts = planted_corpus(4, seed=5)[0]
    card = scorecard(
        planted_model,
        texts,
        ["shap", "lime", "attention"],
        settings={"shap": {"max_evals": 150}, "lime": {"num_samples": 150}},
        random_repeats=3,
        progress=False,
    )
    assert len(card.per_text) == 12
    summary = card.summary()
    assert list(summary.index) == ["shap", "lime", "attention"]
    assert {"comprehensiveness", "random_comprehensiveness", "median_seconds"} <= set(summary)
    assert np.isfinite(summary.to_numpy()).all()
    matrix = card.agreement()
    assert np.allclose(np.diag(matrix), 1.0) and np.allclose(matrix, matrix.T)
    # on the planted texts with a cue, SHAP's top word deletes the decision
    assert (
        summary.loc["shap", "comprehensiveness"] > summary.loc["shap", "random_comprehensiveness"]
    )


def test_shap_explains_a_one_word_text(planted_model):
    # shap's Partition explainer raises on one word; its value is p(text) - p("").
    result = explain(planted_model, "zork", "shap")
    empty = planted_model.predict_proba([""])[0]
    np.testing.assert_allclose(result.base_values, empty, atol=1e-6)  # batched vs alone
    np.testing.assert_allclose(result.attributions[0], result.probabilities - result.base_values)


# ------------------------------------------------------------------ hostile input (issue 14)
@pytest.mark.parametrize("method", list(METHODS))
@pytest.mark.parametrize("character", ["\x00", "\x1c", "\x7f"])
def test_issue14_case12_control_characters_are_refused_clearly(planted_model, method, character):
    """Issue 14 case 12: a NUL collided with the mask placeholder (LIME raised "found 3
    words where the tokenizer found 4", SHAP explained a different text); U+001C is
    whitespace to Python but a word to the tokenizer. Every method refuses them alike."""
    text = f"the movie{character} was zork"
    with pytest.raises(InputError, match=rf"control character U\+{ord(character):04X} at "):
        explain(planted_model, text, method)
    assert MASK_SENTINEL == "\x00"  # the placeholder is what check_text refuses


def test_issue14_case12_shap_explains_exactly_the_text_the_model_reads(planted_model):
    """With tabs, line breaks, doubled spaces and symbols (all allowed), SHAP's prediction
    and its base value plus attributions equal the model's own probability of the text."""
    text = "the\tmovie\n\nwas  zork ; on this\r\nplot !"
    result = explain(planted_model, text, "shap")
    model_p = planted_model.predict_proba([text])[0]
    np.testing.assert_allclose(result.probabilities, model_p, atol=1e-6)
    np.testing.assert_allclose(result.base_values + result.attributions.sum(0), model_p, atol=1e-6)


def test_issue14_case13_text_that_is_not_utf8_is_refused(planted_model):
    """Issue 14 case 13: a lone surrogate (an undecodable byte) gave a TypeError."""
    with pytest.raises(InputError, match=r"not valid UTF-8 \(byte 0xff at character 4\)"):
        explain(planted_model, "bad \udcff", "integrated-gradients")


@pytest.mark.parametrize(
    ("method", "settings", "message"),
    [
        ("integrated-gradients", {"n_steps": 0}, r"n_steps \(CLI: --steps\) must be .* at least 1"),
        ("lime", {"num_samples": 0}, r"num_samples must be a whole number of at least 2"),
        ("lime", {"num_samples": 1}, r"num_samples must be a whole number of at least 2"),
        ("lime", {"seed": -1}, r"seed must be a whole number of at least 0"),
        (
            "shap",
            {"max_evals": 1},
            r"max_evals must be a whole number of at least 3, got 1: shap's",
        ),
        ("shap", {"max_evals": 2.5}, r"max_evals must be a whole number"),
        ("shap", {"masks_per_call": 0}, r"masks_per_call must be"),
        ("shap", {"batch_size": 0}, r"batch_size must be a whole number of at least 1"),
    ],
)
def test_issue14_case14_bad_budgets_are_refused(planted_model, method, settings, message):
    """Issue 14 case 14: --steps 0, --num-samples 0 gave tracebacks; --max-evals 1 gave
    every word the same value without a word."""
    with pytest.raises(InputError, match=message):
        explain(planted_model, TEXT, method, **settings)


def test_issue14_case14_small_budgets_are_noted(planted_model):
    """The least budget that works still says when it cannot tell the words apart."""
    shap_result = explain(planted_model, TEXT, "shap", max_evals=3)
    assert any("max_evals=3 ran out before every word" in n for n in shap_result.notes)
    assert not any("max_evals" in n for n in explain(planted_model, TEXT, "shap").notes)
    lime_result = explain(planted_model, TEXT, "lime", num_samples=4)
    assert any("num_samples=4 is not more than the 8 words" in n for n in lime_result.notes)
    assert explain(planted_model, TEXT, "lime", num_samples=300).notes == []


def test_issue14_case16_explain_says_what_it_takes(planted_model):
    """Issue 14 case 16: explain(clf, 42) and an unfitted model gave TypeError and
    AttributeError: classes_."""
    with pytest.raises(InputError, match="text must be a string or a list of strings, got int"):
        explain(planted_model, 42)
    with pytest.raises(InputError, match="must all be strings; item 1 is int"):
        explain(planted_model, ["fine", 3])
    for method in METHODS:
        with pytest.raises(InputError, match=r"TextClassifier is not fitted .* fit\(\) or load"):
            explain(TextClassifier(), TEXT, method)
    with pytest.raises(InputError, match="not fitted"):
        ModelPredictor(TextClassifier())


def test_issue14_case11_errors_record_keeps_the_other_explanations(planted_model):
    """Issue 14 case 11: in a batch, a failing text gets a FailedExplanation in its place
    and the rest are explained."""
    texts = [TEXT, "the\x00film", "blick on the film"]
    with pytest.raises(InputError, match="control character"):
        explain(planted_model, texts, "gradient-x-input", progress=False)
    results = explain(planted_model, texts, "gradient-x-input", progress=False, errors="record")
    assert [r.text for r in results] == texts
    assert isinstance(results[1], FailedExplanation)
    assert "control character U+0000" in results[1].to_dict()["error"]
    assert results[0].method == results[2].method == "gradient-x-input"
