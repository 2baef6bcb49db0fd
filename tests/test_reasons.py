"""Tests for workbench.explain.reasons: do two models decide for the same reasons?"""

from __future__ import annotations

import numpy as np
import pytest

from workbench import InputError, ModelConfig, TextClassifier, TfidfLogisticRegression, TrainConfig
from workbench.data import planted_dataset
from workbench.explain.reasons import same_reasons

TEXTS = ["the movie was zork on this plot", "a blick film and the cast", "the plot was long"]


@pytest.fixture(scope="module")
def models():
    data = planted_dataset(n=300, seed=0)
    transformer = TextClassifier(
        ModelConfig(d_model=32, num_heads=2, num_layers=1, d_ff=64, max_length=16, dropout=0.0),
        TrainConfig(num_epochs=6, learning_rate=3e-3, seed=0),
    ).fit(data.texts, data.labels, val_size=0, progress=False)
    return transformer, TfidfLogisticRegression().fit(data.texts, data.labels)


def test_a_model_compared_with_itself_agrees_and_its_reasons_carry_over(models):
    transformer, _ = models
    table = same_reasons(transformer, transformer, TEXTS, "shap", k=1, progress=False)
    assert len(table) == len(TEXTS)
    np.testing.assert_allclose(table["spearman"].iloc[:2], 1.0)
    np.testing.assert_allclose(table["a_on_b"], table["a_on_a"])
    np.testing.assert_allclose(table["b_on_a"], table["b_on_b"])


def test_two_models_that_learned_the_planted_words_share_their_reasons(models):
    transformer, tfidf = models
    table = same_reasons(transformer, tfidf, TEXTS[:2], "shap", k=1, progress=False)
    assert (table["label_a"] == table["label_b"]).all()
    assert (table["top_k_overlap"] == 1.0).all()  # both rank the planted word first
    assert (table["a_on_b"] > 0.2).all() and (table["b_on_a"] > 0.2).all()


def test_models_with_other_labels_are_refused(models):
    transformer, _ = models
    other = TfidfLogisticRegression().fit(["good", "bad", "fine", "awful"], ["+", "-", "+", "-"])
    with pytest.raises(InputError, match="different labels"):
        same_reasons(transformer, other, TEXTS, progress=False)
