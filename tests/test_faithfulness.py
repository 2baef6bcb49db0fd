"""Faithfulness, agreement, stability and plausibility, checked against hand computations.

Most tests use a fake model whose probability of "pos" is 0.1 + 0.4·[good] + 0.3·[great]
(clipped to [0, 1]), so every number below can be worked out on paper.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from workbench.errors import InputError
from workbench.explain.agreement import agreement, agreement_matrix, stability
from workbench.explain.base import Explanation, ModelPredictor, remove_words, word_units
from workbench.explain.faithfulness import (
    BINS,
    Curve,
    FaithfulnessReport,
    aopc,
    comprehensiveness,
    deletion_curve,
    faithfulness,
    insertion_curve,
    sufficiency,
    top_k_count,
)
from workbench.explain.plausibility import plausibility, rationale_mask
from workbench.tokenizer import split_words

TEXT = "the good film great ending"  # words 0..4
# Attributions towards "pos": ranking good (1), great (3), film (2), the (0), ending (4).
POS_SCORES = [0.0, 0.5, 0.1, 0.3, -0.1]


class CueModel:
    """p(pos) = 0.1 + 0.4·[good present] + 0.3·[great present]; records every call."""

    classes_ = np.array(["neg", "pos"])

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def predict_proba(self, texts):
        texts = list(texts)
        self.calls.append(texts)
        out = []
        for text in texts:
            words = set(text.split())
            pos = min(max(0.1 + 0.4 * ("good" in words) + 0.3 * ("great" in words), 0.0), 1.0)
            out.append([1 - pos, pos])
        return np.array(out)


def make_explanation(scores, text=TEXT, method="hand", probabilities=(0.2, 0.8)) -> Explanation:
    scores = np.asarray(scores, dtype=float)
    return Explanation(
        text=text,
        words=split_words(text),
        classes=["neg", "pos"],
        attributions=np.column_stack([-scores, scores]),
        probabilities=np.asarray(probabilities, dtype=float),
        method=method,
    )


@pytest.fixture
def model() -> CueModel:
    return CueModel()


@pytest.fixture
def expl() -> Explanation:
    return make_explanation(POS_SCORES)


# --------------------------------------------------------------------------- hand-computed
def test_top_k_count_is_ceil_with_a_minimum_of_one():
    assert [top_k_count(5, b) for b in BINS] == [1, 1, 1, 1, 3]
    assert top_k_count(30, 0.1) == 3  # 0.1 * 30 is 3.0000000000000004 in floating point
    assert top_k_count(7, 1.0) == 7
    with pytest.raises(InputError):
        top_k_count(0, 0.2)
    with pytest.raises(InputError):
        top_k_count(5, 0.0)


def test_comprehensiveness_and_sufficiency_by_hand(model, expl):
    # p(x) = 0.8. Without "good": 0.4; without "good", "great": 0.1.
    assert comprehensiveness(model, expl, 1) == pytest.approx(0.4)
    assert comprehensiveness(model, expl, 2) == pytest.approx(0.7)
    assert comprehensiveness(model, expl, 0) == pytest.approx(0.0)
    # Only "good": 0.5; only "good great": 0.8; no words at all: 0.1.
    assert sufficiency(model, expl, 1) == pytest.approx(0.3)
    assert sufficiency(model, expl, 2) == pytest.approx(0.0)
    assert sufficiency(model, expl, 0) == pytest.approx(0.7)


def test_the_explained_class_can_be_chosen(model, expl):
    # Towards "neg" the top word is "ending" (attribution +0.1): deleting it changes
    # nothing (p_neg stays 0.2); keeping only it gives p_neg = 0.9.
    assert comprehensiveness(model, expl, 1, label="neg") == pytest.approx(0.0)
    assert sufficiency(model, expl, 1, label="neg") == pytest.approx(0.2 - 0.9)
    with pytest.raises(InputError, match="not one of"):
        comprehensiveness(model, expl, 1, label="neutral")


def test_aopc_by_hand(model, expl):
    # Bins give k = 1, 1, 1, 1, 3 on five words. Comprehensiveness: 0.4 four times, then
    # 0.8 - p(the ending) = 0.7; sufficiency: 0.3 four times, then 0.8 - p(good film great) = 0.
    result = aopc(model, expl)
    assert result["comprehensiveness"] == pytest.approx((4 * 0.4 + 0.7) / 5)
    assert result["sufficiency"] == pytest.approx((4 * 0.3 + 0.0) / 5)
    assert aopc(model, expl, bins=(0.4,)) == pytest.approx(
        {"comprehensiveness": 0.7, "sufficiency": 0.0}
    )
    with pytest.raises(InputError, match="bins"):
        aopc(model, expl, bins=(0.0, 0.5))


def test_deletion_and_insertion_curves_by_hand(model, expl):
    deletion = deletion_curve(model, expl)
    assert isinstance(deletion, Curve)
    np.testing.assert_allclose(deletion.fractions, [0, 0.2, 0.4, 0.6, 0.8, 1.0])
    np.testing.assert_allclose(deletion.probabilities, [0.8, 0.4, 0.1, 0.1, 0.1, 0.1])
    # Trapezoids of width 0.2: (0.8+0.4)/2 + (0.4+0.1)/2 + 3 * 0.1 = 1.15.
    assert deletion.auc == pytest.approx(0.2 * 1.15)

    insertion = insertion_curve(model, expl)
    np.testing.assert_allclose(insertion.fractions, [0, 0.2, 0.4, 0.6, 0.8, 1.0])
    # The empty text first (p = 0.1), then "good" (0.5), then "good great" (0.8).
    np.testing.assert_allclose(insertion.probabilities, [0.1, 0.5, 0.8, 0.8, 0.8, 0.8])
    assert insertion.auc == pytest.approx(0.2 * (0.3 + 0.65 + 3 * 0.8))


def test_curve_steps_subsample_evenly_and_keep_both_ends(model, expl):
    curve = deletion_curve(model, expl, steps=3)
    # linspace(0, 5, 3) = 0, 2.5, 5, rounded half to even: k = 0, 2, 5.
    np.testing.assert_allclose(curve.fractions, [0, 0.4, 1.0])
    np.testing.assert_allclose(curve.probabilities, [0.8, 0.1, 0.1])
    assert curve.auc == pytest.approx(0.4 * 0.45 + 0.6 * 0.1)
    with pytest.raises(InputError, match="steps"):
        deletion_curve(model, expl, steps=1)


def test_ties_are_broken_by_word_order(model):
    # All attributions equal: the ranking is word order, so k=2 removes "the good".
    tied = make_explanation([1.0] * 5)
    assert comprehensiveness(model, tied, 2) == pytest.approx(0.8 - 0.4)


def test_faithfulness_report_matches_the_single_metrics(model, expl):
    report = faithfulness(model, expl, k=2, random_repeats=3)
    assert isinstance(report, FaithfulnessReport)
    assert report.method == "hand" and report.k == 2
    assert report.comprehensiveness == pytest.approx(0.7)
    assert report.sufficiency == pytest.approx(0.0)
    assert report.aopc_comprehensiveness == pytest.approx(0.46)
    assert report.aopc_sufficiency == pytest.approx(0.24)
    assert report.deletion_auc == pytest.approx(0.23)
    assert report.insertion_auc == pytest.approx(0.67)
    payload = report.to_dict()
    assert set(payload["random"]) == {
        "comprehensiveness",
        "sufficiency",
        "aopc_comprehensiveness",
        "aopc_sufficiency",
        "deletion_auc",
        "insertion_auc",
    }
    assert payload["comprehensiveness"] == report.comprehensiveness
    # k defaults to the top 20% of the words (one word of five).
    assert faithfulness(model, expl, random_repeats=0).k == 1
    assert all(math.isnan(v) for v in faithfulness(model, expl, random_repeats=0).random.values())


def test_the_random_baseline_is_the_mean_over_seeded_permutations(model, expl):
    report = faithfulness(model, expl, k=1, random_repeats=4, seed=7)
    rng = np.random.default_rng(7)
    expected = []
    for _ in range(4):
        order = rng.permutation(5)
        shuffled = np.zeros(5)
        shuffled[order] = np.arange(5, 0, -1)  # attributions that rank words as `order`
        expected.append(comprehensiveness(model, make_explanation(shuffled), 1))
    assert report.random["comprehensiveness"] == pytest.approx(np.mean(expected))
    assert faithfulness(model, expl, random_repeats=4, seed=7).random == report.random


def test_a_perfect_ranking_beats_random(model, expl):
    report = faithfulness(model, expl, k=1, random_repeats=20, seed=0)
    assert report.comprehensiveness > report.random["comprehensiveness"]
    assert report.aopc_comprehensiveness > report.random["aopc_comprehensiveness"]
    assert report.deletion_auc < report.random["deletion_auc"]
    assert report.insertion_auc > report.random["insertion_auc"]
    # ...and the worst ranking (reversed) does worse than random.
    worst = faithfulness(model, make_explanation(-np.asarray(POS_SCORES)), k=1, label="pos")
    assert worst.comprehensiveness < worst.random["comprehensiveness"]
    assert worst.deletion_auc > worst.random["deletion_auc"]


# --------------------------------------------------------------------------- batching
def test_faithfulness_batches_and_scores_each_text_once(model, expl):
    faithfulness(model, expl, k=2, random_repeats=20)
    scored = [text for call in model.calls for text in call]
    assert len(model.calls) <= 2
    assert len(scored) == len(set(scored))  # duplicates are not re-scored
    assert len(scored) <= 2**5  # at most one text per subset of the five words,
    # while the report asked for 21 rankings x 2 x (1 + 5 bins + 6 curve points) + 1 texts.


def test_each_metric_is_one_model_call_and_a_shared_predictor_caches(model, expl):
    for metric in (
        lambda m: comprehensiveness(m, expl, 2),
        lambda m: aopc(m, expl),
        lambda m: deletion_curve(m, expl),
    ):
        model.calls.clear()
        metric(model)
        assert len(model.calls) == 1
    predictor = ModelPredictor(model)
    model.calls.clear()
    first = insertion_curve(predictor, expl)
    again = insertion_curve(predictor, expl)
    assert len(model.calls) == 1
    np.testing.assert_array_equal(first.probabilities, again.probabilities)


def test_the_reference_is_the_text_rebuilt_by_remove_words(model):
    # Messy spacing and punctuation: the reference text is the words joined by spaces.
    text = "  good ,  film  great!  "
    messy = make_explanation([1.0, 0.0, 0.0, 0.0, 0.0], text=text)
    deletion_curve(model, messy)
    assert remove_words(messy.words, [True] * 5) == "good , film great !"
    assert "good , film great !" in model.calls[0]
    # p(x) = 0.8 on the rebuilt text; without "good" 0.4; "good" alone 0.5.
    assert comprehensiveness(model, messy, 1) == pytest.approx(0.4)
    assert sufficiency(model, messy, 1) == pytest.approx(0.3)
    report = faithfulness(model, messy, k=1, random_repeats=0)
    assert (report.comprehensiveness, report.sufficiency) == pytest.approx((0.4, 0.3))


def test_bad_arguments_get_input_errors(model, expl):
    with pytest.raises(InputError, match="k=6"):
        comprehensiveness(model, expl, 6)
    with pytest.raises(InputError, match="integer"):
        sufficiency(model, expl, 1.5)
    with pytest.raises(InputError, match="no words"):
        comprehensiveness(model, make_explanation([], text="   "), 1)
    with pytest.raises(InputError, match="non-finite"):
        comprehensiveness(model, make_explanation([np.nan, 0, 0, 0, 0]), 1)
    with pytest.raises(InputError, match="predict_proba"):
        comprehensiveness(object(), expl, 1)
    with pytest.raises(InputError, match="model's classes"):

        class OtherModel(CueModel):
            classes_ = np.array(["bad", "good"])

        comprehensiveness(OtherModel(), expl, 1)


# --------------------------------------------------------------------------- agreement
def test_agreement_identical_reversed_and_constant(expl):
    same = agreement(expl, make_explanation(POS_SCORES, method="copy"), k=2)
    assert same == pytest.approx({"spearman": 1.0, "kendall": 1.0, "top_k_overlap": 1.0})
    reversed_ = agreement(expl, make_explanation(-np.asarray(POS_SCORES)), k=2)
    assert reversed_ == pytest.approx({"spearman": -1.0, "kendall": -1.0, "top_k_overlap": 0.0})
    # top-2 of POS_SCORES is {good, great}; of these scores {good, film}: overlap 1/2.
    half = agreement(expl, make_explanation([0.0, 0.9, 0.8, 0.1, 0.2]), k=2)
    assert half["top_k_overlap"] == pytest.approx(0.5)
    constant = agreement(expl, make_explanation([0.0] * 5))
    assert math.isnan(constant["spearman"]) and math.isnan(constant["kendall"])
    assert agreement(expl, expl, k=50)["top_k_overlap"] == 1.0  # k capped at the word count


def test_agreement_compares_the_same_class():
    a = make_explanation(POS_SCORES, probabilities=(0.2, 0.8))  # predicts pos
    b = make_explanation(POS_SCORES, probabilities=(0.9, 0.1))  # predicts neg
    assert agreement(a, b)["spearman"] == pytest.approx(1.0)  # both read towards "pos"
    assert agreement(b, a)["spearman"] == pytest.approx(1.0)  # both towards "neg"


def test_agreement_refuses_different_words(expl):
    with pytest.raises(InputError, match="different word units"):
        agreement(expl, make_explanation([0.0] * 5, text="the bad film great ending"))
    with pytest.raises(InputError, match="different word units"):
        agreement(expl, make_explanation([0.0] * 4, text="the good film great"))


def test_agreement_matrix(expl):
    other = make_explanation([0.0, 0.9, 0.8, 0.1, 0.2], method="lime")
    flipped = make_explanation(-np.asarray(POS_SCORES), method="hand")
    table = agreement_matrix([expl, other, flipped])
    assert isinstance(table, pd.DataFrame)
    assert list(table.index) == list(table.columns) == ["hand", "lime", "hand (2)"]
    np.testing.assert_allclose(np.diag(table.to_numpy()), 1.0)
    np.testing.assert_allclose(table.to_numpy(), table.to_numpy().T)
    assert table.loc["hand", "lime"] == pytest.approx(agreement(expl, other)["spearman"])
    assert table.loc["hand", "hand (2)"] == pytest.approx(-1.0)
    overlap = agreement_matrix([expl, other], k=2, metric="top_k_overlap")
    assert overlap.loc["hand", "lime"] == pytest.approx(0.5)
    with pytest.raises(InputError, match="metric"):
        agreement_matrix([expl, other], metric="pearson")


# --------------------------------------------------------------------------- stability
def test_stability_by_hand():
    runs = [
        make_explanation([1, 2, 3, 4, 5]),
        make_explanation([1, 2, 3, 4, 5]),
        make_explanation([1, 2, 3, 5, 4]),  # the top two words swapped
    ]
    result = stability(runs, k=1)
    # Spearman: 1 for the identical pair, 1 - 6·2/(5·24) = 0.9 for the other two.
    assert result["mean_spearman"] == pytest.approx((1 + 0.9 + 0.9) / 3)
    assert result["mean_top_k_overlap"] == pytest.approx(1 / 3)
    # Words 3 and 4 take values (4, 4, 5) and (5, 5, 4): population std √2/3 each.
    mean_std = 2 * (math.sqrt(2) / 3) / 5
    assert result["mean_std"] == pytest.approx(mean_std)
    assert result["relative_std"] == pytest.approx(mean_std / 3)  # mean |attribution| is 3
    assert stability(runs[:2])["mean_std"] == 0.0


def test_stability_needs_two_runs_on_the_same_words(expl):
    with pytest.raises(InputError, match="at least two"):
        stability([expl])
    with pytest.raises(InputError, match="different word units"):
        stability([expl, make_explanation([0.0] * 4, text="the good film great")])


# --------------------------------------------------------------------------- plausibility
def test_rationale_mask_counts_partial_overlaps():
    words = split_words("a good film, truly great")  # a good film , truly great
    assert [w.text for w in words] == ["a", "good", "film", ",", "truly", "great"]
    # (3, 5) is inside "good"; (10, 14) touches "film", "," and "truly"; (6, 7) is the
    # space between "good" and "film"; (24, 24) is empty.
    mask = rationale_mask(words, [(3, 5), (10, 14), (6, 7), (24, 24)])
    assert mask.dtype == bool
    assert mask.tolist() == [False, True, True, True, True, False]
    assert rationale_mask(words, []).tolist() == [False] * 6
    with pytest.raises(InputError, match="ends before"):
        rationale_mask(words, [(5, 3)])


def test_plausibility_by_hand():
    expl = make_explanation([0.5, 0.4, 0.3, 0.2, 0.1])
    human = np.array([False, True, False, True, True])
    result = plausibility(expl, human)
    # Top-3 words {0, 1, 2} share one word with {1, 3, 4}: precision = recall = F1 = 1/3.
    assert result["token_f1"] == pytest.approx(1 / 3)
    # Ranked: no, yes, no, yes, yes -> precision at each hit 1/2, 2/4, 3/5.
    assert result["auprc"] == pytest.approx((1 / 2 + 2 / 4 + 3 / 5) / 3)
    perfect = plausibility(make_explanation([0, 1, 0, 1, 1]), human)
    assert perfect == pytest.approx({"token_f1": 1.0, "auprc": 1.0})


def test_plausibility_rejects_unusable_rationales(expl):
    with pytest.raises(InputError, match="marks none of the"):
        plausibility(expl, np.zeros(5, dtype=bool))
    with pytest.raises(InputError, match="5 words"):
        plausibility(expl, np.ones(4, dtype=bool))


# --------------------------------------------------------------------------- a real model
def test_end_to_end_on_a_tiny_text_classifier(trained_clf):
    text = "the food was really excellent and the service lovely"
    words = word_units(trained_clf, text)
    probabilities = trained_clf.predict_proba([text])[0]
    # A leave-one-out explanation: how much each word's deletion lowers each class.
    full = trained_clf.predict_proba([remove_words(words, [True] * len(words))])[0]
    drops = [
        full - trained_clf.predict_proba([remove_words(words, np.arange(len(words)) != i)])[0]
        for i in range(len(words))
    ]
    expl = Explanation(
        text=text,
        words=words,
        classes=list(trained_clf.classes_),
        attributions=np.array(drops),
        probabilities=probabilities,
        method="leave-one-out",
    )
    report = faithfulness(trained_clf, expl, random_repeats=3)
    numbers = [v for v in report.to_dict().values() if isinstance(v, float)]
    numbers += list(report.random.values())
    assert len(numbers) == 12 and np.all(np.isfinite(numbers))
    curve = deletion_curve(trained_clf, expl)
    assert curve.probabilities[0] == pytest.approx(full[expl.predicted_index], abs=1e-6)
    empty = trained_clf.predict_proba([""])[0][expl.predicted_index]
    assert curve.probabilities[-1] == pytest.approx(empty, abs=1e-6)
    assert np.isfinite(insertion_curve(trained_clf, expl).auc)
    assert np.isfinite(list(aopc(trained_clf, expl).values())).all()
    assert 0.0 <= plausibility(expl, rationale_mask(words, [(21, 30)]))["auprc"] <= 1.0


def test_plausibility_scores_only_the_words_the_model_read():
    words = split_words("good film overall but bad ending")
    scores = np.array([[0, 3.0], [0, 0.5], [0, 0.1], [0, 0.2], [0, 2.0], [0, 1.0]])
    explanation = Explanation(
        text="good film overall but bad ending",
        words=words,
        classes=["neg", "pos"],
        attributions=scores,
        probabilities=np.array([0.2, 0.8]),
        method="hand",
        settings={"visible_words": 3},
    )
    human = np.array([True, False, False, False, True, False])  # "bad" lies past the cut
    result = plausibility(explanation, human)
    assert result == {"token_f1": 1.0, "auprc": 1.0}  # only "good" counts, ranked first
    with pytest.raises(InputError, match="none of the 3 words"):
        plausibility(explanation, np.array([False] * 4 + [True, False]))
