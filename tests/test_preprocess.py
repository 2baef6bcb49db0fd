"""Tests for workbench.preprocess: each step, and the study that measures their effect."""

import numpy as np
import pytest

from workbench.data import LabeledTexts
from workbench.preprocess import VARIANTS, is_negation, preprocess, preprocessing_study


def test_steps_apply_as_documented():
    text = "The Plot <b>was</b> NOT good :-( see http://x.io"
    assert preprocess(text) == text
    assert preprocess(text, lowercase=True) == text.lower()
    assert preprocess(text, remove_noise=True) == "The Plot was NOT good see"
    assert preprocess(text, remove_noise=True, remove_stopwords=True) == "Plot good"
    kept = preprocess(text, remove_noise=True, remove_stopwords=True, keep_negations=True)
    assert kept == "Plot NOT good"


@pytest.mark.parametrize(
    ("word", "expected"), [("not", True), ("Never", True), ("didn't", True), ("good", False)]
)
def test_is_negation(word, expected):
    assert is_negation(word) is expected


def test_study_shows_that_dropping_negations_hurts():
    class WordRule:
        """Predicts "neg" when "not" appears, else "pos": a model that needs negation."""

        def fit(self, texts, labels):
            return self

        def predict(self, texts):
            return np.array(["neg" if "not" in t.split() else "pos" for t in texts])

    test = LabeledTexts(["good", "not good", "fine", "not fine"], ["pos", "neg"] * 2, "t")
    negated = [False, True, False, True]
    table = preprocessing_study(test, test, WordRule, groups={"negation": negated})
    assert list(table.index) == list(VARIANTS)
    assert table.loc["as written", "accuracy"] == 1.0
    assert table.loc["stop words removed", "accuracy (negation)"] == 0.0
    assert table.loc["stop words removed, negations kept", "accuracy (negation)"] == 1.0
