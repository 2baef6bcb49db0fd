"""Distillation: the from-scratch transformer learns from a stronger teacher's probabilities.

Hinton et al. 2015, "Distilling the Knowledge in a Neural Network": the student matches the
teacher's softened class distribution (the loss is :func:`workbench.train.distillation_loss`).
Tang et al. 2019, "Distilling Task-Specific Knowledge from BERT into Simple Neural
Networks": a small training set is too little to transfer a teacher's knowledge, so the
transfer set is enlarged with perturbed copies of the training texts (:func:`augment`),
which the teacher labels (:func:`teacher_probabilities`, cached on disk, because the teacher
is the slow part). :func:`distill` puts the pieces together::

    student = distill("runs/minilm", texts, labels, augment_per_text=8, cache_dir=".cache")

The teacher is any model with ``predict_proba`` and ``classes_`` (a ``TextClassifier``, a
``TfidfLogisticRegression``, a fine-tuned encoder...) or an artifact directory.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.artifacts import atomic_write, load_model
from workbench.classifier import TextClassifier
from workbench.config import TrainConfig
from workbench.data import (
    LabeledTexts,
    as_text_list,
    load_reviews_table,
    plain_labels,
    stratified_split,
    validate_labeled,
    validation_data,
)
from workbench.errors import InputError
from workbench.estimators import TextModel
from workbench.progress import progress_bar
from workbench.tokenizer import UNK, split_words

# What a masked word becomes: the WordTokenizer maps the literal text "[UNK]" to its
# unknown-word id, so the student learns what an unreadable word should mean (its [UNK]
# embedding is otherwise never trained: every training word is in its vocabulary). A
# BERT-style teacher's tokenizer reads "[UNK]" as its own unknown token; a TF-IDF teacher
# ignores it (a term it never saw), which is the same as deleting the word.
MASK_TEXT = UNK
_HAS_WORD_CHARACTER = re.compile(r"\w")
# Teacher probabilities are asked for in chunks of this many texts, for a progress bar.
_TEACHER_CHUNK = 512


def augment(
    texts: Sequence[str],
    *,
    n_per_text: int = 8,
    p_mask: float = 0.1,
    p_replace: float = 0.1,
    p_ngram: float = 0.25,
    seed: int = 0,
) -> list[str]:
    """Perturbed copies of ``texts`` for a distillation transfer set (Tang et al. 2019).

    Each copy starts from the original's word units (:func:`workbench.tokenizer.split_words`)
    and, word by word, with probability ``p_mask`` writes :data:`MASK_TEXT` instead of the
    word, else with probability ``p_replace`` writes another word of the corpus; then, with
    probability ``p_ngram``, it keeps only a random window of 1 to 5 consecutive units.
    Tang et al. replace a word by one with the same part-of-speech tag; without a tagger we
    draw the replacement uniformly from the distinct words of ``texts`` (rare words, often
    the opinionated ones, as likely as "the"), which makes counterfactuals such as "the
    food was superb" from "the food was dull" for the teacher to judge. Punctuation is
    never masked or replaced. Units are joined by single spaces.

    Args:
        texts: the training texts; they are also the corpus of replacement words.
        n_per_text: copies attempted per text.
        p_mask, p_replace: per-word probabilities (their sum at most 1).
        p_ngram: per-copy probability of cutting it to an n-gram.
        seed: the same seed and texts give the same copies.

    Returns:
        The distinct copies that differ from every original, grouped by source text in the
        order of ``texts`` (so fewer than ``n_per_text * len(texts)`` when draws collide).
    """
    texts = as_text_list(texts)
    for name, p in (("p_mask", p_mask), ("p_replace", p_replace), ("p_ngram", p_ngram)):
        if not 0.0 <= p <= 1.0:
            raise InputError(f"{name} must be a probability in [0, 1], got {p}")
    if p_mask + p_replace > 1.0:
        raise InputError(f"p_mask + p_replace must be at most 1, got {p_mask + p_replace}")
    if n_per_text < 0:
        raise InputError(f"n_per_text must be 0 or more, got {n_per_text}")
    units = [[word.text for word in split_words(text)] for text in texts]
    # Sorted: set order changes between Python runs, and the draws must not.
    vocabulary = sorted({u for row in units for u in row if _HAS_WORD_CHARACTER.search(u)})
    rng = np.random.default_rng(seed)
    seen = {" ".join(row) for row in units}  # an unchanged copy is no new text
    copies = []
    for row in units:
        for _ in range(n_per_text if row else 0):
            draws = rng.random(len(row))
            picks = rng.integers(max(len(vocabulary), 1), size=len(row))
            copy = []
            for unit, draw, pick in zip(row, draws, picks, strict=True):
                if not _HAS_WORD_CHARACTER.search(unit):
                    copy.append(unit)  # punctuation stays
                elif draw < p_mask:
                    copy.append(MASK_TEXT)
                elif draw < p_mask + p_replace:
                    copy.append(vocabulary[pick])
                else:
                    copy.append(unit)
            if rng.random() < p_ngram:
                n = min(int(rng.integers(1, 6)), len(copy))
                start = int(rng.integers(len(copy) - n + 1))
                copy = copy[start : start + n]
            text = " ".join(copy)
            if text not in seen:
                seen.add(text)
                copies.append(text)
    return copies


# ------------------------------------------------------------------ teacher labels
def _resolve_teacher(teacher: TextModel | str | os.PathLike) -> tuple[TextModel, Path | None]:
    """The teacher model, and its artifact directory when it was given as a path."""
    directory = None
    if isinstance(teacher, (str, os.PathLike)):
        directory = Path(teacher)
        model: TextModel = load_model(directory)
    else:
        model = teacher
    if not (hasattr(model, "predict_proba") and hasattr(model, "classes_")):
        raise InputError(
            f"a teacher needs predict_proba() and classes_ (a trained model or an artifact "
            f"directory); got {type(model).__name__}"
        )
    return model, directory


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def artifact_fingerprint(directory: str | os.PathLike) -> str:
    """sha256 over the sorted (relative path, file sha256) pairs of an artifact directory.

    ``metrics.json`` is left out: it records how training went (seconds), not what the
    model computes, so two saves of one model share a fingerprint.
    """
    root = Path(directory)
    entries = sorted(
        (path.relative_to(root).as_posix(), _file_sha256(path))
        for path in root.rglob("*")
        if path.is_file() and path.name != "metrics.json"
    )
    return hashlib.sha256(json.dumps(entries).encode()).hexdigest()


def _teacher_fingerprint(teacher: TextModel, directory: Path | None) -> str:
    if directory is not None:
        return artifact_fingerprint(directory)
    if not hasattr(teacher, "save"):
        raise InputError(
            f"cache_dir needs a teacher that can be saved (an artifact directory or a model "
            f"with save()) to know it again; {type(teacher).__name__} has no save(). "
            "Pass cache_dir=None"
        )
    # An in-memory teacher is identified by the artifact it would write.
    with tempfile.TemporaryDirectory() as scratch:
        return artifact_fingerprint(teacher.save(Path(scratch) / "teacher"))


def _ask_teacher(teacher: TextModel, texts: list[str], progress: bool) -> np.ndarray:
    k = len(teacher.classes_)
    chunks = [np.empty((0, k))]
    starts = range(0, len(texts), _TEACHER_CHUNK)
    for start in progress_bar(starts, show=progress, desc="teacher", unit="chunk"):
        chunks.append(np.asarray(teacher.predict_proba(texts[start : start + _TEACHER_CHUNK])))
    proba = np.concatenate(chunks).astype(np.float64)
    if proba.shape != (len(texts), k) or not np.isfinite(proba).all():
        raise InputError(
            f"the teacher's predict_proba gave shape {proba.shape} (or non-finite values) for "
            f"{len(texts)} texts and {k} classes; it must return one probability row per text"
        )
    return proba


def teacher_probabilities(
    teacher: Any,
    texts: Sequence[str],
    cache_dir: str | os.PathLike | None = None,
    *,
    progress: bool = True,
) -> np.ndarray:
    """The teacher's ``predict_proba(texts)``, ``(n, k)`` in ``teacher.classes_`` order.

    With ``cache_dir``, the result is stored there as ``teacher-<key>.npy`` (plain NumPy,
    no pickle, written atomically), keyed by :func:`artifact_fingerprint` of the teacher and
    a hash of the texts; the next call with the same teacher and texts reads the file and
    does not run the teacher. A damaged cache file is recomputed.

    Args:
        teacher: a model with ``predict_proba`` and ``classes_``, or its artifact directory
            (loaded with :func:`workbench.load_model`).
        texts: the transfer set.
        cache_dir: a directory for cached probabilities; ``None`` always runs the teacher.
        progress: show a ``tqdm.auto`` bar while the teacher works.
    """
    teacher, directory = _resolve_teacher(teacher)
    return _cached_probabilities(teacher, directory, as_text_list(texts), cache_dir, progress)


def _cached_probabilities(
    teacher: Any,
    directory: Path | None,
    texts: list[str],
    cache_dir: str | os.PathLike | None,
    progress: bool,
) -> np.ndarray:
    if cache_dir is None:
        return _ask_teacher(teacher, texts, progress)
    texts_hash = hashlib.sha256(json.dumps(texts, ensure_ascii=False).encode()).hexdigest()
    key = hashlib.sha256(f"{_teacher_fingerprint(teacher, directory)}:{texts_hash}".encode())
    cache = Path(cache_dir)
    path = cache / f"teacher-{key.hexdigest()[:32]}.npy"
    if path.is_file():
        try:
            cached = np.load(path, allow_pickle=False)
        except (ValueError, OSError):
            cached = None  # damaged: ask the teacher again and overwrite it
        if cached is not None and cached.shape == (len(texts), len(teacher.classes_)):
            return cached
    proba = _ask_teacher(teacher, texts, progress)

    def write(temporary: Path) -> None:
        with temporary.open("wb") as handle:  # np.save would add ".npy" to a path
            np.save(handle, proba, allow_pickle=False)

    atomic_write(path, write)
    return proba


# ------------------------------------------------------------------ distillation
def _column_order(teacher: TextModel, labels: list) -> list[int]:
    """Teacher columns in sorted label order (the student's ``classes_``)."""
    teacher_labels = plain_labels(list(teacher.classes_))
    data_labels = sorted(set(labels))
    if len(teacher_labels) != len(set(teacher_labels)) or set(teacher_labels) != set(data_labels):
        raise InputError(
            f"the teacher predicts the labels {teacher_labels} but the data has the labels "
            f"{data_labels}; distil from a teacher trained on the same label set"
        )
    return [teacher_labels.index(label) for label in data_labels]


@dataclass
class TransferSet:
    """What a student learns from: the teacher's probabilities on the training texts and on
    their augmented copies, and gold-labelled validation texts set aside before augmenting.

    ``labels[i]`` is the gold label, or ``None`` for an augmented copy (it learns from the
    teacher only); ``soft_labels`` has one row per text, columns in ``classes`` order (the
    sorted labels, what the student's ``classes_`` will be). :meth:`to_frame` and
    :meth:`from_frame` turn it into a plain table (``text``, ``label``, ``split``, one
    ``p_<class>`` column per class), which is how the embedded reviews ship one
    (``workbench.data.load_reviews_table("transfer")``).
    """

    texts: list[str]
    labels: list
    soft_labels: np.ndarray
    classes: list
    validation: LabeledTexts | None = None

    def fit(self, student: TextClassifier | None = None, **fit_kwargs: Any) -> TextClassifier:
        """Train ``student`` (default ``TextClassifier()``) on this set; returns it."""
        student = student if student is not None else TextClassifier()
        validation = self.validation
        return student.fit(
            self.texts,
            self.labels,
            soft_labels=self.soft_labels,
            validation=None
            if validation is None
            else (validation.texts, validation.require_labels()),
            val_size=0,
            **fit_kwargs,
        )

    def to_frame(self) -> pd.DataFrame:
        rows = {
            "text": [*self.texts, *(self.validation.texts if self.validation else [])],
            "label": [*self.labels, *(self.validation.require_labels() if self.validation else [])],
        }
        held_out = len(self.validation) if self.validation else 0
        rows["split"] = [
            *("train" if y is not None else "augmented" for y in self.labels),
            *["validation"] * held_out,
        ]
        for column, name in enumerate(self.classes):
            rows[f"p_{name}"] = [*self.soft_labels[:, column].round(6), *[None] * held_out]
        return pd.DataFrame(rows)

    @classmethod
    def from_frame(cls, table: pd.DataFrame, source: str = "transfer set") -> TransferSet:
        """Read :meth:`to_frame`'s table back; a message names what is missing or wrong."""
        # Sorted, as the student's classes_ will be, whatever order the file lists them in.
        columns = sorted(c for c in table.columns if str(c).startswith("p_"))
        missing = [c for c in ("text", "label", "split") if c not in table.columns]
        if missing or len(columns) < 2:
            raise InputError(
                f"{source}: a transfer set needs the columns text, label, split and one "
                f"p_<class> per class; found {list(table.columns)}"
            )
        split = table["split"].astype(str)
        unknown = sorted(set(split) - {"train", "augmented", "validation"})
        if unknown:
            raise InputError(
                f"{source}: split must be train, augmented or validation; found {unknown}"
            )
        learn, held = table[split != "validation"], table[split == "validation"]
        augmented = (learn["split"] == "augmented").tolist()
        gold = [None if a else y for a, y in zip(augmented, learn["label"], strict=True)]
        soft = learn[columns].to_numpy(dtype=np.float64)
        validation = None
        if len(held):
            validation = LabeledTexts(
                held["text"].astype(str).tolist(), held["label"].tolist(), source
            )
        return cls(
            texts=learn["text"].astype(str).tolist(),
            labels=gold,
            # Rows were rounded to 6 decimals when written: make them sum to 1 again.
            soft_labels=soft / soft.sum(axis=1, keepdims=True),
            classes=[c[2:] for c in columns],
            validation=validation,
        )


def reviews_transfer_set() -> TransferSet:
    """The transfer set that ships with the embedded reviews (``data/reviews/transfer.csv``):
    the training reviews and 8 augmented copies of each, labelled by all-MiniLM-L6-v2
    fine-tuned on them, with its validation reviews; see the data card for how it was made.
    A student distilled from it needs no pretrained model at all."""
    return TransferSet.from_frame(load_reviews_table("transfer"), "reviews transfer set")


def transfer_set(
    teacher: TextModel | str | os.PathLike,
    texts: Sequence[str],
    labels: Sequence,
    *,
    augment_per_text: int = 0,
    val_size: float = 0.1,
    seed: int = 0,
    cache_dir: str | os.PathLike | None = None,
    validation: tuple[Sequence[str], Sequence] | LabeledTexts | None = None,
    progress: bool = True,
) -> TransferSet:
    """Hold out validation, augment the rest and let the teacher label it all.

    The validation split (``validation``, else ``val_size`` of ``texts`` held out exactly as
    :meth:`TextClassifier.fit` would with ``seed``) is set aside first, so no copy of a
    validation text reaches training; the teacher labels the remaining texts and
    ``augment_per_text`` :func:`augment` copies of each.

    Raises:
        InputError: when the teacher's labels differ from the data's, or on bad data.
    """
    teacher, directory = _resolve_teacher(teacher)
    data = LabeledTexts(as_text_list(texts), plain_labels(labels), source="training data")
    validate_labeled(data)
    order = _column_order(teacher, data.require_labels())
    train, held_out = data, None
    if validation is not None:
        held_out = validation_data(validation)
    elif val_size > 0:
        train, held_out, _ = stratified_split(data, val_size=val_size, seed=seed)
    extra = augment(train.texts, n_per_text=augment_per_text, seed=seed)
    transfer = train.texts + extra
    proba = _cached_probabilities(teacher, directory, transfer, cache_dir, progress)
    return TransferSet(
        texts=transfer,
        labels=train.require_labels() + [None] * len(extra),
        soft_labels=proba[:, order],
        classes=sorted(set(data.require_labels())),
        validation=held_out,
    )


def distill(
    teacher: TextModel | str | os.PathLike,
    texts: Sequence[str],
    labels: Sequence,
    *,
    student: TextClassifier | None = None,
    augment_per_text: int = 0,
    cache_dir: str | os.PathLike | None = None,
    validation: tuple[Sequence[str], Sequence] | LabeledTexts | None = None,
    **fit_kwargs: Any,
) -> TextClassifier:
    """Train ``student`` on ``texts`` with the teacher's soft labels; returns the student.

    :func:`transfer_set` builds what it learns from (validation held out first, then
    augmented copies, all labelled by the teacher); the loss mixes the teacher's
    probabilities and the gold labels with ``TrainConfig.distill_temperature`` and
    ``distill_alpha`` (see :func:`workbench.train.distillation_loss`).

    Args:
        teacher: a model with ``predict_proba`` and ``classes_`` or an artifact directory;
            its label set must be the data's.
        texts, labels: the gold-labelled training data.
        student: the settings to train (default: ``TextClassifier()``); trained in place.
        augment_per_text: augmented copies per training text (Tang et al. use 20); 0: none.
        cache_dir: where teacher probabilities are cached (:func:`teacher_probabilities`).
        validation: ``(texts, labels)`` for early stopping and calibration.
        **fit_kwargs: ``val_size``, ``callbacks``, ``progress``... for
            :meth:`TextClassifier.fit`.

    Raises:
        InputError: when the teacher's labels differ from the data's, or on bad data.
    """
    student = student if student is not None else TextClassifier()
    transfer = transfer_set(
        teacher,
        texts,
        labels,
        augment_per_text=augment_per_text,
        val_size=fit_kwargs.pop("val_size", 0.1),
        seed=(student.train_config or TrainConfig()).seed,
        cache_dir=cache_dir,
        validation=validation,
        progress=fit_kwargs.get("progress", True),
    )
    return transfer.fit(student, **fit_kwargs)
