"""Comparison.verdict: a pair of models in words, from hand-made predictions whose McNemar
counts (texts only one model gets right) are chosen so that each verdict is certain."""

from __future__ import annotations

import numpy as np
import pytest

from workbench import InputError, LabeledTexts
from workbench.compare import Comparison, compare


class FixedModel:
    """Right on the test texts listed in ``right``, wrong (and confident) elsewhere."""

    def __init__(self, truth: dict[str, str], right: set[str]) -> None:
        self.truth, self.right = truth, right

    def fit(self, texts, labels):
        self.classes_ = np.array(["neg", "pos"])
        return self

    def predict_proba(self, texts):
        pos = [(self.truth[t] == "pos") == (t in self.right) for t in texts]
        return np.array([[0.2, 0.8] if p else [0.8, 0.2] for p in pos])


def comparison(n: int, only_a: int, only_b: int, both_wrong: int = 0) -> Comparison:
    """``n`` test texts: a alone right on ``only_a``, b alone on ``only_b``, both wrong on
    ``both_wrong`` and both right on the rest."""
    texts = [f"text {i}" for i in range(n)]
    truth = dict(zip(texts, ["pos", "neg"] * (n // 2) + ["pos"] * (n % 2), strict=True))
    a_right = set(texts[:only_a]) | set(texts[only_a + only_b + both_wrong :])
    b_right = set(texts[only_a : only_a + only_b]) | set(texts[only_a + only_b + both_wrong :])
    data = LabeledTexts(texts, [truth[t] for t in texts], "test")
    return compare(
        [("a", FixedModel(truth, a_right)), ("b", FixedModel(truth, b_right))],
        data,
        data,
        n_bootstrap=500,
        latency_repeats=1,
        progress=False,
    )


def test_a_real_difference():
    # 20 texts only a gets right, none only b: p = 2 / 2**20, and every resample favours a
    result = comparison(60, only_a=20, only_b=0)
    assert result.significance().iloc[0]["significant"]
    text = result.verdict("a", "b")
    assert text.endswith("a real difference on this test set")
    assert text.startswith("a (1.000) is 33.3 points above b (0.667)")


def test_cannot_be_told_apart():
    result = comparison(40, only_a=3, only_b=3, both_wrong=4)
    row = result.significance().iloc[0]
    assert not row["significant"] and row["diff_low"] < 0 < row["diff_high"]
    text = result.verdict("a", "b")
    assert text.startswith("a (0.825) is level with b (0.825)")
    assert text.endswith("cannot be told apart on this test set (within noise)")


def test_borderline_and_alpha():
    # 5 against 0: McNemar p = 2 / 2**5 = 0.0625, not under 0.05, yet with 20 texts almost
    # no resample (0.75**20 = 0.3%) lacks all five, so the interval excludes 0
    result = comparison(20, only_a=5, only_b=0)
    row = result.significance().iloc[0]
    assert row["p_holm"] == pytest.approx(0.0625)
    assert not row["significant"] and row["diff_low"] > 0
    assert result.verdict("a", "b").endswith(
        "borderline: McNemar-Holm and the bootstrap interval disagree"
    )
    assert result.verdict("a", "b", alpha=0.1).endswith("a real difference on this test set")


def test_order_flips_the_sign():
    result = comparison(20, only_a=5, only_b=0)
    row = result.significance().iloc[0]
    assert (row["model_a"], row["model_b"]) == ("a", "b")
    low, high = 100 * row["diff_low"], 100 * row["diff_high"]
    forward, backward = result.verdict("a", "b"), result.verdict("b", "a")
    assert forward.startswith("a (1.000) is 25.0 points above b (0.750)")
    assert f"[{low:+.1f}, {high:+.1f}] points" in forward
    assert backward.startswith("b (0.750) is 25.0 points below a (1.000)")
    assert f"[{-high:+.1f}, {-low:+.1f}] points" in backward
    assert forward.split(": ")[-1] == backward.split(": ")[-1]


def test_unknown_or_same_model():
    result = comparison(20, only_a=5, only_b=0)
    with pytest.raises(InputError, match=r"'c'.*\['a', 'b'\]"):
        result.verdict("a", "c")
    with pytest.raises(InputError, match="two different models"):
        result.verdict("a", "a")
