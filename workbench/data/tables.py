"""Reading texts and labels from CSV, TSV, JSON Lines and Parquet files."""

from __future__ import annotations

import csv
import difflib
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from workbench.data.texts import LabeledTexts, at_rows, is_missing, validate_labeled
from workbench.errors import InputError

_FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
}
_INT_LABEL = re.compile(r"[+-]?\d+")


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


def check_file(path: Path, kind: str) -> None:
    """A clear error unless ``path`` is a file; ``kind`` says what it should be ("a table
    file")."""
    if path.is_dir():
        raise InputError(f"{path} is a folder, not a file; pass the path of {kind}.")
    if not path.is_file():
        raise InputError(f"{path} not found; check the path.")


@contextmanager
def decoding(path: Path, encoding: str) -> Iterator[None]:
    """Reading ``path`` as ``encoding`` inside: undecodable bytes and unknown codecs become
    errors that name the file and say what to do."""
    try:
        yield
    except UnicodeDecodeError as err:
        raise _decode_error(path, encoding, err) from None
    except LookupError:
        raise InputError(
            f"{path}: unknown encoding {encoding!r}; use a Python codec name such as "
            f'"utf-8" or "latin-1".'
        ) from None


def _read_delimited(path: Path, sep: str, encoding: str) -> dict[str, list]:
    kind = "TSV" if sep == "\t" else "CSV"
    # TSV has no quoting (fields cannot hold tabs), and corpora such as SST-2 have lone quote
    # characters that are text; CSV quotes fields that hold commas or line breaks.
    quoting = csv.QUOTE_NONE if kind == "TSV" else csv.QUOTE_MINIMAL
    try:
        # pandas-stubs want quoting as a Literal; csv's QUOTE_* constants are typed int
        frame = pd.read_csv(  # type: ignore[call-overload]
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


def _clean_labels(path: Path, values: list) -> list[Any]:
    """Strip string labels, keep integer ones as int; None marks a missing label.

    All ``str`` or all ``int``, with None where a label is missing (``validate_labeled``
    refuses those rows with their row numbers).
    """
    cleaned: list = []
    bad = []
    for i, value in enumerate(values):
        if is_missing(value):
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
            f"{path}: unusable label {at_rows(bad)} ({type(example).__name__}, e.g. "
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
            f"{path}: label {at_rows(numeric)} is the number {cleaned[numeric[0]]!r}, but the "
            f"other labels are names (e.g. data row {text + 1}: {cleaned[text]!r}); fix "
            f'those rows, or write the label as a string ("{cleaned[numeric[0]]}") if it '
            f"really is a class of its own."
        )
    return [None if label is None else str(label) for label in cleaned]


def read_columns(
    path: str | os.PathLike[str], *, encoding: str = "utf-8", format: str | None = None
) -> dict[str, list]:
    """Every column of a table file as read, by name (``load_table`` keeps the text and label
    columns only; an analysis slices by the others). Formats and errors as ``load_table``."""
    path = Path(path)
    fmt = _table_format(path, format)
    check_file(path, "a table file")
    with decoding(path, encoding):
        if fmt == "parquet":
            return _read_parquet(path)
        if fmt == "jsonl":
            return _read_jsonl(path, encoding)
        return _read_delimited(path, "\t" if fmt == "tsv" else ",", encoding)


def labeled_from_columns(
    path: str | os.PathLike[str],
    columns: dict[str, list],
    text_col: str = "text",
    label_col: str | None = "label",
    min_classes: int = 2,
) -> LabeledTexts:
    """The texts and labels among ``columns`` (read from ``path`` by :func:`read_columns`),
    cleaned and checked as ``load_table`` does."""
    path = Path(path)
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
        "" if is_missing(value) else (value.strip() if isinstance(value, str) else value)
        for value in columns[text_col]
    ]
    labels = None if label_col is None else _clean_labels(path, columns[label_col])
    data = LabeledTexts(texts, labels, str(path))
    validate_labeled(data, min_classes=min_classes)
    return data


def _table_format(path: Path, format: str | None) -> str:
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
    return fmt


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
    columns = read_columns(path, encoding=encoding, format=format)
    return labeled_from_columns(path, columns, text_col, label_col, min_classes)
