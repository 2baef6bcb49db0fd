"""Tests for workbench.analysis: slices, their metrics and tests, slice discovery, bad input.

No model is trained here: predictions and probabilities are given as arrays, so every
number can be checked against a hand computation or scipy/scikit-learn called directly.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.stats import fisher_exact
from sklearn.metrics import f1_score

import workbench.analysis.examples as examples_module
from workbench.analysis import (
    Examples,
    Slice,
    discover_slices,
    evaluate_slices,
    length_bins,
    slices_by_column,
    suggested_slices,
)
from workbench.data import load_reviews_table
from workbench.errors import InputError
from workbench.evaluate import expected_calibration_error

# Ten reviews, four holding "bad" (one of them right), six without (five right).
TEXTS = [
    "A bad film.",  # wrong
    "Not bad at all, Bad jokes though.",  # wrong ("Bad" counts once, any case)
    "bad, bad, bad",  # wrong
    "Quite bad.",  # right
    "Badly made but fine.",  # right ("Badly" is another word)
    "A lovely film.",  # right
    "I liked it.",  # right
    "Nothing special.",  # right
    "Great cast, dull plot.",  # right
    "Don't go.",  # wrong
]
LABELS = ["neg", "pos", "neg", "neg", "pos", "pos", "pos", "neg", "neg", "neg"]
PREDICTIONS = ["pos", "neg", "pos", "neg", "pos", "pos", "pos", "neg", "neg", "pos"]
CORRECT = np.array([p == t for p, t in zip(PREDICTIONS, LABELS, strict=True)])
IN_BAD = np.array([True, True, True, True] + [False] * 6)


def proba_for(predictions: list[str], confidence: np.ndarray) -> np.ndarray:
    """Probabilities over (neg, pos) whose most probable class is the prediction."""
    top = np.asarray(confidence, dtype=float)
    pos = np.where(np.asarray(predictions) == "pos", top, 1 - top)
    return np.column_stack([1 - pos, pos])


CONFIDENCE = np.array([0.9, 0.8, 0.7, 0.6, 0.95, 0.99, 0.85, 0.55, 0.65, 0.75])


def hand_examples(**kwargs) -> Examples:
    return Examples(TEXTS, LABELS, predictions=PREDICTIONS, **kwargs)


# --------------------------------------------------------------------- metrics
def test_slice_metrics_match_a_hand_computation():
    report = evaluate_slices(hand_examples(), [Slice.contains_word("bad")], n_bootstrap=200)
    result = report['contains "bad"']

    assert result.n == 4 and result.n_rest == 6
    assert result.accuracy == pytest.approx(1 / 4)  # only "Quite bad." is right
    assert result.rest_accuracy == pytest.approx(5 / 6)  # "Don't go." is the one wrong
    assert result.difference == pytest.approx(1 / 4 - 5 / 6)
    expected_p = fisher_exact(np.array([[1, 3], [5, 1]])).pvalue
    assert result.p_value == pytest.approx(expected_p)
    assert result.p_value_holm == pytest.approx(expected_p)  # one slice: nothing to correct
    true_in = [t for t, m in zip(LABELS, IN_BAD, strict=True) if m]
    pred_in = [p for p, m in zip(PREDICTIONS, IN_BAD, strict=True) if m]
    assert result.macro_f1 == pytest.approx(f1_score(true_in, pred_in, average="macro"))
    assert result.accuracy_ci.low <= result.accuracy <= result.accuracy_ci.high
    assert report.accuracy == pytest.approx(6 / 10)
    assert report.family_size == 1


def test_ece_and_confidence_come_from_the_probabilities():
    examples = Examples(
        TEXTS, LABELS, proba=proba_for(PREDICTIONS, CONFIDENCE), classes=["neg", "pos"]
    )
    assert examples.predictions == PREDICTIONS
    result = evaluate_slices(examples, [Slice.contains_word("bad")], n_bootstrap=100)[
        'contains "bad"'
    ]

    true_idx = [["neg", "pos"].index(t) for t, m in zip(LABELS, IN_BAD, strict=True) if m]
    proba_in = examples.proba[IN_BAD]
    assert result.ece == pytest.approx(expected_calibration_error(true_idx, proba_in))
    assert result.mean_confidence == pytest.approx(CONFIDENCE[IN_BAD].mean())
    assert result.ece_ci is not None and result.ece_ci.low <= result.ece_ci.high


def test_holm_correction_across_slices():
    slices = [Slice.contains_word("bad"), Slice.regex(r"film"), Slice.length(0, 2)]
    report = evaluate_slices(hand_examples(), slices, n_bootstrap=50)
    raw = [r.p_value for r in report]
    # Holm by hand: sorted p-values times 3, 2, 1, kept monotone, capped at 1
    order = np.argsort(raw)
    expected = np.empty(3)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (3 - rank) * raw[i]))
        expected[i] = running
    assert [r.p_value_holm for r in report] == pytest.approx(expected)


def test_two_sided_and_one_sided_tests_are_scipys():
    slices = [Slice.contains_word("bad")]
    less = evaluate_slices(hand_examples(), slices, alternative="less", n_bootstrap=20)
    assert less.results[0].p_value == pytest.approx(
        fisher_exact(np.array([[1, 3], [5, 1]]), alternative="less").pvalue
    )
    with pytest.raises(InputError, match="alternative"):
        evaluate_slices(hand_examples(), slices, alternative="smaller")  # type: ignore[arg-type]


# ------------------------------------------------------------------- predicates
def test_contains_word_matches_whole_word_units_ignoring_case():
    examples = hand_examples()
    assert Slice.contains_word("BAD").mask(examples).tolist() == IN_BAD.tolist()
    # "not" is not inside "Nothing", and "Don't" is one unit
    assert Slice.contains_word("not").mask(examples).tolist() == [
        False,
        True,
        *[False] * 8,
    ]
    assert Slice.contains_word("don't").mask(examples)[9]
    assert Slice.contains_word("not bad").mask(examples).sum() == 1
    assert Slice.contains_word("bad at all").mask(examples).sum() == 1  # a run of 3 units
    with pytest.raises(InputError, match="needs a word"):
        Slice.contains_word("   ")


def test_regex_length_column_function_and_combinations():
    examples = hand_examples(columns={"domain": ["films"] * 5 + ["apps"] * 5})
    assert Slice.regex(r"\bfilm\b").mask(examples).sum() == 2
    assert Slice.regex(r"\bFilm\b", ignore_case=False).mask(examples).sum() == 0
    # words: punctuation does not count; "Not bad at all, Bad jokes though." has 7
    counts = examples.word_counts()
    assert counts[1] == 7 and counts[2] == 3
    assert Slice.length(0, 3).mask(examples).tolist() == (counts <= 3).tolist()
    bins = length_bins([2, 3])
    assert [b.name for b in bins] == ["0–2 words", "3 words", "4+ words"]
    assert sum(b.mask(examples).sum() for b in bins) == len(examples)
    assert Slice.column("domain", "apps").mask(examples).sum() == 5
    short = Slice.where(lambda text: len(text) < 12, name="short")
    assert short.mask(examples).sum() == sum(len(t) < 12 for t in TEXTS)
    row_slice = Slice.where_row(
        lambda row: row["label"] == "pos" and row["domain"] == "films", name="pos films"
    )
    assert row_slice.mask(examples).sum() == 2
    both = Slice.contains_word("bad") & Slice.column("domain", "films")
    assert both.mask(examples).sum() == 4 and both.name == 'contains "bad" & domain = films'
    assert (~Slice.contains_word("bad")).mask(examples).sum() == 6
    assert (Slice.contains_word("bad") | Slice.regex("plot")).mask(examples).sum() == 5


def test_misclassified_and_low_confidence():
    examples = Examples(
        TEXTS, LABELS, proba=proba_for(PREDICTIONS, CONFIDENCE), classes=["neg", "pos"]
    )
    report = evaluate_slices(
        examples, [Slice.misclassified(), Slice.low_confidence(0.7)], n_bootstrap=20
    )
    wrong = report["misclassified"]
    assert wrong.n == 4 and wrong.accuracy == 0.0 and wrong.rest_accuracy == 1.0
    assert wrong.p_value == pytest.approx(fisher_exact(np.array([[0, 4], [6, 0]])).pvalue)
    unsure = report["confidence < 0.7"]
    assert unsure.n == int((CONFIDENCE < 0.7).sum())


def test_embedded_reviews_columns_slice_by_value():
    table = load_reviews_table("test")
    predictions = np.where(table["phenomenon"] == "negation", "positive", table["label"])
    examples = Examples.from_frame(table, predictions=predictions.tolist())
    by_domain = slices_by_column(examples, "domain")
    assert sorted(s.name for s in by_domain) == [
        "domain = apps",
        "domain = films",
        "domain = products",
        "domain = restaurants",
    ]
    report = evaluate_slices(examples, slices_by_column(examples, "phenomenon"), n_bootstrap=20)
    assert report["phenomenon = negation"].accuracy < report["phenomenon = plain"].accuracy
    assert report["phenomenon = plain"].accuracy == 1.0
    assert {s.name for s in suggested_slices(examples)} >= {"domain = apps", "phenomenon = hedge"}


def test_from_model_asks_the_model_for_probabilities():
    class KeywordModel:
        """Says "neg" for texts with "bad", else "pos"."""

        classes_ = np.array(["neg", "pos"])

        def fit(self, texts, labels):
            return self

        def predict_proba(self, texts):
            bad = np.array(["bad" in t.lower() for t in texts], dtype=float)
            return np.column_stack([0.1 + 0.8 * bad, 0.9 - 0.8 * bad])

    examples = Examples.from_model(KeywordModel(), TEXTS, LABELS)
    assert examples.predictions[:5] == ["neg"] * 5
    assert examples.proba.shape == (10, 2)


# ------------------------------------------------------------------- discovery
def planted_set(n: int = 1200, seed: int = 0) -> tuple[list[str], list[str], list[str]]:
    """Texts of filler words; "zorp" in about 15% of them, "blue" in about 30%. The "model"
    is wrong on 60% of the texts with "zorp" and on 8% of the others, whatever "blue" says."""
    rng = np.random.default_rng(seed)
    filler = np.array(["the", "movie", "was", "food", "staff", "quite", "really", "plot", "and"])
    texts, labels, predictions = [], [], []
    for _ in range(n):
        words = list(rng.choice(filler, size=rng.integers(4, 9)))
        zorp, blue = rng.random() < 0.15, rng.random() < 0.30
        for present, word in ((zorp, "zorp"), (blue, "blue")):
            if present:
                words.insert(int(rng.integers(0, len(words) + 1)), word)
        label = str(rng.choice(["pos", "neg"]))
        wrong = rng.random() < (0.6 if zorp else 0.08)
        texts.append(" ".join(words))
        labels.append(label)
        predictions.append(("neg" if label == "pos" else "pos") if wrong else label)
    return texts, labels, predictions


def test_discovery_finds_a_planted_error_prone_word():
    texts, labels, predictions = planted_set()
    examples = Examples(texts, labels, predictions=predictions)
    report = discover_slices(examples, min_support=30, top=50, n_bootstrap=100)

    first = report.results[0]
    assert first.name == 'contains "zorp"'
    assert first.p_value_holm < 1e-6
    assert first.difference < -0.3
    # its p-value is scipy's one-sided Fisher test on the same table
    has = np.array(["zorp" in t.split() for t in texts])
    correct = np.array(labels) == np.array(predictions)
    table = np.array(
        [
            [correct[has].sum(), (~correct[has]).sum()],
            [correct[~has].sum(), (~correct[~has]).sum()],
        ]
    )
    assert first.p_value == pytest.approx(fisher_exact(table, alternative="less").pvalue)
    assert first.n == has.sum()
    # a word with no effect is not significant (whether or not it made the list)
    blue = [r for r in report if r.name == 'contains "blue"']
    assert all(r.p_value_holm > 0.05 for r in blue)
    # every term except those holding "zorp" stays above the corrected threshold
    assert all(r.p_value_holm > 0.05 for r in report if "zorp" not in r.name)
    # sorted by the drop, with support at least the minimum
    drops = [r.rest_accuracy - r.accuracy for r in report]
    assert drops == sorted(drops, reverse=True)
    assert all(r.n >= 30 for r in report)
    # the family is every candidate tested, not only those shown
    assert report.family_size >= len(report)
    method = report.to_dict()["discovered_slices_method"]
    assert method["family_size"] == report.family_size and method["min_support"] == 30


def test_discovery_reports_nothing_when_no_word_matters():
    texts, labels, _ = planted_set(n=400, seed=1)
    rng = np.random.default_rng(5)
    predictions = [
        label if rng.random() < 0.8 else ("neg" if label == "pos" else "pos") for label in labels
    ]
    examples = Examples(texts, labels, predictions=predictions)
    report = discover_slices(examples, min_support=20, n_bootstrap=20)
    assert all(r.p_value_holm > 0.05 for r in report)
    perfect = discover_slices(Examples(texts, labels, predictions=labels), n_bootstrap=20)
    assert len(perfect) == 0 and any("right on every example" in n for n in perfect.notes)
    rare = discover_slices(examples, min_support=10_000)
    assert rare.family_size == 0 and any("lower min_support" in n for n in rare.notes)


def test_discovery_skips_punctuation_unless_asked():
    texts = ["good !", "bad !", "fine", "ok"] * 10
    labels = ["p", "n", "p", "p"] * 10
    predictions = ["n", "p", "p", "p"] * 10  # wrong exactly on the texts with "!"
    examples = Examples(texts, labels, predictions=predictions)
    assert '"!"' not in " ".join(r.name for r in discover_slices(examples, min_support=5))
    with_marks = discover_slices(examples, min_support=5, include_punctuation=True)
    assert with_marks.results[0].name == 'contains "!"'


# ------------------------------------------------------------------- bad input
def test_a_slice_matching_nothing_or_everything_is_a_result_with_a_note():
    examples = hand_examples(columns={"domain": ["films"] * 10})
    report = evaluate_slices(
        examples,
        [Slice.contains_word("zebra"), Slice.length(0), Slice.column("domain", "apps")],
        n_bootstrap=20,
    )
    nothing = report['contains "zebra"']
    assert nothing.n == 0 and nothing.n_rest == 10
    assert nothing.accuracy is None and nothing.p_value is None and nothing.difference is None
    assert nothing.rest_accuracy == pytest.approx(0.6)
    assert "matches no example" in nothing.notes[0]
    assert "'films'" in report["domain = apps"].notes[0]  # the values the column has
    everything = report["0+ words"]
    assert everything.n == 10 and everything.accuracy == pytest.approx(0.6)
    assert everything.rest_accuracy is None and everything.p_value is None
    assert "no rest" in everything.notes[0]
    assert report.family_size == 0  # nothing was tested
    json.dumps(report.to_dict(), allow_nan=False)  # n/a is null, not NaN
    frame = report.to_frame()
    assert np.isnan(frame.loc[0, "accuracy"]) and frame.loc[1, "n"] == 10


def test_a_missing_column_names_it_and_lists_the_columns():
    examples = hand_examples(columns={"domain": ["films"] * 10, "phenomenon": ["plain"] * 10})
    with pytest.raises(InputError, match=r"no column 'genre'.*'domain', 'phenomenon'"):
        evaluate_slices(examples, [Slice.column("genre", "films")])
    with pytest.raises(InputError, match="no other columns"):
        Slice.column("domain", "films").mask(hand_examples())
    with pytest.raises(InputError, match=r"text_col 'review' is not a column.*'text'"):
        Examples.from_frame(pd.DataFrame({"text": ["a"], "label": ["p"]}), text_col="review")
    with pytest.raises(InputError, match="label_col=None"):
        Examples.from_frame(pd.DataFrame({"text": ["a"]}))


def test_a_test_set_without_labels_gives_n_and_says_n_a():
    examples = Examples(TEXTS, proba=proba_for(PREDICTIONS, CONFIDENCE), classes=["neg", "pos"])
    report = evaluate_slices(examples, [Slice.contains_word("bad"), Slice.low_confidence(0.7)])
    bad = report['contains "bad"']
    assert bad.n == 4 and bad.accuracy is None and bad.p_value is None and bad.ece is None
    assert bad.mean_confidence == pytest.approx(CONFIDENCE[IN_BAD].mean())
    assert any("no labels" in note for note in bad.notes)
    assert report.accuracy is None
    json.dumps(report.to_dict(), allow_nan=False)
    with pytest.raises(InputError, match="needs labels"):
        evaluate_slices(examples, [Slice.misclassified()])
    with pytest.raises(InputError, match="needs labels"):
        discover_slices(examples)
    unscored = Examples(TEXTS, LABELS)
    assert evaluate_slices(unscored, [Slice.regex("film")]).results[0].n == 2
    with pytest.raises(InputError, match="probabilities"):
        evaluate_slices(unscored, [Slice.low_confidence()])


def test_bad_slices_and_settings_get_clear_errors():
    examples = hand_examples()
    with pytest.raises(InputError, match="not a valid regular expression"):
        Slice.regex("(unclosed")
    with pytest.raises(InputError, match="name"):
        Slice.where(lambda text: True)
    with pytest.raises(InputError, match="must return True or False"):
        Slice.where(lambda text: None, name="none").mask(examples)  # type: ignore[arg-type, return-value]
    with pytest.raises(InputError, match=r"raised ZeroDivisionError: .* on data row 1"):
        Slice.where(lambda text: 1 / 0 > 0, name="broken").mask(examples)
    with pytest.raises(InputError, match="given more than once"):
        evaluate_slices(examples, [Slice.regex("a"), Slice.regex("a")])
    with pytest.raises(InputError, match="no slices"):
        evaluate_slices(examples, [])
    with pytest.raises(InputError, match="below min_words"):
        Slice.length(5, 2)
    with pytest.raises(InputError, match="min_support"):
        discover_slices(examples, min_support=0)
    with pytest.raises(InputError, match="one boolean per example"):
        Slice("wrong", lambda ex: np.ones(3, dtype=bool)).mask(examples)
    with pytest.raises(InputError, match="2 texts but 10"):
        Examples(TEXTS[:2], LABELS)
    with pytest.raises(InputError, match="label is missing at data row 2"):
        Examples(TEXTS[:3], ["neg", None, "neg"])
    with pytest.raises(InputError, match="not among classes"):
        Examples(TEXTS, [0] * 10, proba=proba_for(PREDICTIONS, CONFIDENCE), classes=["neg", "pos"])
    with pytest.raises(InputError, match="not both"):
        Examples(TEXTS, LABELS, predictions=PREDICTIONS, proba=np.ones((10, 2)) / 2, classes=[0, 1])
    with pytest.raises(InputError, match="no texts"):
        Examples([])


def test_a_hundred_thousand_rows_are_vectorised_with_a_progress_bar(monkeypatch):
    rng = np.random.default_rng(0)
    vocabulary = np.array([f"w{i}" for i in range(40)] + ["not", "but"])
    n = 100_000
    texts = [" ".join(row) for row in vocabulary[rng.integers(0, 42, size=(n, 3))].tolist()]
    labels = rng.integers(0, 2, n)
    predictions = np.where(rng.random(n) < 0.8, labels, 1 - labels)
    bars = []
    real_bar = examples_module.progress_bar

    def counting_bar(iterable=None, **options):
        bars.append(options.get("desc"))
        return real_bar(iterable, **options)

    monkeypatch.setattr(examples_module, "progress_bar", counting_bar)
    examples = Examples(texts, labels.tolist(), predictions=predictions.tolist())
    report = evaluate_slices(
        examples, [Slice.contains_word("not"), Slice.length(4)], n_bootstrap=20
    )
    assert report['contains "not"'].n == sum("not" in t.split() for t in texts)
    assert report["4+ words"].n == 0
    assert "word units" in bars  # the one loop over the texts shows a bar
    discovered = discover_slices(examples, max_words=1, min_support=100, top=3, n_bootstrap=20)
    assert discovered.family_size == 42
