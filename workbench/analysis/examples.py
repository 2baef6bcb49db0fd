"""The examples an analysis looks at: texts, their labels, a model's outputs and any columns.

:class:`Examples` is what slices, slice discovery (and the dataset-level views that build on
them) take. It checks its inputs once, so every view can trust them, and computes the word
units of every text once, on first use, for every slice and every discovered word:

- the texts, and optionally one label per text (a test set without labels is fine: the
  views that need labels say n/a);
- the model's output: ``proba`` (``(n, k)``, columns in ``classes``) or bare
  ``predictions``; :meth:`Examples.from_model` asks a model for ``proba`` in chunks;
- ``columns``: any other column of the table (the embedded reviews have ``domain`` and
  ``phenomenon``), for slices on a column.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from workbench.data import as_text_list, plain
from workbench.data.texts import at_rows, is_missing
from workbench.errors import InputError
from workbench.estimators import TextModel
from workbench.evaluate import PROBA_SUM_TOLERANCE, _label_list
from workbench.progress import progress_bar
from workbench.segment import Segmenter, has_unspaced_script
from workbench.tokenizer import split_words

# Loops over this many texts or more show a progress bar; smaller ones finish in a blink.
PROGRESS_FROM = 5_000

# A word unit that holds a letter or a digit is a word; "," or "!" alone is punctuation.
_WORD_CHARACTER = re.compile(r"\w")

# Texts per predict_proba call in from_model: a bar that moves, and bounded memory.
_PREDICT_CHUNK = 1024


def is_word(unit: str) -> bool:
    """Whether a word unit is a word (holds a letter or digit), not punctuation alone."""
    return _WORD_CHARACTER.search(unit) is not None


@dataclass(frozen=True)
class TermIndex:
    """Which texts hold which terms: the lower-cased word units and runs of up to
    ``max_words`` consecutive units (joined by one space), as a sparse 0/1 matrix.

    Attributes:
        matrix: ``(n_texts, n_terms)`` CSC matrix, 1 where the text holds the term.
        terms: the terms in column order.
        vocabulary: term -> column.
        max_words: the longest run indexed.
    """

    matrix: sparse.csc_matrix
    terms: list[str]
    vocabulary: dict[str, int]
    max_words: int

    def holds(self, term: str) -> np.ndarray:
        """Boolean mask of the texts that hold ``term`` (all False for an unseen term)."""
        column = self.vocabulary.get(term)
        if column is None:
            return np.zeros(self.matrix.shape[0], dtype=bool)
        start, end = self.matrix.indptr[column], self.matrix.indptr[column + 1]
        mask = np.zeros(self.matrix.shape[0], dtype=bool)
        mask[self.matrix.indices[start:end]] = True
        return mask


class Examples:
    """Texts with, optionally, labels, a model's outputs and other columns; checked once.

    Args:
        texts: one string per example.
        labels: one true label per text, or None for a test set without labels.
        proba: ``(n, k)`` predicted probabilities, columns in ``classes`` order, rows
            summing to 1; the prediction is each row's most probable class.
        classes: the class names in column order (a model's ``classes_``); required with
            ``proba``; without it, the sorted labels and predictions seen.
        predictions: predicted labels, for a model that gives no probabilities. Pass
            ``proba`` or ``predictions``, not both (they could disagree).
        columns: other columns, one row per text (a DataFrame or a dict of sequences),
            for :meth:`Slice.column <workbench.analysis.Slice.column>`.
        source: where the examples came from, for messages.
        segmenter: how text without spaces (Chinese, Japanese) is cut into word units;
            default: the best one installed, as :func:`workbench.tokenizer.split_words`.

    Raises:
        InputError: on no texts, lengths that differ, missing labels, labels that are not
            among ``classes``, or a malformed ``proba``.
    """

    def __init__(
        self,
        texts: Sequence[str],
        labels: Sequence | None = None,
        *,
        proba: Any = None,
        classes: Sequence | None = None,
        predictions: Sequence | None = None,
        columns: pd.DataFrame | dict | None = None,
        source: str = "examples",
        segmenter: Segmenter | None = None,
    ) -> None:
        self.texts = as_text_list(texts, "texts")
        self.source = source
        n = len(self.texts)
        if n == 0:
            raise InputError(f"{source}: no texts; an analysis needs at least one example")
        if proba is not None and predictions is not None:
            raise InputError(
                "pass proba or predictions, not both: the predictions are the most probable "
                "class of each proba row"
            )
        self.labels: list | None = None if labels is None else self._labels(labels, n)
        self.proba: np.ndarray | None = None
        prediction_list = None if predictions is None else self._sequence(predictions, n)
        if proba is not None:
            if classes is None:
                raise InputError(
                    "proba is given but classes is not; pass classes=<the model's classes_> so "
                    "the probability columns can be matched to class names"
                )
            self.classes = [plain(c) for c in classes]
            self.proba = _check_proba(proba, n, len(self.classes))
        elif classes is not None:
            self.classes = [plain(c) for c in classes]
        else:
            seen = set(self.labels or []) | set(prediction_list or [])
            try:
                self.classes = sorted(seen)
            except TypeError as err:
                raise InputError(
                    "labels and predictions mix types (e.g. strings and ints) that cannot be "
                    "sorted; use one type, or pass classes= to fix the order"
                ) from err
        if len(set(self.classes)) != len(self.classes):
            raise InputError(f"classes contains duplicates: {self.classes}; list each once")
        index = {c: i for i, c in enumerate(self.classes)}
        self._true_idx = None if self.labels is None else _indices(self.labels, index, "labels")
        self._pred_idx: np.ndarray | None = None
        if self.proba is not None:
            self._pred_idx = self.proba.argmax(axis=1)
        elif prediction_list is not None:
            self._pred_idx = _indices(prediction_list, index, "predictions")
        self.columns = _columns(columns, n)
        self.segmenter = segmenter
        self._terms: TermIndex | None = None
        self._word_counts: np.ndarray | None = None

    # ----------------------------------------------------------------- builders
    @classmethod
    def from_model(
        cls,
        model: TextModel,
        texts: Sequence[str],
        labels: Sequence | None = None,
        *,
        columns: pd.DataFrame | dict | None = None,
        source: str = "examples",
        segmenter: Segmenter | None = None,
        progress: bool = True,
    ) -> Examples:
        """The examples with ``model``'s probabilities, asked for in chunks of 1,024 texts
        (a progress bar on large sets)."""
        classes = getattr(model, "classes_", None)
        if classes is None or not hasattr(model, "predict_proba"):
            raise InputError(
                f"{type(model).__name__} is not a fitted text model: it needs predict_proba "
                "and classes_ (call fit() or load() first)"
            )
        text_list = as_text_list(texts, "texts")
        starts = range(0, len(text_list), _PREDICT_CHUNK)
        show = progress and len(text_list) >= PROGRESS_FROM
        chunks = [
            np.asarray(model.predict_proba(text_list[start : start + _PREDICT_CHUNK]))
            for start in progress_bar(starts, show=show, desc="predicting", unit="chunk")
        ]
        proba = np.vstack(chunks) if chunks else np.zeros((0, len(classes)))
        return cls(
            text_list,
            labels,
            proba=proba,
            classes=list(classes),
            columns=columns,
            source=source,
            segmenter=segmenter,
        )

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        text_col: str = "text",
        label_col: str | None = "label",
        model: TextModel | None = None,
        proba: Any = None,
        classes: Sequence | None = None,
        predictions: Sequence | None = None,
        source: str = "table",
        progress: bool = True,
    ) -> Examples:
        """The rows of a table: its text and label columns, every other column kept for
        slices (``domain``, ``phenomenon`` of :func:`workbench.data.load_reviews_table`).

        ``label_col=None`` reads a table without labels. The model's output comes from
        ``model`` (scored here) or is given as ``proba`` and ``classes`` or ``predictions``.
        """
        for role, name in (("text_col", text_col), ("label_col", label_col)):
            if name is not None and name not in frame.columns:
                hint = (
                    " (label_col=None reads a table without labels)" if role == "label_col" else ""
                )
                raise InputError(
                    f"{source}: {role} {name!r} is not a column; the columns are "
                    f"{_column_list(frame)}{hint}"
                )
        frame = frame.reset_index(drop=True)
        texts = frame[text_col].tolist()
        labels = None if label_col is None else frame[label_col].tolist()
        others = frame.drop(columns=[c for c in (text_col, label_col) if c is not None])
        if model is not None:
            if proba is not None or predictions is not None:
                raise InputError("pass model, or proba/predictions, not both")
            return cls.from_model(
                model, texts, labels, columns=others, source=source, progress=progress
            )
        return cls(
            texts,
            labels,
            proba=proba,
            classes=classes,
            predictions=predictions,
            columns=others,
            source=source,
        )

    # ------------------------------------------------------------------- access
    def __len__(self) -> int:
        return len(self.texts)

    @property
    def has_labels(self) -> bool:
        return self._true_idx is not None

    @property
    def has_predictions(self) -> bool:
        return self._pred_idx is not None

    @property
    def predictions(self) -> list | None:
        """The predicted label of each text, or None without a model's output."""
        if self._pred_idx is None:
            return None
        return [self.classes[i] for i in self._pred_idx]

    def true_indices(self, needed_by: str) -> np.ndarray:
        """Each label's column in ``classes``; an error naming ``needed_by`` without labels."""
        if self._true_idx is None:
            raise InputError(
                f"{needed_by} needs labels, and {self.source} has none; give labels= "
                "(CLI --label-col)"
            )
        return self._true_idx

    def predicted_indices(self, needed_by: str) -> np.ndarray:
        """Each prediction's column in ``classes``; an error without a model's output."""
        if self._pred_idx is None:
            raise InputError(
                f"{needed_by} needs the model's predictions; build the examples with "
                "Examples.from_model(model, ...) or give proba= or predictions="
            )
        return self._pred_idx

    def correct(self, needed_by: str) -> np.ndarray:
        """Whether each prediction is right (needs labels and predictions)."""
        return self.true_indices(needed_by) == self.predicted_indices(needed_by)

    def confidence(self, needed_by: str) -> np.ndarray:
        """The largest probability of each row (needs ``proba``)."""
        if self.proba is None:
            raise InputError(
                f"{needed_by} needs the model's probabilities; build the examples with "
                "Examples.from_model(model, ...) or give proba= and classes="
            )
        return self.proba.max(axis=1)

    def column(self, name: str) -> pd.Series:
        """The column ``name``; an error naming it and listing the columns there are."""
        if name not in self.columns.columns:
            there = (
                f"the columns are {_column_list(self.columns)}"
                if len(self.columns.columns)
                else "there are no other columns (give columns=, or use Examples.from_frame)"
            )
            raise InputError(f"{self.source}: no column {name!r}; {there}")
        return self.columns[name]

    # -------------------------------------------------------------- word units
    def word_counts(self, *, progress: bool = True) -> np.ndarray:
        """The number of words of each text: word units holding a letter or digit
        (punctuation alone does not count)."""
        if self._word_counts is None:
            self._scan(2, progress)
        assert self._word_counts is not None
        return self._word_counts

    def term_index(self, max_words: int = 2, *, progress: bool = True) -> TermIndex:
        """Which texts hold which lower-cased word units and runs of up to ``max_words``
        units; computed on first use, in one pass over the texts (a bar on large sets)."""
        if self._terms is None or self._terms.max_words < max_words:
            self._scan(max_words, progress)
        assert self._terms is not None
        return self._terms

    def units(self, text: str) -> list[str]:
        """The lower-cased word units of ``text``, by the project's splitting rule."""
        return self.units_of(text, self._segmenter_for(text))

    @staticmethod
    def units_of(text: str, segmenter: Segmenter | None = None) -> list[str]:
        """The lower-cased word units of ``text`` (:func:`workbench.tokenizer.split_words`)."""
        return [word.text.lower() for word in split_words(text, segmenter)]

    def _segmenter_for(self, text: str) -> Segmenter | None:
        if self.segmenter is None and has_unspaced_script(text):
            # Picked once: best_available() looks up installed packages.
            self.segmenter = Segmenter.best_available()
        return self.segmenter

    def _scan(self, max_words: int, progress: bool) -> None:
        vocabulary: dict[str, int] = {}
        indices: list[int] = []
        indptr = [0]
        counts = np.zeros(len(self.texts), dtype=np.int64)
        show = progress and len(self.texts) >= PROGRESS_FROM
        for row, text in enumerate(progress_bar(self.texts, show=show, desc="word units")):
            units = self.units(text)
            counts[row] = sum(map(is_word, units))
            terms = {
                " ".join(units[start : start + size])
                for size in range(1, max_words + 1)
                for start in range(len(units) - size + 1)
            }
            indices.extend(vocabulary.setdefault(term, len(vocabulary)) for term in terms)
            indptr.append(len(indices))
        by_row = sparse.csr_matrix(
            (
                np.ones(len(indices), dtype=np.int32),
                np.asarray(indices, dtype=np.int64),
                np.asarray(indptr, dtype=np.int64),
            ),
            shape=(len(self.texts), len(vocabulary)),
        )
        self._terms = TermIndex(by_row.tocsc(), list(vocabulary), vocabulary, max_words)
        self._word_counts = counts

    # ---------------------------------------------------------------- validation
    def _labels(self, labels: Any, n: int) -> list:
        values = self._sequence(labels, n, "labels")
        missing = [i for i, v in enumerate(values) if is_missing(v)]
        if missing:
            raise InputError(
                f"{self.source}: a label is missing {at_rows(missing)}; give every text a "
                "label, or pass labels=None for a test set without labels"
            )
        return values

    @staticmethod
    def _sequence(values: Any, n: int, name: str = "predictions") -> list:
        listed = _label_list(values, name)
        if len(listed) != n:
            raise InputError(f"there are {n} texts but {len(listed)} {name}; give one per text")
        return listed


def _indices(values: list, index: dict, name: str) -> np.ndarray:
    unknown = sorted({repr(v) for v in values if v not in index})
    if unknown:
        raise InputError(
            f"{name} holds values that are not among classes={list(index)}: "
            f"{', '.join(unknown[:10])}; pass the model's classes_ or fix the data"
        )
    return np.fromiter((index[v] for v in values), dtype=np.int64, count=len(values))


def _check_proba(proba: Any, n: int, k: int) -> np.ndarray:
    try:
        array = np.asarray(proba, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise InputError(f"proba must be a numeric (n, k) array: {err}") from err
    if array.shape != (n, k):
        raise InputError(
            f"proba must have shape ({n}, {k}): one row per text, one column per class; "
            f"got {array.shape}"
        )
    if not np.isfinite(array).all() or (array < 0).any():
        raise InputError("proba holds NaN, infinite or negative values; pass probabilities")
    off = np.flatnonzero(np.abs(array.sum(axis=1) - 1.0) > PROBA_SUM_TOLERANCE)
    if off.size:
        raise InputError(
            f"proba rows must sum to 1; row {off[0]} sums to {array[off[0]].sum():.6g} "
            f"({off.size} rows off). Pass probabilities, not logits (apply a softmax)"
        )
    return array


def _columns(columns: pd.DataFrame | dict | None, n: int) -> pd.DataFrame:
    if columns is None:
        return pd.DataFrame(index=pd.RangeIndex(n))
    frame = pd.DataFrame(columns)
    if len(frame) != n:
        raise InputError(f"columns has {len(frame)} rows for {n} texts; give one row per text")
    return frame.reset_index(drop=True)


def _column_list(frame: pd.DataFrame) -> str:
    return ", ".join(repr(str(c)) for c in frame.columns) or "(none)"
