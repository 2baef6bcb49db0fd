"""Tests for workbench.analysis.behaviour: the shipped CheckList-style suite on a model built
to fail some tests (a keyword scorer that ignores negation), labelled and unlabelled texts,
user-written tests, the JSON record, bounded work on large input, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from workbench.analysis.behaviour import (
    BehaviourTest,
    Case,
    directional_test,
    invariance_test,
    mft_test,
    run_suite,
    sentiment_classes,
    sentiment_suite,
    template_reviews,
)
from workbench.analysis.lexicon import load_lexicon
from workbench.errors import InputError
from workbench.tokenizer import split_words

LEXICON = load_lexicon()
SCORES = {"positive": 1.0, "negative": -1.0}


class KeywordModel:
    """Counts the lexicon's sentiment words and ignores everything else (negation too):
    p(positive) = sigmoid(#positive - #negative). A tie (0.5) predicts classes_[0]."""

    def __init__(self, classes=("negative", "positive")):
        self.classes_ = np.array(classes)
        self.calls: list[int] = []

    def fit(self, texts, labels):
        return self

    def predict_proba(self, texts):
        self.calls.append(len(texts))
        scores = [
            sum(SCORES.get(LEXICON.polarity(w.text) or "", 0.0) for w in split_words(t))
            for t in texts
        ]
        p = 1.0 / (1.0 + np.exp(-np.asarray(scores, dtype=float)))
        return np.column_stack([1.0 - p, p])


def rates(result) -> dict[str, float]:
    frame = result.to_frame()
    return dict(zip(frame["name"], frame["pass_rate"], strict=True))


def test_keyword_model_fails_negation_and_passes_name_swaps():
    result = run_suite(KeywordModel(), progress=False)
    frame = result.to_frame().set_index("name")
    assert list(frame.index) == [t.name for t in sentiment_suite()]
    assert rates(result) == {
        "simple sentiment words": 1.0,
        "negated positive": 0.0,  # "not" is ignored: "not good" stays positive
        "negation flips positive texts": 0.0,
        "intensifier strengthens": 1.0,  # "very" is no sentiment word: no change
        # one positive and one negative word tie at 0.5, which predicts "negative": right
        # when the clause after "but" is negative, wrong when it is positive
        "contrast with but": 0.5,
        # 2 of 5 prefixes carry no sentiment word (48 of 120); every suffix case is praise
        "sarcasm markers": 48 / 264,
        "neutral filler": 1.0,
        "name swap": 1.0,
        "place swap": 1.0,
        "synonym": 1.0,
        "antonym flip": 1.0,
    }
    assert frame.loc["contrast with but", "n"] == 12 * 2 * 4 * 2  # nouns, orders, pairs, templates
    assert frame.loc["negated positive", "n"] == 500  # max_cases
    low, high = frame.loc["contrast with but", ["pass_rate_low", "pass_rate_high"]]
    assert low < 0.5 < high
    assert frame.loc["name swap", "pass_rate_low"] == 1.0
    assert frame["skipped"].isna().all()
    summary = result.summary()
    assert "templated reviews" in summary
    assert "0/500 passed" in summary and "Weakest: 'negated positive' (negation)" in summary


def test_failures_show_the_edit_the_predictions_and_the_probabilities():
    result = run_suite(KeywordModel(), progress=False, max_cases=20)
    failures = result.failures("negation flips positive texts")
    assert len(failures) == 20
    row = failures.iloc[0]
    assert " not " in row["text"] and " not " not in row["original"]
    assert "{+" in row["diff"] and row["diff"].count("[-") == 1
    assert row["original_prediction"] == "positive" and row["prediction"] == "positive"
    assert row["expected"] == "negative"
    assert row["probabilities"] == row["original_probabilities"]
    assert row["probabilities"]["positive"] == pytest.approx(1 / (1 + np.exp(-1)), abs=1e-6)
    assert result.failures("name swap").empty
    mft = result.failures("negated positive", limit=3)
    assert len(mft) == 3 and mft["original"].isna().all() and mft["diff"].isna().all()
    with pytest.raises(InputError, match="no behaviour test named 'negation'"):
        result.failures("negation")


TEXTS = [
    "The food was good.",  # positive: negation and antonym apply
    "I loved this hotel.",  # positive: negation applies ("did not love")
    "Sarah said the staff were friendly.",  # positive: negation, name, antonym
    "The room was dirty.",  # negative: not used by the negation test
    "Great trip to Paris!",  # positive, no auxiliary: no negation case
    "It was not good.",  # negative, already negated
]
LABELS = [1, 1, 1, 0, 1, 0]


def test_labelled_texts_with_numeric_classes():
    model = KeywordModel(classes=(0, 1))
    with pytest.raises(InputError, match=r"cannot tell which of the model's classes \[0, 1\]"):
        run_suite(model, texts=TEXTS, labels=LABELS, progress=False)
    result = run_suite(model, texts=TEXTS, labels=LABELS, positive=1, negative=0, progress=False)
    frame = result.to_frame().set_index("name")
    # Negation: the three positive texts with an auxiliary or a listed verb; all fail.
    assert frame.loc["negation flips positive texts", ["n", "passed"]].tolist() == [3, 0]
    neg = result["negation flips positive texts"].outcomes
    assert sorted(o.case.text for o in neg) == [
        "I did not love this hotel.",
        "Sarah said the staff were not friendly.",
        "The food was not good.",
    ]
    # "It was not good." holds a negation, so the antonym test leaves it out.
    assert frame.loc["antonym flip", ["n", "passed"]].tolist() == [5, 5]
    # Name swaps: the one text with a name first, then templated reviews.
    assert result["name swap"].outcomes[0].case.original == TEXTS[2]
    assert frame.loc["name swap", "n"] == 500
    assert "your texts" in result.summary()
    # Labels written as "positive"/"negative" mean the same classes.
    named = ["positive" if y else "negative" for y in LABELS]
    again = run_suite(model, texts=TEXTS, labels=named, positive=1, negative=0, progress=False)
    assert again.to_dict() == result.to_dict()


def test_unlabelled_texts_skip_only_the_tests_that_need_labels():
    result = run_suite(KeywordModel(), texts=TEXTS, progress=False)
    frame = result.to_frame().set_index("name")
    skipped = frame["skipped"].dropna()
    assert list(skipped.index) == ["negation flips positive texts"]
    assert "needs labels" in skipped.iloc[0] and "--label-col" in skipped.iloc[0]
    assert np.isnan(frame.loc["negation flips positive texts", "pass_rate"])
    assert frame.loc["neutral filler", "n"] == len(TEXTS)
    assert frame.loc["antonym flip", "pass_rate"] == 1.0
    assert "skipped: needs labels" in result.summary()
    record = result.to_dict()[2]
    assert record["pass_rate"] is None and record["n"] == 0 and record["failures"] == []


def test_user_defined_tests_in_a_few_lines():
    emoji = mft_test("emoji", "vocabulary", [("Loved it 😍", "positive"), ("Meh 👎", "negative")])
    typos = invariance_test("typos", "robustness", lambda text: [text.replace("the", "teh")])
    louder = directional_test(
        "exclamation", "intensifiers", lambda text: [text + "!!!"], direction="stronger"
    )

    def down(text):  # a weaker word: the sentiment must not grow
        return [text.replace("great", "fine")]

    weaker = directional_test("downgrade", "intensifiers", down, direction="weaker")
    result = run_suite(
        KeywordModel(), [emoji, typos, louder, weaker], texts=TEXTS, progress=False,
    )  # fmt: skip
    frame = result.to_frame().set_index("name")
    assert frame["pass_rate"].iloc[:3].tolist() == [1.0, 1.0, 1.0]
    assert frame.loc["typos", "n"] == 1  # only one text holds "the" (the others "The")
    assert frame.loc["downgrade", "n"] == 0  # "Great" is capitalised: no case
    assert frame.loc["downgrade", "skipped"] == "no case: no text fits this test"

    # A custom check: the model must be at least 90% sure on the MFT texts.
    def confident(outcome, tolerance):
        return outcome.probability(outcome.case.expected) >= 0.9

    sure = BehaviourTest(
        "confident", "MFT", "calibration",
        lambda context: [Case("good great lovely", expected=context.positive)], check=confident,
    )  # fmt: skip
    assert rates(run_suite(KeywordModel(), [sure], progress=False)) == {"confident": 1.0}


def test_a_lexicon_of_your_own_reaches_the_shipped_tests(tmp_path):
    shipped = json.loads(Path(LEXICON.source).read_text(encoding="utf-8"))
    shipped["fillers"] = ["Nothing to add."]
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(shipped), encoding="utf-8")
    filler = [t for t in sentiment_suite() if t.name == "neutral filler"]
    result = run_suite(KeywordModel(), filler, TEXTS, lexicon=load_lexicon(path), progress=False)
    cases = [o.case.text for o in result["neutral filler"].outcomes]
    assert len(cases) == len(TEXTS)
    assert all("Nothing to add." in text for text in cases)


def test_to_dict_is_json_ready_with_the_fields_the_cli_writes():
    named = ["positive" if y else "negative" for y in LABELS]
    result = run_suite(KeywordModel(), texts=TEXTS, labels=named, progress=False, max_cases=5)
    records = json.loads(json.dumps(result.to_dict(max_failures=2)))
    assert [r["name"] for r in records] == [t.name for t in sentiment_suite()]
    for record in records:
        assert {"name", "kind", "capability", "n", "pass_rate", "failures"} <= set(record)
        assert len(record["failures"]) <= 2
    negation = records[2]
    assert negation["kind"] == "DIR" and negation["pass_rate"] == 0.0
    failure = negation["failures"][0]
    edit = failure["edits"][0]
    assert failure["original"][edit["start"] : edit["end"]] == edit["old"]
    assert "not" in edit["new"].split() and failure["diff"].count("{+") == 1
    assert set(failure["probabilities"]) == {"negative", "positive"}
    assert negation["interval"]["confidence"] == 0.95


def test_same_seed_same_cases_and_max_cases_bounds_the_work_on_large_input():
    # Two sentiment words in every text: the antonym test fits none and reads max_texts.
    big = [f"Review {i}: the movie was good and the staff were friendly." for i in range(100_000)]
    model = KeywordModel()
    settings = {"max_cases": 30, "max_texts": 2_000, "progress": False}
    result = run_suite(model, texts=big, **settings)
    # 11 tests x 30 cases, each an original and a variant, at most: one batched call.
    assert sum(model.calls) <= 11 * 30 * 2 and len(model.calls) == 1
    assert all(n <= 30 for n in result.to_frame()["n"])
    assert result["antonym flip"].skipped == "no case: no text fits this test"
    again = run_suite(KeywordModel(), texts=big, **settings)
    assert again.to_dict() == result.to_dict()
    other = run_suite(KeywordModel(), texts=big, seed=1, **settings)
    originals = {o.case.original for o in result["neutral filler"].outcomes}
    assert originals != {o.case.original for o in other["neutral filler"].outcomes}


def test_templated_reviews_and_sentiment_class_names():
    reviews = template_reviews()
    assert ("The hotel was lovely.", "positive") in reviews
    assert ("I hate this app.", "negative") in reviews
    assert sentiment_classes(["NEG", "POS"]) == ("POS", "NEG")
    assert sentiment_classes(["negative", "neutral", "positive"]) == ("positive", "negative")
    assert sentiment_classes([0, 1], positive="1", negative="0") == (1, 0)  # a CLI's strings
    with pytest.raises(InputError, match="positive='yes' is not one of the model's classes"):
        sentiment_classes(["negative", "positive"], positive="yes")


def test_bad_input_messages():
    model = KeywordModel()
    with pytest.raises(InputError, match="not a fitted text model"):
        run_suite(object())
    with pytest.raises(InputError, match="there are 2 texts but 1 labels"):
        run_suite(model, texts=["a", "b"], labels=["positive"], progress=False)
    with pytest.raises(InputError, match="not among classes"):
        run_suite(model, texts=["a", "b"], labels=["positive", "meh"], progress=False)
    with pytest.raises(InputError, match="a label is missing"):
        run_suite(model, texts=["a", "b"], labels=["positive", None], progress=False)
    with pytest.raises(InputError, match="labels are given without texts"):
        run_suite(model, labels=["positive"], progress=False)
    with pytest.raises(InputError, match="must be a list of strings, not one string"):
        run_suite(model, texts="The food was good.", progress=False)
    with pytest.raises(InputError, match="max_cases must be a whole number of at least 1"):
        run_suite(model, max_cases=0, progress=False)
    with pytest.raises(InputError, match="two tests share the name 'synonym'"):
        run_suite(model, [*sentiment_suite(), sentiment_suite()[-2]], progress=False)
    with pytest.raises(InputError, match="non-empty list of BehaviourTest"):
        run_suite(model, [], progress=False)
    with pytest.raises(InputError, match="kind must be one of MFT, INV, DIR"):
        BehaviourTest("x", "ABC", "negation", lambda context: [])  # type: ignore[arg-type]
    with pytest.raises(InputError, match="tolerance must be a probability"):
        BehaviourTest("x", "INV", "negation", lambda context: [], tolerance=2.0)
    with pytest.raises(InputError, match="direction must be 'flip', 'stronger' or 'weaker'"):
        directional_test("x", "y", lambda t: [t], direction="up")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="per_text must be a whole number of at least 1"):
        invariance_test("x", "y", lambda t: [t], per_text=0)
    with pytest.raises(InputError, match=r"examples must be a non-empty list of \(text, label\)"):
        mft_test("x", "y", [])
    wrong = mft_test("wrong label", "y", [("fine", "maybe")])
    with pytest.raises(InputError, match="test 'wrong label': expected='maybe' is not among"):
        run_suite(model, [wrong], progress=False)


def test_runs_on_a_trained_classifier(trained_clf, heldout):
    texts, labels = heldout
    result = run_suite(trained_clf, texts=texts, labels=labels, max_cases=40, progress=False)
    frame = result.to_frame()
    assert len(frame) == len(sentiment_suite())
    counted = frame[frame["n"] > 0]
    assert ((counted["pass_rate"] >= 0) & (counted["pass_rate"] <= 1)).all()
    assert (counted["pass_rate_low"] <= counted["pass_rate"]).all()
    json.dumps(result.to_dict())
