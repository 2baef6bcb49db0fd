"""Alignment scores (AER, precision, recall, F1) on hand-computed cases, score matrices to
links, and the random baseline."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.data import make_synthetic_corpus
from workbench.errors import InputError
from workbench.explain.alignment import (
    alignment_error_rate,
    alignment_scores,
    alignments_from_matrix,
    random_alignments,
    random_baseline,
)

SURE = {(0, 0), (1, 1), (2, 2)}
POSSIBLE = {(3, 2)}  # P = S ∪ {(3, 2)}: sure links always count as possible
PREDICTED = {(0, 0), (1, 2), (3, 2), (2, 1)}


def test_aer_on_a_hand_computed_case():
    # |A| = 4, |S| = 3, |P| = 4
    # A ∩ S = {(0, 0)}                 -> 1
    # A ∩ P = {(0, 0), (3, 2)}         -> 2
    # AER       = 1 - (1 + 2) / (4 + 3) = 1 - 3/7 = 4/7 ≈ 0.5714
    # precision = |A ∩ P| / |A| = 2/4 = 0.5
    # recall    = |A ∩ S| / |S| = 1/3
    # F1        = 2 · 0.5 · (1/3) / (0.5 + 1/3) = (1/3) / (5/6) = 2/5
    scores = alignment_scores(PREDICTED, SURE, POSSIBLE)
    assert scores.aer == pytest.approx(4 / 7)
    assert scores.precision == pytest.approx(0.5)
    assert scores.recall == pytest.approx(1 / 3)
    assert scores.f1 == pytest.approx(0.4)
    assert (scores.predicted, scores.sure, scores.possible) == (4, 3, 4)
    assert (scores.sure_hits, scores.possible_hits, scores.sentences) == (1, 2, 1)
    assert alignment_error_rate(PREDICTED, SURE, POSSIBLE) == pytest.approx(4 / 7)
    # possible given without the sure links: they are added (P ⊇ S)
    assert alignment_error_rate(PREDICTED, SURE, POSSIBLE | SURE) == pytest.approx(4 / 7)


def test_with_sure_links_only_aer_is_one_minus_f1():
    # A ∩ S = {(0, 0)}: precision 1/4, recall 1/3, F1 = 2/7, AER = 1 - 2/7 = 5/7
    scores = alignment_scores(PREDICTED, SURE)
    assert scores.f1 == pytest.approx(2 / 7)
    assert scores.aer == pytest.approx(5 / 7) == 1 - scores.f1
    assert alignment_scores(SURE, SURE).aer == 0.0
    assert alignment_scores(SURE, SURE).f1 == 1.0


def test_a_corpus_sums_counts_over_sentences():
    # Sentence 1: A = S = {(0, 0)}; sentence 2: A = {(0, 1)}, S = {(0, 0), (1, 1), (2, 2)}.
    # Summed: |A| = 2, |S| = 4, |A ∩ S| = 1 -> AER = 1 - 2/6 = 2/3.
    # The mean of the sentences' AERs would be (0 + 1) / 2 = 1/2: not what is reported.
    predicted = [[(0, 0)], [(0, 1)]]
    sure = [[(0, 0)], [(0, 0), (1, 1), (2, 2)]]
    scores = alignment_scores(predicted, sure)
    assert scores.aer == pytest.approx(2 / 3)
    assert scores.sentences == 2
    assert (scores.precision, scores.recall) == pytest.approx((1 / 2, 1 / 4))
    # ParallelPair.alignment tuples and numpy arrays are accepted as links.
    assert alignment_error_rate(np.array([[0, 0], [1, 1]]), ((0, 0), (1, 1))) == 0.0


def test_empty_sets():
    perfect = alignment_scores([], [])
    assert (perfect.precision, perfect.recall, perfect.f1, perfect.aer) == (1.0, 1.0, 1.0, 0.0)
    nothing_predicted = alignment_scores(set(), SURE)
    assert (nothing_predicted.precision, nothing_predicted.recall) == (0.0, 0.0)
    assert nothing_predicted.aer == 1.0 and nothing_predicted.f1 == 0.0
    nothing_to_find = alignment_scores(SURE, set())
    assert nothing_to_find.aer == 1.0 and nothing_to_find.recall == 0.0
    # an empty sentence inside a corpus counts nothing
    assert alignment_error_rate([[], [(0, 0)]], [[], [(0, 0)]]) == 0.0


def test_bad_links_are_refused():
    with pytest.raises(InputError, match="not a link"):
        alignment_scores([(0, 1, 2)], SURE)
    with pytest.raises(InputError, match="at least 0"):
        alignment_scores([(-1, 0)], SURE)
    with pytest.raises(InputError, match="not text"):
        alignment_scores("0-0 1-1", SURE)
    with pytest.raises(InputError, match="predicted has 1 sentences, sure has 2"):
        alignment_scores([[(0, 0)]], [[(0, 0)], [(1, 1)]])
    with pytest.raises(InputError, match="one sentence's links but another argument is a corpus"):
        alignment_scores([(0, 0)], [[(0, 0)]])


def test_links_from_a_matrix():
    # rows: target words; columns: source words
    matrix = np.array(
        [
            [0.7, 0.2, 0.1],  # target 0 -> source 0
            [0.1, 0.3, 0.6],  # target 1 -> source 2
            [0.1, 0.5, 0.4],  # target 2 -> source 1
            [0.2, 0.1, 0.7],  # target 3 -> source 2
        ]
    )
    assert alignments_from_matrix(matrix) == ((0, 0), (1, 2), (2, 1), (2, 3))
    # per source column: 0 -> target 0, 1 -> target 2, 2 -> target 3
    assert alignments_from_matrix(matrix, "argmax-per-source") == ((0, 0), (1, 2), (2, 3))
    assert alignments_from_matrix(matrix, "intersection") == ((0, 0), (1, 2), (2, 3))
    assert alignments_from_matrix(matrix, "threshold", threshold=0.6) == (
        (0, 0),
        (2, 1),
        (2, 3),
    )
    with pytest.raises(InputError, match="needs threshold"):
        alignments_from_matrix(matrix, "threshold")
    with pytest.raises(InputError, match="unknown method"):
        alignments_from_matrix(matrix, "argmax")
    with pytest.raises(InputError, match="2-D"):
        alignments_from_matrix(matrix[0])


def test_matrix_signs_ties_nan_and_flat_rows():
    signed = np.array([[0.2, -0.9], [0.5, 0.1]])
    assert alignments_from_matrix(signed) == ((0, 0), (0, 1))
    assert alignments_from_matrix(signed, absolute=True) == ((0, 1), (1, 0))
    odd = np.array(
        [
            [0.4, 0.4, 0.1],  # a tie: the lower index
            [0.0, 0.0, 0.0],  # prefers nothing: no link
            [np.nan, np.nan, np.nan],  # no scores: no link
            [np.nan, 0.1, 0.3],  # NaN ignored
        ]
    )
    assert alignments_from_matrix(odd) == ((0, 0), (2, 3))
    assert alignments_from_matrix(np.ones((2, 1))) == ((0, 0), (0, 1))  # one source word
    assert alignments_from_matrix(np.zeros((0, 3))) == ()


def test_gold_links_of_the_synthetic_corpus_score_perfectly_and_random_does_not():
    corpus = make_synthetic_corpus(n_train=200, n_valid=0, n_test=0, n_long=0)
    gold = [pair.alignment for pair in corpus.train]
    lengths = [(len(p.source.split()), len(p.target.split())) for p in corpus.train]
    assert alignment_error_rate(gold, gold) == 0.0
    chance = random_baseline(lengths, gold, seed=0)
    assert chance.aer > 0.6
    # one random link per target word
    assert chance.predicted == 10 * sum(m for _, m in lengths)
    assert chance.sentences == 200
    # A matrix that puts 1 on the gold links: argmax per target gives one gold link per
    # target word (the first of the two for "pick up" -> "lefa").
    for pair, (n, m) in zip(corpus.train[:50], lengths[:50], strict=True):
        matrix = np.zeros((m, n))
        for i, j in pair.alignment:
            matrix[j, i] = 1.0
        links = alignments_from_matrix(matrix)
        assert set(links) <= set(pair.alignment)
        assert sorted(j for _, j in links) == list(range(m))


def test_random_baseline_is_seeded():
    gold = [[(0, 0), (1, 1)], [(0, 1), (1, 0), (2, 2)]]
    lengths = [(2, 2), (3, 3)]
    assert random_baseline(lengths, gold, seed=3) == random_baseline(lengths, gold, seed=3)
    assert random_alignments(5, 4, seed=1) == random_alignments(5, 4, seed=1)
    draws = {random_alignments(5, 4, seed=s) for s in range(10)}
    assert len(draws) > 1
    links = random_alignments(5, 4, seed=1)
    assert sorted(j for _, j in links) == [0, 1, 2, 3] and all(0 <= i < 5 for i, _ in links)
    assert random_alignments(0, 4) == () and random_alignments(3, 0) == ()
    with pytest.raises(InputError, match="lengths has 1 sentences but sure has 2"):
        random_baseline([(2, 2)], gold)
    with pytest.raises(InputError, match="repeats"):
        random_baseline(lengths, gold, repeats=0)
