"""Tests for workbench.distill: augmentation, cached teacher labels, and distillation."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import torch

import workbench.classifier
from workbench import TextClassifier, TfidfLogisticRegression
from workbench.distill import (
    MASK_TEXT,
    TransferSet,
    artifact_fingerprint,
    augment,
    distill,
    teacher_probabilities,
    transfer_set,
)
from workbench.errors import InputError
from workbench.tokenizer import WordTokenizer, split_words

TEXTS = [
    "The food was great, and the staff lovely!",
    "awful service ; dull plot",
    "a superb movie",
    "bad",
]


# ------------------------------------------------------------------ augmentation
def test_augment_is_deterministic_for_a_seed():
    first = augment(TEXTS, n_per_text=5, seed=3)
    assert first == augment(TEXTS, n_per_text=5, seed=3)
    assert first != augment(TEXTS, n_per_text=5, seed=4)
    assert 0 < len(first) <= 5 * len(TEXTS)


def test_augment_keeps_only_words_of_the_corpus_and_the_mask():
    corpus_units = {w.text for text in TEXTS for w in split_words(text)}
    copies = augment(TEXTS, n_per_text=20, p_mask=0.3, p_replace=0.3, seed=0)
    used = {unit for copy in copies for unit in copy.split(" ")}
    assert used <= corpus_units | {MASK_TEXT}
    assert MASK_TEXT in used
    originals = {" ".join(w.text for w in split_words(text)) for text in TEXTS}
    assert not originals & set(copies)
    assert len(set(copies)) == len(copies)


def test_augment_masks_words_but_never_punctuation():
    (copy,) = augment(["great, truly!"], n_per_text=1, p_mask=1.0, p_replace=0.0, p_ngram=0.0)
    assert copy == f"{MASK_TEXT} , {MASK_TEXT} !"


def test_augment_ngram_sampling_keeps_a_window_of_at_most_five_units():
    text = "one two three four five six seven eight nine ten"
    copies = augment([text], n_per_text=30, p_mask=0.0, p_replace=0.0, p_ngram=1.0)
    assert copies
    for copy in copies:
        assert 1 <= len(copy.split()) <= 5
        assert copy in text


def test_augment_with_nothing_to_do_returns_no_copies():
    assert augment(TEXTS, n_per_text=0) == []
    assert augment(TEXTS, n_per_text=3, p_mask=0, p_replace=0, p_ngram=0) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"p_mask": 1.5}, "p_mask"),
        ({"p_ngram": -0.1}, "p_ngram"),
        ({"p_mask": 0.6, "p_replace": 0.6}, "at most 1"),
        ({"n_per_text": -1}, "n_per_text"),
    ],
)
def test_augment_bad_settings_raise_input_error(kwargs, message):
    with pytest.raises(InputError, match=message):
        augment(TEXTS, **kwargs)


def test_the_student_tokenizer_reads_the_mask_as_an_unknown_word():
    tokenizer = WordTokenizer.train(TEXTS)
    ids = tokenizer.encode_ids([f"great {MASK_TEXT} food"])[0]
    assert ids[2] == tokenizer.unk_id and len(ids) == 4


# ------------------------------------------------------------------ teacher labels
class CountingTeacher:
    """A TF-IDF teacher that counts the texts it is asked about."""

    def __init__(self, model: TfidfLogisticRegression) -> None:
        self.model, self.classes_, self.texts_seen = model, model.classes_, 0

    def predict_proba(self, texts):
        self.texts_seen += len(texts)
        return self.model.predict_proba(texts)

    def save(self, directory):
        return self.model.save(directory)


@pytest.fixture(scope="module")
def tfidf_teacher(make_corpus) -> TfidfLogisticRegression:
    # A small C keeps the teacher unsure, so its soft labels carry more than its arg-max.
    return TfidfLogisticRegression(C=0.5).fit(*make_corpus(48, seed=11))


def test_second_run_reads_the_cache_instead_of_the_teacher(tfidf_teacher, heldout, tmp_path):
    teacher = CountingTeacher(tfidf_teacher)
    texts = heldout[0][:30]
    first = teacher_probabilities(teacher, texts, tmp_path, progress=False)
    assert teacher.texts_seen == 30
    second = teacher_probabilities(teacher, texts, tmp_path, progress=False)
    assert teacher.texts_seen == 30  # not asked again
    assert np.array_equal(first, second)
    np.testing.assert_array_equal(first, tfidf_teacher.predict_proba(texts))
    (cached,) = tmp_path.glob("teacher-*.npy")
    assert np.array_equal(np.load(cached, allow_pickle=False), first)
    teacher_probabilities(teacher, texts[:-1], tmp_path, progress=False)
    assert teacher.texts_seen == 59  # other texts, another entry


def test_cache_key_follows_the_teacher_artifact(tfidf_teacher, make_corpus, heldout, tmp_path):
    texts = heldout[0][:10]
    path = tfidf_teacher.save(tmp_path / "teacher")
    fingerprint = artifact_fingerprint(path)
    first = teacher_probabilities(path, texts, tmp_path / "cache", progress=False)
    np.testing.assert_array_equal(first, tfidf_teacher.predict_proba(texts))
    # An in-memory teacher is known by the artifact it writes: the same cache entry.
    teacher_probabilities(tfidf_teacher, texts, tmp_path / "cache", progress=False)
    assert len(list((tmp_path / "cache").glob("teacher-*.npy"))) == 1
    # Another model saved at the same path is another teacher.
    TfidfLogisticRegression(C=50.0).fit(*make_corpus(48, seed=12)).save(path)
    assert artifact_fingerprint(path) != fingerprint
    second = teacher_probabilities(path, texts, tmp_path / "cache", progress=False)
    assert len(list((tmp_path / "cache").glob("teacher-*.npy"))) == 2
    assert not np.allclose(first, second)


def test_a_damaged_cache_file_is_recomputed(tfidf_teacher, heldout, tmp_path):
    teacher = CountingTeacher(tfidf_teacher)
    texts = heldout[0][:5]
    expected = teacher_probabilities(teacher, texts, tmp_path, progress=False)
    (cached,) = tmp_path.glob("teacher-*.npy")
    cached.write_bytes(b"not numpy")
    assert np.array_equal(teacher_probabilities(teacher, texts, tmp_path, progress=False), expected)
    assert teacher.texts_seen == 10
    assert not list(tmp_path.glob(".teacher-*"))  # no temporary file left behind


def test_cache_needs_a_teacher_that_can_be_saved(tfidf_teacher, tmp_path):
    class Unsaveable:
        classes_ = tfidf_teacher.classes_
        predict_proba = staticmethod(tfidf_teacher.predict_proba)

    assert teacher_probabilities(Unsaveable(), ["good"], progress=False).shape == (1, 2)
    with pytest.raises(InputError, match="no save"):
        teacher_probabilities(Unsaveable(), ["good"], tmp_path, progress=False)


def test_something_that_is_not_a_model_is_no_teacher():
    with pytest.raises(InputError, match="predict_proba.*classes_"):
        teacher_probabilities(object(), ["good"])


# ------------------------------------------------------------------ distillation
def tiny_student(tiny_model_config, tiny_train_config, **train) -> TextClassifier:
    return TextClassifier(
        tiny_model_config(d_model=16, num_layers=1, num_heads=2, d_ff=32),
        tiny_train_config(**{"num_epochs": 2, "max_steps": 12, **train}),
        calibrate=False,  # compare the networks' own probabilities
    )


def test_distilled_student_moves_toward_the_teacher(
    make_corpus, corpus, heldout, tiny_model_config, tiny_train_config, tmp_path
):
    # A teacher that learnt the opposite of the gold labels: moving toward it can only come
    # from its soft labels, while a student of the gold labels moves away.
    teacher_texts, teacher_labels = make_corpus(48, seed=11)
    flip = {"positive": "negative", "negative": "positive"}
    teacher = TfidfLogisticRegression().fit(teacher_texts, [flip[y] for y in teacher_labels])
    texts, labels = corpus[0][:48], corpus[1][:48]
    probe = heldout[0]

    def distance(student) -> float:  # mean |p - p_teacher| on unseen texts
        return float(np.abs(student.predict_proba(probe) - teacher.predict_proba(probe)).mean())

    def student(**train) -> TextClassifier:
        torch.manual_seed(0)
        settings = {"num_epochs": 3, "max_steps": 20, **train}
        return tiny_student(tiny_model_config, tiny_train_config, **settings)

    untrained = student(max_steps=1).fit(texts, labels, val_size=0, progress=False)
    gold = student().fit(texts, labels, val_size=0, progress=False)
    distilled = distill(
        teacher,
        texts,
        labels,
        student=student(distill_alpha=1.0),
        augment_per_text=2,
        cache_dir=tmp_path,
        val_size=0,  # gold-label early stopping would pick the least teacher-like epoch
        progress=False,
    )
    assert isinstance(distilled, TextClassifier)
    assert distilled.classes_.tolist() == teacher.classes_.tolist()
    assert distance(distilled) < 0.75 * distance(untrained) < 0.75 * distance(gold)
    assert list(tmp_path.glob("teacher-*.npy"))


def test_distill_holds_out_validation_before_augmenting_and_orders_columns(
    corpus, tiny_model_config, tiny_train_config, monkeypatch
):
    class ReversedTeacher:
        """Columns in reverse label order: p(positive) is column 0."""

        classes_ = np.array(["positive", "negative"])

        def predict_proba(self, texts):
            return np.tile([0.7, 0.3], (len(texts), 1))

    calls = []
    real_fit = workbench.classifier.fit

    def recording_fit(model, train_data, val_data, config, **kwargs):
        calls.append((train_data, val_data))
        return real_fit(model, train_data, val_data, config, **kwargs)

    monkeypatch.setattr(workbench.classifier, "fit", recording_fit)
    texts, labels = corpus
    student = tiny_student(tiny_model_config, tiny_train_config, max_steps=1)
    distill(ReversedTeacher(), texts, labels, student=student, augment_per_text=1, progress=False)
    ((train_data, val_data),) = calls
    np.testing.assert_allclose(train_data.soft_labels, np.tile([0.3, 0.7], (len(train_data), 1)))
    assert len(val_data) == round(0.1 * len(texts))  # the gold-labelled hold-out only
    assert val_data.soft_labels is None
    gold = sum(y >= 0 for y in train_data.labels)
    assert gold == len(texts) - len(val_data) and len(train_data) > gold  # copies have -1


def test_distill_accepts_a_teacher_directory(
    tfidf_teacher, corpus, tiny_model_config, tiny_train_config, tmp_path
):
    path = tfidf_teacher.save(tmp_path / "teacher")
    student = tiny_student(tiny_model_config, tiny_train_config, max_steps=1)
    distill(str(path), *corpus, student=student, val_size=0, progress=False)
    assert student.classes_.tolist() == ["negative", "positive"]


def test_a_teacher_with_other_labels_is_refused(tfidf_teacher, make_corpus):
    texts, labels = make_corpus(32, labels=("good", "bad"))
    with pytest.raises(InputError) as info:
        distill(tfidf_teacher, texts, labels, progress=False)
    message = str(info.value)
    assert "\n" not in message
    assert re.search(r"\['negative', 'positive'\].*\['bad', 'good'\]", message)


def test_a_transfer_set_survives_a_csv_round_trip_and_trains_a_student(
    tfidf_teacher, corpus, tiny_model_config, tiny_train_config, tmp_path
):
    built = transfer_set(tfidf_teacher, *corpus, augment_per_text=2, progress=False)
    assert built.validation is not None and len(built.validation) == round(0.1 * len(corpus[0]))
    assert built.labels.count(None) == len(built.texts) - (len(corpus[0]) - len(built.validation))
    path = tmp_path / "transfer.csv"
    built.to_frame().to_csv(path, index=False)
    read = TransferSet.from_frame(pd.read_csv(path, keep_default_na=False), str(path))
    assert read.texts == built.texts and read.labels == built.labels
    assert read.classes == built.classes == ["negative", "positive"]
    np.testing.assert_allclose(read.soft_labels, built.soft_labels, atol=1e-6)
    assert read.validation.texts == built.validation.texts
    student = read.fit(tiny_student(tiny_model_config, tiny_train_config), progress=False)
    assert student.classes_.tolist() == ["negative", "positive"]


def test_a_transfer_table_without_its_columns_is_refused():
    table = pd.DataFrame({"text": ["a"], "label": ["x"]})
    with pytest.raises(InputError, match="text, label, split and one p_<class>"):
        TransferSet.from_frame(table, "mine.csv")
