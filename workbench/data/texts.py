"""Labelled texts and the checks every loader and estimator runs on them.

:class:`LabeledTexts` is what every loader returns. The checks raise :class:`InputError`
naming the source and the data rows at fault (counted from 1, header not counted) and
saying what to do; the estimators run the same checks on texts passed in directly.
"""

from __future__ import annotations

import math
import numbers
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from workbench.errors import InputError

_MAX_ROWS_SHOWN = 5


@dataclass(frozen=True)
class LabeledTexts:
    """Texts with their labels and where they came from.

    Attributes:
        texts: One string per example, surrounding whitespace stripped.
        labels: One label per text (all ``str`` or all ``int``), or ``None`` when the
            data was loaded without a label column.
        source: The file path or dataset name, used in error messages.
    """

    texts: list[str]
    labels: list[str] | list[int] | None
    source: str

    def __len__(self) -> int:
        return len(self.texts)

    def require_labels(self) -> list[Any]:
        """``labels`` (all ``str`` or all ``int``), for data loaded with a label column."""
        if self.labels is None:
            raise InputError(
                f"{self.source}: the texts have no labels; load them with a label column "
                f"(label_col=, CLI --label-col)"
            )
        return self.labels

    def subset(self, indices: Sequence[int] | np.ndarray) -> LabeledTexts:
        """Return the rows at ``indices`` (in that order), keeping ``source``."""
        rows = [int(i) for i in indices]
        labels: list[Any] | None = None if self.labels is None else [self.labels[i] for i in rows]
        return LabeledTexts([self.texts[i] for i in rows], labels, self.source)


def at_rows(indices: Sequence[int]) -> str:
    """'at 2 data rows: 3, 7' from 0-based indices, listing at most the first few."""
    if len(indices) == 1:
        return f"at data row {indices[0] + 1}"
    shown = ", ".join(str(i + 1) for i in indices[:_MAX_ROWS_SHOWN])
    more = ", ..." if len(indices) > _MAX_ROWS_SHOWN else ""
    return f"at {len(indices)} data rows: {shown}{more}"


def is_missing(value: object) -> bool:
    """None, NaN (how pandas reads an empty cell) or a blank string: a value left out."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, str) and not value.strip()


def as_text_list(texts: Any, what: str = "texts") -> list[str]:
    """Accept a list, tuple or 1-D NumPy array of strings (SHAP passes arrays, LIME lists)."""
    if isinstance(texts, str):
        raise InputError(f"{what} must be a list of strings, not one string; wrap it: [text]")
    array = np.asarray(texts, dtype=object)
    if array.ndim != 1:
        raise InputError(f"{what} must be one-dimensional, got shape {array.shape}")
    bad = [i for i, t in enumerate(array) if not isinstance(t, str)]
    if bad:
        raise InputError(
            f"{what} must all be strings; item {bad[0]} is {type(array[bad[0]]).__name__}"
            f" ({len(bad)} non-string item(s) in all)"
        )
    texts = [str(t) for t in array]
    check_utf8(texts, what, ", item {i}")
    return texts


def shorten(text: str, width: int = 70) -> str:
    """``text`` on one line, cut to ``width`` characters with an ellipsis: how a long text
    is shown in a message, a dropdown or a tooltip."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def check_utf8(texts: Sequence[str], source: str, row: str = ", data row {row}") -> None:
    """Refuse text that cannot be written as UTF-8: lone surrogates, which is what
    undecodable bytes become in command-line arguments (``$'\\xff'``) and what a JSON
    ``"\\ud83d"`` escape without its pair gives. Tokenizers raise a ``TypeError`` on them.

    ``row`` says where the text is, after ``source``, from its 0-based index ``i`` or
    1-based ``row``; ``""`` for a single text.
    """
    try:
        "".join(texts).encode("utf-8")  # one call for the common, valid case
    except UnicodeEncodeError:
        pass
    else:
        return
    for i, text in enumerate(texts):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as err:
            code = ord(text[err.start])
            # surrogateescape keeps an undecodable byte b as the code point 0xDC00 + b
            what = (
                f"byte 0x{code - 0xDC00:02x}"
                if 0xDC80 <= code <= 0xDCFF
                else f"a lone surrogate U+{code:04X}"
            )
            raise InputError(
                f"{source}{row.format(i=i, row=i + 1)}: text is not valid UTF-8 ({what} at "
                f"character {err.start}); give the text in UTF-8"
            ) from None


def check_count(name: str, value: Any, minimum: int, why: str = "") -> int:
    """``value`` as an int, once it is a whole number of at least ``minimum`` (a sample
    count, a number of steps, a batch size); else an error naming the setting and why."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise InputError(f"{name} must be a whole number of at least {minimum}, got {value!r}{why}")
    return int(value)


def plain(value: Any) -> Any:
    """A NumPy scalar as the Python value JSON, ``repr`` and ``list.index`` expect."""
    return value.item() if isinstance(value, np.generic) else value


def plain_labels(labels: Sequence) -> list:
    """NumPy scalars become Python ints/strings, so labels survive a JSON round trip."""
    return [plain(label) for label in labels]


def validate_labeled(data: LabeledTexts, *, min_classes: int = 2) -> None:
    """Check that ``data`` can be trained on; raise :class:`InputError` if not.

    Checks: at least one row, every text a non-blank string that is valid UTF-8, one label
    per text, no missing label, every label a string or a number (not a list), one kind of
    label (all strings or all integers) and at least ``min_classes`` classes (label
    checks only when ``data.labels`` is set). Training needs two classes; scoring a model
    on a test set of one class (only positive reviews) is legitimate: ``min_classes=1``.
    Rows in messages are data rows counted from 1.

    Raises:
        InputError: naming ``data.source`` and the offending rows.
    """
    source, texts, labels = data.source, data.texts, data.labels
    if len(texts) == 0:
        raise InputError(f"{source}: no data rows; add rows of text (and labels) to it.")
    not_str = [i for i, text in enumerate(texts) if not isinstance(text, str)]
    if not_str:
        example = texts[not_str[0]]
        raise InputError(
            f"{source}: non-string text {at_rows(not_str)} ({type(example).__name__}, e.g. "
            f"{example!r}); texts must be strings: check that the text column is the right one "
            f"(text_col=, CLI --text-col) or quote those values."
        )
    blank = [i for i, text in enumerate(texts) if not text.strip()]
    if blank:
        raise InputError(
            f"{source}: empty or whitespace-only text {at_rows(blank)} (rows count from 1, "
            f"header not counted); fill in or remove those rows."
        )
    check_utf8(texts, source)
    if labels is None:
        return
    if len(labels) != len(texts):
        raise InputError(
            f"{source}: {len(texts)} texts but {len(labels)} labels; give one label per text."
        )
    missing = [i for i, label in enumerate(labels) if is_missing(label)]
    if missing:
        raise InputError(
            f"{source}: missing label {at_rows(missing)} (rows count from 1, header not "
            f"counted); fill in the labels or remove those rows."
        )
    not_scalar = [i for i, label in enumerate(labels) if not isinstance(label, (str, int, float))]
    if not_scalar:
        bad_label = labels[not_scalar[0]]
        raise InputError(
            f"{source}: label {at_rows(not_scalar)} is a {type(bad_label).__name__} "
            f"({bad_label!r}); "
            f"labels must be strings or integers, one class name per row."
        )
    first_of_kind: dict[str, int] = {}
    for i, label in enumerate(labels):
        first_of_kind.setdefault(type(label).__name__, i)
    if len(first_of_kind) > 1:
        examples = ", ".join(f"data row {i + 1}: {labels[i]!r}" for i in first_of_kind.values())
        raise InputError(
            f"{source}: labels mix {' and '.join(sorted(first_of_kind))} (e.g. {examples}); "
            f"use one kind of label throughout."
        )
    classes = Counter(labels)
    if len(classes) < min_classes:
        (only,) = classes
        raise InputError(
            f"{source}: all {len(labels)} rows have the label {only!r}, but a classifier needs "
            f"at least two classes; add rows of another class or check the label column "
            f"(label_col=, CLI --label-col)."
        )


def validation_data(validation: tuple[Sequence, Sequence] | LabeledTexts) -> LabeledTexts:
    """A ``(texts, labels)`` validation pair, or ``LabeledTexts`` (what ``load_table`` and
    the splits return), as checked ``LabeledTexts``."""
    texts: Sequence
    labels: Sequence
    if isinstance(validation, LabeledTexts):
        texts, labels = validation.texts, validation.require_labels()
    elif isinstance(validation, (tuple, list)) and len(validation) == 2:
        texts, labels = validation
    else:
        raise InputError(
            "validation must be a (texts, labels) pair or LabeledTexts, got "
            f"{type(validation).__name__}"
        )
    data = LabeledTexts(
        as_text_list(texts, "validation texts"),
        plain_labels(labels),
        source="validation data",
    )
    validate_labeled(data)
    return data


def check_validation_labels(validation: LabeledTexts | None, classes: Sequence) -> None:
    """Every validation label must be one the model learns from its training labels."""
    if validation is None:
        return
    unseen = sorted(set(validation.require_labels()) - set(classes), key=str)
    if unseen:
        raise InputError(
            f"validation labels {unseen} never occur in the training data "
            f"(training labels: {list(classes)}); fix the labels or the split"
        )
