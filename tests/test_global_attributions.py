"""Global attributions (workbench.analysis.word_attributions): the aggregation maths, the
linear model whose coefficients they must recover, batched integrated gradients, and the
bad inputs of issue 12 (a model without gradients, texts without labels)."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
from scipy import stats

from workbench.analysis import (
    Examples,
    aggregate_attributions,
    batched_integrated_gradients,
    compare_with_linear,
    global_attributions,
    linear_coefficients,
)
from workbench.analysis import word_attributions as module
from workbench.baselines import TfidfLogisticRegression
from workbench.errors import InputError
from workbench.explain import Explanation, explain
from workbench.explain.base import FailedExplanation
from workbench.tokenizer import split_words

CLASSES = ["neg", "pos"]


def _explanation(text: str, towards_pos: list[float], predicted: str = "pos") -> Explanation:
    """A hand-made explanation: the attribution of each word towards "pos", and its
    negation towards "neg" (as for SHAP on two classes)."""
    words = split_words(text)
    assert len(words) == len(towards_pos)
    values = np.asarray(towards_pos, dtype=float)
    p_pos = 0.8 if predicted == "pos" else 0.2
    return Explanation(
        text=text,
        words=words,
        classes=CLASSES,
        attributions=np.stack([-values, values], axis=1),
        probabilities=np.array([1 - p_pos, p_pos]),
        method="shap",
        settings={"units": "probability", "visible_words": len(words)},
        base_values=np.array([0.5, 0.5]),
    )


HAND_MADE = [
    _explanation("Good film , good cast", [0.4, 0.0, 0.1, 0.2, -0.1]),
    _explanation("good plot", [0.3, -0.2]),
    _explanation("bad film", [-0.5, 0.1], predicted="neg"),
]


def test_means_counts_and_the_rare_flag_on_hand_made_explanations():
    result = aggregate_attributions(HAND_MADE, min_count=2)
    pos = result.for_class("pos").set_index("word")
    # "good" three times (case folded): 0.4, 0.2, 0.3 in two texts
    assert pos.loc["good", "mean"] == pytest.approx(0.3)
    assert pos.loc["good", "mean_abs"] == pytest.approx(0.3)
    assert pos.loc["good", "count"] == 3 and pos.loc["good", "texts"] == 2
    # "film": 0.0 and 0.1 -> mean 0.05; "cast", "plot", "bad" once each
    assert pos.loc["film", "mean"] == pytest.approx(0.05)
    assert pos.loc["plot", "mean_abs"] == pytest.approx(0.2)
    assert list(pos.loc[["good", "film", "cast"], "rare"]) == [False, False, True]
    assert "," not in pos.index  # punctuation alone is not a word
    # the t interval of the mean, as scipy computes it
    low, high = stats.t.interval(0.95, 2, loc=0.3, scale=stats.sem([0.4, 0.2, 0.3]))
    assert (pos.loc["good", "low"], pos.loc["good", "high"]) == pytest.approx((low, high))
    assert np.isnan(pos.loc["cast", "low"])  # one occurrence: no interval
    neg = result.for_class("neg").set_index("word")
    assert neg.loc["good", "mean"] == pytest.approx(-0.3)
    assert neg.loc["good", "mean_abs"] == pytest.approx(0.3)
    assert result.n_texts == 3 and result.texts_per_class == {"neg": 3, "pos": 3}
    # rankings leave the rare words out unless asked
    assert list(result.top("pos", 5)["word"]) == ["good", "film"]
    assert list(result.top("pos", 1, by="-mean", include_rare=True)["word"]) == ["bad"]
    with_punctuation = aggregate_attributions(HAND_MADE, punctuation=True)
    assert "," in set(with_punctuation.for_class("pos")["word"])


def test_over_predicted_and_over_label_pick_the_texts_of_each_class():
    predicted = aggregate_attributions(HAND_MADE, over="predicted", min_count=1)
    assert predicted.texts_per_class == {"neg": 1, "pos": 2}
    assert set(predicted.for_class("neg")["word"]) == {"bad", "film"}
    assert predicted.for_class("neg").set_index("word").loc["bad", "mean"] == pytest.approx(0.5)
    labelled = aggregate_attributions(HAND_MADE, labels=["neg", "pos", "pos"], over="label")
    assert labelled.texts_per_class == {"neg": 1, "pos": 2}
    assert set(labelled.for_class("neg")["word"]) == {"good", "film", "cast"}
    with pytest.raises(InputError, match="needs the true labels"):
        aggregate_attributions(HAND_MADE, over="label")


def test_bootstrap_interval_is_seeded_and_holds_the_mean():
    first = aggregate_attributions(HAND_MADE, interval="bootstrap", n_bootstrap=200, seed=3)
    again = aggregate_attributions(HAND_MADE, interval="bootstrap", n_bootstrap=200, seed=3)
    good = first.for_class("pos").set_index("word").loc["good"]
    assert good["low"] <= good["mean"] <= good["high"]
    assert first.to_frame().equals(again.to_frame())


def test_to_dict_is_strict_json_with_the_issues_shape():
    failed = FailedExplanation("", "the text to explain is empty")
    result = aggregate_attributions([*HAND_MADE, failed], min_count=2)
    document = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    rows = document["global_attributions"]["pos"]
    assert {"word", "mean", "mean_abs", "count"} <= set(rows[0])
    cast = next(r for r in rows if r["word"] == "cast")
    assert cast["low"] is None and cast["rare"] is True
    method = document["global_attributions_method"]
    assert method["n_failed"] == 1 and method["n_texts"] == 3
    assert "could not be explained" in method["notes"][0]


def test_figure_bars_blue_towards_red_against_with_error_bars():
    figure = aggregate_attributions(HAND_MADE, min_count=1).figure(k=3)
    pos = figure.data[1]
    assert list(pos.y) == ["bad", "good", "plot"]  # largest |mean| first
    assert list(pos.marker.color) == ["#b2182b", "#2166ac", "#b2182b"]
    assert pos.error_x.array is not None and "blue" in figure.layout.title.text


def _linear_corpus(n: int, seed: int) -> tuple[list[str], list[str]]:
    """Texts of 3-6 words whose label follows planted word weights, with noise."""
    weights = {"superb": 3, "great": 2, "fine": 1, "okay": 0.5, "meh": -0.5}
    weights |= {"weak": -1, "bad": -2, "awful": -3, "the": 0, "film": 0, "cast": 0}
    rng = random.Random(seed)
    texts, labels = [], []
    for _ in range(n):
        words = rng.sample(list(weights), rng.randint(3, 6))
        score = sum(weights[w] for w in words) + rng.gauss(0, 1)
        texts.append(" ".join(words))
        labels.append("pos" if score > 0 else "neg")
    return texts, labels


def test_global_attributions_of_a_linear_model_recover_its_coefficient_ranking():
    texts, labels = _linear_corpus(400, seed=0)
    linear = TfidfLogisticRegression(ngram_range=(1, 1)).fit(texts, labels)
    result = global_attributions(
        linear, texts[:80], method="shap", algorithm="exact", progress=False
    )
    agreement = compare_with_linear(result, linear, k=4)
    for row in agreement.per_class.to_dict("records"):
        assert row["n_shared"] == 11
        assert row["spearman"] > 0.9 and row["kendall"] > 0.75
        assert row["top_k_overlap"] >= 0.75
    coefficients = linear_coefficients(linear)
    pos = coefficients[coefficients["class"] == "pos"].set_index("word")["coefficient"]
    neg = coefficients[coefficients["class"] == "neg"].set_index("word")["coefficient"]
    assert pos["superb"] > pos["fine"] > 0 > pos["awful"]
    assert neg["awful"] == pytest.approx(-pos["awful"])  # two classes: one row, negated
    side = agreement.words[agreement.words["class"] == "pos"]
    assert side.iloc[0]["word"] == "superb" and side.iloc[0]["rank_coefficient"] == 1
    json.dumps(agreement.to_dict(), allow_nan=False)
    # fitted on the same data when no baseline is given
    fitted = compare_with_linear(result, texts=texts, labels=labels)
    assert fitted.per_class["spearman"].min() > 0.8


def test_a_model_without_gradients_refuses_integrated_gradients_clearly():
    texts, labels = _linear_corpus(60, seed=1)
    linear = TfidfLogisticRegression().fit(texts, labels)
    with pytest.raises(InputError, match="integrated-gradients.*use shap or lime"):
        global_attributions(linear, texts, method="integrated-gradients", progress=False)
    with pytest.raises(InputError, match="use shap or lime"):
        batched_integrated_gradients(linear, texts, progress=False)
    with pytest.raises(InputError, match="not attributions"):
        global_attributions(linear, texts, method="attention", progress=False)
    with pytest.raises(InputError, match="shap takes no setting max_eval; its settings are"):
        global_attributions(linear, texts, method="shap", max_eval=10, progress=False)


def test_texts_without_labels_aggregate_per_predicted_class():
    texts, labels = _linear_corpus(200, seed=2)
    linear = TfidfLogisticRegression(ngram_range=(1, 1)).fit(texts, labels)
    result = global_attributions(
        linear, texts[:8], method="lime", num_samples=40, over="predicted", progress=False
    )
    assert result.method == "lime" and result.units == "probability"
    predicted = list(linear.predict(texts[:8]))
    assert result.texts_per_class == {c: predicted.count(c) for c in ("neg", "pos")}
    with pytest.raises(InputError, match="needs the true labels"):
        global_attributions(linear, texts[:5], method="shap", over="label", progress=False)
    examples = Examples(texts[:6], labels[:6])
    by_label = global_attributions(
        linear, examples, method="shap", algorithm="exact", over="label", progress=False
    )
    assert by_label.texts_per_class == {c: labels[:6].count(c) for c in ("neg", "pos")}


def test_a_long_run_prints_an_estimate_first(monkeypatch, capsys):
    texts, labels = _linear_corpus(60, seed=3)
    linear = TfidfLogisticRegression(ngram_range=(1, 1)).fit(texts, labels)
    monkeypatch.setattr(module, "ESTIMATE_FROM", 8)
    result = global_attributions(linear, texts[:8], method="shap", algorithm="exact")
    assert "shap over 8 texts: about" in capsys.readouterr().err
    assert result.n_texts == 8 and result.settings["seconds"] > 0


def test_batched_integrated_gradients_equal_one_text_at_a_time(
    trained_clf, heldout, monkeypatch, capsys
):
    texts = heldout[0][:9] + ["good good good good good good good good good good good"]
    one_by_one = explain(trained_clf, texts, method="integrated-gradients", n_steps=16)
    # a small max_tokens: several batches of different padded lengths
    batched = batched_integrated_gradients(
        trained_clf, texts, n_steps=16, max_tokens=16 * 12 * 3, progress=False
    )
    for single, together in zip(one_by_one, batched, strict=True):
        assert isinstance(together, Explanation)
        assert [w.text for w in together.words] == [w.text for w in single.words]
        np.testing.assert_allclose(together.attributions, single.attributions, atol=1e-5)
        np.testing.assert_allclose(together.base_values, single.base_values, atol=1e-5)
        np.testing.assert_allclose(together.probabilities, single.probabilities, atol=1e-6)
        np.testing.assert_allclose(
            together.settings["convergence_delta"], single.settings["convergence_delta"], atol=1e-4
        )
    monkeypatch.setattr(module, "ESTIMATE_FROM", 2)
    failed = batched_integrated_gradients(trained_clf, ["  ", texts[0]], errors="record")
    assert "integrated gradients (batched) over 1 text: about" in capsys.readouterr().err
    assert isinstance(failed[0], FailedExplanation) and isinstance(failed[1], Explanation)
    # pieces of 3, then 4 texts: the occurrences of each piece keep their text's place
    monkeypatch.setattr(module, "_FIRST_PIECE", 3)
    monkeypatch.setattr(module, "_PIECE_TEXTS", 4)
    result = global_attributions(
        trained_clf, texts, method="integrated-gradients", n_steps=16, progress=False
    )
    unbatched = global_attributions(
        trained_clf,
        texts,
        method="integrated-gradients",
        n_steps=16,
        batched=False,
        progress=False,
    )
    assert result.units == "logit" and result.settings["batched"] is True
    ours, theirs = (r.to_frame().sort_values(["class", "word"]) for r in (result, unbatched))
    keys = ["class", "word", "count", "texts"]
    assert ours[keys].equals(theirs[keys])
    np.testing.assert_allclose(ours["mean"], theirs["mean"], atol=1e-5)
