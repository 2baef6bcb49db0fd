"""Labelled texts in, clear errors out: tables, the embedded reviews set, SST-2, SST trees.

Every loader returns a :class:`LabeledTexts`. Anything a person can get wrong in a file
(a misspelt column, an empty text, a wrong encoding) raises :class:`InputError` naming
the file, the column or the data row (counted from 1, header not counted) and what to do.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import importlib.resources
import io
import json
import math
import numbers
import os
import re
import shutil
import tempfile
import urllib.request
import zipfile
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sklearn.model_selection import train_test_split
from tqdm.auto import tqdm

from workbench.errors import InputError

__all__ = [
    "SST2_SHA256",
    "SST2_URL",
    "LabeledTexts",
    "RationaleExample",
    "load_eraser_movies",
    "load_reviews",
    "load_sst2",
    "load_sst_trees",
    "load_table",
    "stratified_split",
    "validate_labeled",
]

SST2_URL = "https://dl.fbaipublicfiles.com/glue/data/SST-2.zip"
# SHA-256 of SST-2.zip (7,439,277 bytes) as recorded in Hugging Face datasets,
# datasets/glue/dataset_infos.json ("download_checksums" for this URL); tensorflow-datasets
# url_checksums/glue.txt lists the same size and digest for GLUE's original Firebase copy.
SST2_SHA256 = "d67e16fb55739c1b32cdce9877596db1c127dc322d93c082281f64057c16deaa"
_SST2_FILES = ("train.tsv", "dev.tsv")
_DOWNLOAD_TIMEOUT_S = 60

_FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
}
_MAX_ROWS_SHOWN = 5
_INT_LABEL = re.compile(r"[+-]?\d+")


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

    def subset(self, indices: Sequence[int] | np.ndarray) -> LabeledTexts:
        """Return the rows at ``indices`` (in that order), keeping ``source``."""
        rows = [int(i) for i in indices]
        labels = None if self.labels is None else [self.labels[i] for i in rows]
        return LabeledTexts([self.texts[i] for i in rows], labels, self.source)


def _rows(indices: Sequence[int]) -> str:
    """'at 2 data rows: 3, 7' from 0-based indices, listing at most the first few."""
    if len(indices) == 1:
        return f"at data row {indices[0] + 1}"
    shown = ", ".join(str(i + 1) for i in indices[:_MAX_ROWS_SHOWN])
    more = ", ..." if len(indices) > _MAX_ROWS_SHOWN else ""
    return f"at {len(indices)} data rows: {shown}{more}"


def _is_missing(value: object) -> bool:
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


def plain_labels(labels: Sequence) -> list:
    """NumPy scalars become Python ints/strings, so labels survive a JSON round trip."""
    return [label.item() if isinstance(label, np.generic) else label for label in labels]


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
            f"{source}: non-string text {_rows(not_str)} ({type(example).__name__}, e.g. "
            f"{example!r}); texts must be strings: check that the text column is the right one "
            f"(text_col=, CLI --text-col) or quote those values."
        )
    blank = [i for i, text in enumerate(texts) if not text.strip()]
    if blank:
        raise InputError(
            f"{source}: empty or whitespace-only text {_rows(blank)} (rows count from 1, "
            f"header not counted); fill in or remove those rows."
        )
    check_utf8(texts, source)
    if labels is None:
        return
    if len(labels) != len(texts):
        raise InputError(
            f"{source}: {len(texts)} texts but {len(labels)} labels; give one label per text."
        )
    missing = [i for i, label in enumerate(labels) if _is_missing(label)]
    if missing:
        raise InputError(
            f"{source}: missing label {_rows(missing)} (rows count from 1, header not "
            f"counted); fill in the labels or remove those rows."
        )
    not_scalar = [i for i, label in enumerate(labels) if not isinstance(label, (str, int, float))]
    if not_scalar:
        example = labels[not_scalar[0]]
        raise InputError(
            f"{source}: label {_rows(not_scalar)} is a {type(example).__name__} ({example!r}); "
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


def _decode_error(path: Path, encoding: str, err: UnicodeDecodeError) -> InputError:
    # Readers decode in chunks, so the offset in their error is not the file's offset.
    raw = path.read_bytes()
    try:
        raw.decode(encoding)
    except UnicodeDecodeError as exact:
        err = exact
    bad = raw[err.start : err.start + 1].hex() if err.start < len(raw) else "?"
    line = raw.count(b"\n", 0, err.start) + 1
    return InputError(
        f"{path}: cannot decode byte 0x{bad} at byte offset {err.start} (line {line} of the "
        f'file) as {encoding}. Pass the file\'s encoding, e.g. encoding="latin-1" '
        f"(CLI: --encoding latin-1), or re-save the file as UTF-8."
    )


def _read_delimited(path: Path, sep: str, encoding: str) -> dict[str, list]:
    kind = "TSV" if sep == "\t" else "CSV"
    # TSV has no quoting (fields cannot hold tabs), and corpora such as SST-2 have lone quote
    # characters that are text; CSV quotes fields that hold commas or line breaks.
    quoting = csv.QUOTE_NONE if kind == "TSV" else csv.QUOTE_MINIMAL
    try:
        frame = pd.read_csv(
            path,
            sep=sep,
            dtype=str,
            keep_default_na=False,  # "NA" and "null" are words, not missing values
            na_filter=False,
            quoting=quoting,
            encoding=encoding,
        )
    except pd.errors.EmptyDataError:
        raise InputError(
            f"{path}: the file is empty; it needs a header row and data rows."
        ) from None
    except pd.errors.ParserError as err:
        raise InputError(
            f"{path}: cannot parse it as {kind} ({err}); quote "
            f'fields that contain the delimiter or line breaks with double quotes (").'
        ) from None
    if not isinstance(frame.index, pd.RangeIndex):
        # pandas silently turns the extra first field into an index instead of failing.
        raise InputError(
            f"{path}: data row 1 has more fields than the header ({', '.join(frame.columns)}); "
            f"quote texts that contain {sep!r}, or fix the header."
        )
    return {str(name): frame[name].tolist() for name in frame.columns}


def _read_jsonl(path: Path, encoding: str) -> dict[str, list]:
    # The json module keeps ints as ints and null as None, where pandas would make floats.
    records: list[dict] = []
    with path.open(encoding=encoding) as lines:
        for line_number, line in enumerate(lines, start=1):
            line = line.lstrip("\ufeff").strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise InputError(
                    f"{path}: line {line_number} is not valid JSON ({err.msg}); JSON Lines "
                    f"needs one JSON object per line."
                ) from None
            if not isinstance(record, dict):
                raise InputError(
                    f"{path}: line {line_number} is a {type(record).__name__}, not a JSON "
                    f'object; write one object per line, e.g. {{"text": "...", "label": "..."}}.'
                )
            records.append(record)
    names = list(dict.fromkeys(name for record in records for name in record))
    return {name: [record.get(name) for record in records] for name in names}


def _read_parquet(path: Path) -> dict[str, list]:
    # pyarrow's to_pylist keeps ints as ints and nulls as None, unlike a pandas round trip.
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as err:
        raise InputError(f"{path}: not a readable Parquet file ({err}).") from None
    return {name: table.column(name).to_pylist() for name in table.column_names}


def _missing_column(path: Path, kind: str, name: str, columns: list[str]) -> InputError:
    close = difflib.get_close_matches(name, columns, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return InputError(
        f"{path}: no {kind} column {name!r}; the columns are {columns}.{hint} Pass "
        f'{kind}_col="<column>" (CLI: --{kind}-col <column>).'
    )


def _clean_labels(path: Path, values: list) -> list[str] | list[int]:
    """Strip string labels, keep integer ones as int; None marks a missing label."""
    cleaned: list = []
    bad = []
    for i, value in enumerate(values):
        if _is_missing(value):
            cleaned.append(None)
        elif isinstance(value, str):
            cleaned.append(value.strip())
        elif isinstance(value, float) and value.is_integer():
            cleaned.append(int(value))
        elif isinstance(value, int) and not isinstance(value, bool):
            cleaned.append(value)
        else:
            bad.append(i)
    if bad:
        example = values[bad[0]]
        raise InputError(
            f"{path}: unusable label {_rows(bad)} ({type(example).__name__}, e.g. "
            f"{example!r}); labels must be class names or integers: fix the label column."
        )
    present = [label for label in cleaned if label is not None]
    # CSV gives "0"/"1" as text; numeric labels should compare equal across file formats.
    if all(isinstance(label, int) or _INT_LABEL.fullmatch(label) for label in present):
        return [None if label is None else int(label) for label in cleaned]
    # JSON Lines and Parquet keep numbers as numbers: one 1 among "positive"/"negative" is
    # a slip, and turning it into a third class "1" would train on it silently.
    numeric = [i for i, label in enumerate(cleaned) if isinstance(label, int)]
    if numeric:
        text = next(i for i, label in enumerate(cleaned) if isinstance(label, str))
        raise InputError(
            f"{path}: label {_rows(numeric)} is the number {cleaned[numeric[0]]!r}, but the "
            f"other labels are names (e.g. data row {text + 1}: {cleaned[text]!r}); fix "
            f'those rows, or write the label as a string ("{cleaned[numeric[0]]}") if it '
            f"really is a class of its own."
        )
    return [None if label is None else str(label) for label in cleaned]


def _load_table(
    path: Path,
    text_col: str,
    label_col: str | None,
    encoding: str,
    fmt: str,
    min_classes: int = 2,
) -> LabeledTexts:
    if path.is_dir():
        raise InputError(f"{path} is a folder, not a file; pass the path of a table file.")
    if not path.is_file():
        raise InputError(f"{path} not found; check the path.")
    try:
        if fmt == "parquet":
            columns = _read_parquet(path)
        elif fmt == "jsonl":
            columns = _read_jsonl(path, encoding)
        else:
            columns = _read_delimited(path, "\t" if fmt == "tsv" else ",", encoding)
    except UnicodeDecodeError as err:
        raise _decode_error(path, encoding, err) from None
    except LookupError:
        raise InputError(
            f"{path}: unknown encoding {encoding!r}; use a Python codec name such as "
            f'"utf-8" or "latin-1".'
        ) from None
    if not columns:
        raise InputError(f"{path}: the file is empty; it needs rows of text and labels.")
    names = list(columns)
    num_rows = len(columns[names[0]])
    if num_rows == 0:
        raise InputError(f"{path}: no data rows, only a header; add rows of text and labels.")
    if text_col not in columns:
        raise _missing_column(path, "text", text_col, names)
    if label_col is not None and label_col not in columns:
        raise _missing_column(path, "label", label_col, names)
    # Non-string texts pass through unchanged so validate_labeled can name their rows.
    texts = [
        "" if _is_missing(value) else (value.strip() if isinstance(value, str) else value)
        for value in columns[text_col]
    ]
    labels = None if label_col is None else _clean_labels(path, columns[label_col])
    data = LabeledTexts(texts, labels, str(path))
    validate_labeled(data, min_classes=min_classes)
    return data


def load_table(
    path: str | os.PathLike[str],
    text_col: str = "text",
    label_col: str | None = "label",
    *,
    encoding: str = "utf-8",
    format: str | None = None,
    min_classes: int = 2,
) -> LabeledTexts:
    """Load texts and labels from a CSV, TSV, JSON Lines or Parquet file.

    Texts are read as strings ("NA" stays "NA") with surrounding whitespace stripped.
    Labels stay strings, unless every label is an integer, in which case they are ints.

    Args:
        path: The file to read.
        text_col: Name of the column holding the texts.
        label_col: Name of the column holding the labels, or ``None`` to load texts only.
        encoding: Text encoding of CSV, TSV and JSON Lines files.
        format: ``"csv"``, ``"tsv"``, ``"jsonl"`` (or ``"ndjson"``) or ``"parquet"``;
            by default taken from the file suffix.
        min_classes: The fewest distinct labels accepted: 2 to train on, 1 to score a
            model on a test set of one class.

    Returns:
        The rows, with ``source`` set to ``path``.

    Raises:
        InputError: if the file is missing, unreadable or has bad rows; the message names
            the file and the column or data rows at fault.
    """
    path = Path(path)
    if format is None:
        fmt = _FORMATS.get(path.suffix.lower())
    else:
        fmt = _FORMATS.get("." + format.lower().lstrip("."))
    if fmt is None:
        given = f"format={format!r}" if format is not None else f"suffix {path.suffix!r}"
        raise InputError(
            f"{path}: unknown table format ({given}); supported suffixes are "
            f'{", ".join(_FORMATS)}. Rename the file or pass format= (e.g. format="csv").'
        )
    return _load_table(path, text_col, label_col, encoding, fmt, min_classes)


def validation_data(validation: tuple[Sequence, Sequence]) -> LabeledTexts:
    """A ``(texts, labels)`` validation pair as checked ``LabeledTexts``."""
    data = LabeledTexts(
        as_text_list(validation[0], "validation texts"),
        plain_labels(validation[1]),
        source="validation data",
    )
    validate_labeled(data)
    return data


def check_validation_labels(validation: LabeledTexts | None, classes: Sequence) -> None:
    """Every validation label must be one the model learns from its training labels."""
    if validation is None:
        return
    unseen = sorted(set(validation.labels) - set(classes), key=str)
    if unseen:
        raise InputError(
            f"validation labels {unseen} never occur in the training data "
            f"(training labels: {list(classes)}); fix the labels or the split"
        )


def stratified_split(
    data: LabeledTexts, *, val_size: float = 0.1, test_size: float = 0.0, seed: int = 0
) -> tuple[LabeledTexts, LabeledTexts, LabeledTexts | None]:
    """Split ``data`` into train, validation and (optionally) test sets, stratified by label.

    Each split keeps the class proportions of ``data``; rows keep their original order.

    Args:
        data: Labelled rows.
        val_size: Fraction of all rows for validation, in (0, 1).
        test_size: Fraction of all rows for testing, in [0, 1); 0 means no test split.
        seed: Seed of the shuffle; the same seed gives the same split.

    Returns:
        ``(train, val, test)``, with ``test`` ``None`` when ``test_size`` is 0.

    Raises:
        InputError: if ``data`` has no labels, the sizes are out of range, or a class has
            too few rows to appear in every split.
    """
    source = data.source
    if data.labels is None:
        raise InputError(f"{source}: a stratified split needs labels; load it with label_col=.")
    if not 0 < val_size < 1 or not 0 <= test_size < 1 or val_size + test_size >= 1:
        raise InputError(
            f"{source}: cannot split with val_size={val_size}, test_size={test_size}; "
            f"use 0 < val_size < 1, 0 <= test_size < 1 and val_size + test_size < 1."
        )
    labels = data.labels
    counts = Counter(labels)
    needed = 2 if test_size == 0 else 3  # one row per class per split, sklearn needs >= 2
    rare = sorted((count, str(label)) for label, count in counts.items() if count < needed)
    if rare:
        count, label = rare[0]
        raise InputError(
            f"{source}: class {label!r} has only {count} row(s), too few to stratify into "
            f"{needed} splits (each class needs at least {needed}); add rows of that class "
            f"or remove it. Class counts: {dict(counts)}."
        )
    indices = np.arange(len(labels))
    try:
        test_idx = None
        if test_size > 0:
            indices, test_idx = train_test_split(
                indices, test_size=test_size, stratify=labels, random_state=seed
            )
        train_idx, val_idx = train_test_split(
            indices,
            test_size=val_size / (1 - test_size),
            stratify=[labels[i] for i in indices],
            random_state=seed,
        )
    except ValueError as err:
        # e.g. a split smaller than the number of classes
        raise InputError(
            f"{source}: cannot stratify {len(labels)} rows with val_size={val_size}, "
            f"test_size={test_size} ({err}); use larger fractions or more rows. "
            f"Class counts: {dict(counts)}."
        ) from None
    test = None if test_idx is None else data.subset(np.sort(test_idx))
    return data.subset(np.sort(train_idx)), data.subset(np.sort(val_idx)), test


# The embedded review sets by language: English (1,680 reviews) and Chinese (480).
REVIEW_SETS = {"en": "reviews", "zh": "reviews_zh"}


def _reviews_dir(language: str = "en") -> Path:
    if language not in REVIEW_SETS:
        raise InputError(
            f"language must be one of {', '.join(map(repr, REVIEW_SETS))}, got {language!r}"
        )
    name = REVIEW_SETS[language]
    packaged = importlib.resources.files("workbench") / "_data" / name
    checkout = Path(__file__).resolve().parents[1] / "data" / name
    for folder in (Path(str(packaged)), checkout):
        if (folder / "train.csv").is_file() and (folder / "test.csv").is_file():
            return folder
    raise InputError(
        f"the embedded {name} dataset is missing: neither {packaged} (installed package) "
        f"nor {checkout} (source checkout) holds train.csv and test.csv; reinstall workbench."
    )


def load_reviews(language: str = "en") -> tuple[LabeledTexts, LabeledTexts]:
    """Load an embedded reviews dataset (labels ``"positive"`` / ``"negative"``).

    Args:
        language: ``"en"``, the English reviews, or ``"zh"``, the Chinese teaching set
            (``data/reviews_zh``; see its data card).

    Returns:
        ``(train, test)``.
    """
    folder = _reviews_dir(language)
    return (
        load_table(folder / "train.csv", "text", "label"),
        load_table(folder / "test.csv", "text", "label"),
    )


def load_reviews_table(split: str = "train", language: str = "en") -> pd.DataFrame:
    """The embedded reviews with every column (text, label, domain, phenomenon), for exploring.

    Args:
        split: ``"train"``, ``"test"``, or ``"transfer"`` (English only): the training
            reviews and their augmented copies labelled by a fine-tuned encoder, for
            distillation (see the data card; ``workbench.distill.TransferSet.from_frame``
            reads it).
        language: ``"en"`` or ``"zh"``, as for :func:`load_reviews`.
    """
    splits = ("train", "test", "transfer") if language == "en" else ("train", "test")
    if split not in splits:
        raise InputError(f"split must be one of {', '.join(map(repr, splits))}, got {split!r}")
    return pd.read_csv(_reviews_dir(language) / f"{split}.csv", keep_default_na=False)


# Teaching data whose right explanation is known: the label depends only on these words.
PLANTED_WORDS = {"zork": "positive", "blick": "negative"}
_PLANTED_FILLER = [
    "the",
    "a",
    "movie",
    "film",
    "plot",
    "cast",
    "was",
    "is",
    "on",
    "by",
    "with",
    "and",
    "it",
    "this",
    "very",
    "quite",
]


def planted_dataset(n: int = 450, seed: int = 0) -> LabeledTexts:
    """Filler words plus at most one planted word, which alone decides the label.

    "zork" makes a text positive, "blick" negative, neither neutral (three classes, so a
    model must read both cues). A faithful explanation ranks the planted word first: the
    one case where the right answer is known, used to check explainers.
    """
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    cues = [*PLANTED_WORDS, None]
    for i in range(n):
        cue = cues[i % len(cues)]
        words = list(rng.choice(_PLANTED_FILLER, size=rng.integers(4, 9)))
        if cue is not None:
            words.insert(int(rng.integers(0, len(words) + 1)), cue)
        texts.append(" ".join(words))
        labels.append(PLANTED_WORDS.get(cue, "neutral"))
    return LabeledTexts(texts, labels, source=f"planted_dataset(n={n}, seed={seed})")


def _download_sst2(root: Path) -> None:
    """Fetch GLUE's SST-2.zip, check its SHA-256, and place train.tsv and dev.tsv in root."""
    archive = io.BytesIO()  # 7 MB: nothing touches the disk before the checksum passes
    digest = hashlib.sha256()
    try:
        root.mkdir(parents=True, exist_ok=True)
        with urllib.request.urlopen(SST2_URL, timeout=_DOWNLOAD_TIMEOUT_S) as response:
            size = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=size, unit="B", unit_scale=True, desc="SST-2.zip") as progress:
                for chunk in iter(lambda: response.read(1 << 20), b""):
                    archive.write(chunk)
                    digest.update(chunk)
                    progress.update(len(chunk))
    except OSError as err:  # URLError and socket timeouts are OSErrors too
        raise InputError(
            f"downloading SST-2 from {SST2_URL} failed ({err}). If this machine is offline, "
            f"put train.tsv and dev.tsv from GLUE's SST-2 into {root} (or pass root=... / set "
            f"WORKBENCH_SST2_DIR to the folder that holds them)."
        ) from err
    if digest.hexdigest() != SST2_SHA256:
        raise InputError(
            f"the SST-2 archive from {SST2_URL} has SHA-256 {digest.hexdigest()}, expected "
            f"{SST2_SHA256}; it was discarded. Try again later, or put train.tsv and dev.tsv "
            f"from GLUE's SST-2 into {root} yourself."
        )
    with zipfile.ZipFile(archive) as bundle:
        for name in _SST2_FILES:
            # Write beside the target, then rename: a crash never leaves a half file in root.
            handle, partial = tempfile.mkstemp(dir=root, prefix=f".{name}.", suffix=".part")
            try:
                with os.fdopen(handle, "wb") as target, bundle.open(f"SST-2/{name}") as member:
                    shutil.copyfileobj(member, target)
                os.replace(partial, root / name)
            except BaseException:
                Path(partial).unlink(missing_ok=True)
                raise


def load_sst2(
    root: str | os.PathLike[str] | None = None, *, download: bool = True
) -> tuple[LabeledTexts, LabeledTexts]:
    """Load GLUE's SST-2 sentiment data (labels 0 = negative, 1 = positive).

    Args:
        root: Folder holding ``train.tsv`` and ``dev.tsv``; defaults to the environment
            variable ``WORKBENCH_SST2_DIR``, else ``~/.cache/workbench/sst2``.
        download: Fetch the official GLUE archive into ``root`` (checksum verified) when
            the files are missing.

    Returns:
        ``(train, dev)``: 67,349 and 872 rows for the official files.

    Raises:
        InputError: if the files are missing and cannot be downloaded; the message says
            where to put them.
    """
    if root is None:
        root = os.environ.get("WORKBENCH_SST2_DIR") or Path.home() / ".cache/workbench/sst2"
    root = Path(root).expanduser()
    if not all((root / name).is_file() for name in _SST2_FILES):
        if not download:
            raise InputError(
                f"SST-2 not found: {root} must hold train.tsv and dev.tsv from GLUE's SST-2; "
                f"put them there (or pass root=... / set WORKBENCH_SST2_DIR), or call "
                f"load_sst2(download=True)."
            )
        _download_sst2(root)
    return (
        _load_table(root / "train.tsv", "sentence", "label", "utf-8", "tsv"),
        _load_table(root / "dev.tsv", "sentence", "label", "utf-8", "tsv"),
    )


# PTB escapes in the SST trees, undone to match GLUE's SST-2 text ("( w ) hile", "a/b").
_PTB_BRACKETS = {"-LRB-": "(", "-RRB-": ")"}
_TREE_TOKEN = re.compile(r"\(|\)|[^\s()]+")


def _tree_nodes(line: str, where: str) -> list[tuple[int, list[str]]]:
    """``(label, words)`` of every node of one PTB tree (leaves too), root last."""
    nodes: list[tuple[int, list[str]]] = []
    open_nodes: list[tuple[int, list[str]]] = []  # label and the words seen so far
    tokens = _TREE_TOKEN.findall(line)
    problem = None
    for i, token in enumerate(tokens):
        if i > 0 and tokens[i - 1] == "(":
            continue  # the label, read with its "("
        if token == "(":
            label = tokens[i + 1] if i + 1 < len(tokens) else ""
            if label not in ("0", "1", "2", "3", "4"):
                problem = f"a node label must be 0-4, got {label!r}"
            elif nodes and not open_nodes:
                problem = "more than one tree on the line"
            else:
                open_nodes.append((int(label), []))
        elif token == ")":
            if not open_nodes:
                problem = "a ')' closes no node"
            else:
                label, words = open_nodes.pop()
                if not words:
                    problem = "a node holds no word"
                nodes.append((label, words))
                if open_nodes:
                    open_nodes[-1][1].extend(words)
        elif not open_nodes:
            problem = f"the word {token!r} stands outside the tree"
        else:
            word = _PTB_BRACKETS.get(token, token).replace("\\/", "/").replace("\\*", "*")
            open_nodes[-1][1].append(word.lower())
        if problem is not None:
            break
    if problem is None and (open_nodes or not nodes):
        problem = "the brackets do not balance" if open_nodes else "no tree on it"
    if problem is not None:
        raise InputError(
            f"{where} is not a sentiment tree ({problem}); each line must be one PTB tree "
            f"such as (3 (2 a) (4 (4 fine) (2 film))), as in SST's trees/<split>.txt"
        )
    return nodes


def load_sst_trees(
    root: str | os.PathLike[str],
    split: str = "train",
    *,
    phrases: bool = True,
    trees: Collection[int] | None = None,
) -> LabeledTexts:
    """Load the Stanford Sentiment Treebank's binarised trees (0 = negative, 1 = positive).

    ``root`` holds SST's ``{train,dev,test}.txt``: one PTB tree per line, every node
    labelled 0-4. Labels 0-1 become 0 and 3-4 become 1; neutral (2) nodes are dropped.
    Texts take GLUE SST-2's form: words joined by single spaces, lower-cased, brackets and
    slashes unescaped (``-LRB-`` -> ``(``, ``\\/`` -> ``/``). (GLUE's train.tsv also
    respells a few British words, "humour" -> "humor"; the trees keep them as written.)

    Args:
        root: The folder with the tree files.
        split: ``"train"``, ``"dev"`` or ``"test"``.
        phrases: Every distinct non-neutral phrase of the trees (each node, leaves included;
            what GLUE's train.tsv samples from), deduplicated by text. A text labelled both
            ways (by different trees) keeps its majority label, ties going to the label
            seen first. ``False`` gives only the non-neutral root sentences, one row per
            tree, in file order.
        trees: 0-based indices of the trees (non-blank lines) to read; ``None`` reads all.
            Hold out whole sentences this way, so no phrase of a validation sentence is
            trained on.

    Raises:
        InputError: if the file is missing or a line is not a labelled tree (naming the
            file and line), or no non-neutral node remains.
    """
    if split not in ("train", "dev", "test"):
        raise InputError(f"split must be 'train', 'dev' or 'test', got {split!r}")
    path = Path(root).expanduser() / f"{split}.txt"
    if not path.is_file():
        raise InputError(
            f"{path} not found; root must be the folder with SST's {split}.txt (trees/ of "
            f"trainDevTestTrees_PTB.zip from https://nlp.stanford.edu/sentiment/)."
        )
    wanted = None if trees is None else set(trees)
    sentences: list[tuple[str, int]] = []
    votes: dict[str, Counter] = {}
    raw = path.read_bytes()
    try:
        lines = raw.decode("utf-8").splitlines()
    except UnicodeDecodeError as err:
        line_number = raw.count(b"\n", 0, err.start) + 1
        raise InputError(
            f"{path}, line {line_number}: byte 0x{raw[err.start]:02x} "
            f"is not UTF-8; SST's tree files are UTF-8, so re-save the file as UTF-8."
        ) from None
    tree_index = -1
    for line_number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        tree_index += 1
        if wanted is not None and tree_index not in wanted:
            continue
        nodes = _tree_nodes(line, f"{path}, line {line_number}")
        root_label, root_words = nodes[-1]
        if not phrases and root_label != 2:
            sentences.append((" ".join(root_words), int(root_label > 2)))
        for label, words in nodes if phrases else ():
            if label != 2:
                votes.setdefault(" ".join(words), Counter())[int(label > 2)] += 1
    if wanted and max(wanted) > tree_index:
        raise InputError(
            f"{path} has {tree_index + 1} trees, but trees= asks for tree {max(wanted)}; "
            f"tree indices count non-blank lines from 0."
        )
    if phrases:
        # most_common keeps insertion order among equal counts: ties go to the first seen.
        sentences = [(text, counts.most_common(1)[0][0]) for text, counts in votes.items()]
    if not sentences:
        raise InputError(
            f"{path}: no positive or negative node in the trees read; check the file "
            f"and the trees= selection."
        )
    texts, labels = zip(*sentences, strict=True)
    return LabeledTexts(list(texts), list(labels), str(path))


@dataclass(frozen=True)
class RationaleExample:
    """One ERASER movie review with the character spans people marked as evidence."""

    text: str  # the review's whitespace tokens joined by single spaces (lines joined too)
    label: str  # "NEG" / "POS"
    rationale_spans: list[tuple[int, int]]  # (start, end) in ``text``, end exclusive
    doc_id: str


def load_eraser_movies(root: str | os.PathLike[str], split: str = "test") -> list[RationaleExample]:
    """Load ERASER's movie reviews with human rationales (DeYoung et al., 2020).

    ``root`` is the unpacked ``movies`` folder: ``docs/<docid>`` (whitespace-tokenised
    reviews, one sentence per line) and ``<split>.jsonl`` (``annotation_id``,
    ``classification``, ``evidences`` with ``start_token``/``end_token`` counted over the
    whole document's whitespace tokens, end exclusive). The token spans become character
    spans in ``text``, in file order, repeats and empty evidences (``text == ""``, 20 in
    the test split) dropped; pair them with
    :func:`workbench.explain.faithfulness.rationale_mask`.

    Returns:
        One example per annotated document (the standard test split has 199).

    Raises:
        InputError: if the folder, the split file or a document is missing or malformed.
    """
    root = Path(root).expanduser()
    path, docs = root / f"{split}.jsonl", root / "docs"
    if not path.is_file() or not docs.is_dir():
        raise InputError(
            f"ERASER movies not found: {path} and {docs}/ must exist; unpack movies.tar.gz "
            f"from eraserbenchmark.com and pass its folder as root (split is one of "
            f"'train', 'val', 'test')."
        )
    examples = []
    for line_number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}, line {line_number}"
        try:
            record = json.loads(line)
            doc_id, label = str(record["annotation_id"]), str(record["classification"])
            evidences = [span for group in record["evidences"] or [] for span in group]
            token_spans = [(int(e["start_token"]), int(e["end_token"])) for e in evidences]
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
            raise InputError(
                f"{where}: not an ERASER annotation ({err!r}); each line must be a JSON "
                "object with annotation_id, classification and evidences"
            ) from None
        doc_path = docs / doc_id
        if not doc_path.is_file():
            raise InputError(f"{where}: document {doc_path} not found; is docs/ complete?")
        tokens = doc_path.read_text("utf-8").split()
        starts = np.cumsum([0] + [len(t) + 1 for t in tokens[:-1]]).tolist()
        spans = []
        for start, end in dict.fromkeys(token_spans):
            if not 0 <= start <= end <= len(tokens):
                raise InputError(
                    f"{where}: evidence tokens [{start}, {end}) fall outside {doc_path} "
                    f"({len(tokens)} tokens); the annotation does not match the document"
                )
            if start == end:
                continue  # ERASER's test split has a few empty evidences (text ""): no words
            spans.append((starts[start], starts[end - 1] + len(tokens[end - 1])))
        examples.append(RationaleExample(" ".join(tokens), label, spans, doc_id))
    return examples
