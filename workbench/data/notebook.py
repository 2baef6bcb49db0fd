"""The data a notebook works on: the embedded reviews, or a teacher's own table.

Every notebook's data cell calls :func:`notebook_data` with its one marked line
(``DATA = None``); the same switch works without editing anything through environment
variables, so a workshop (or CI) can run every notebook on its own table:

- ``WORKBENCH_DATA``: the table (CSV, TSV, JSON Lines or Parquet) to use;
- ``WORKBENCH_TEXT_COL`` / ``WORKBENCH_LABEL_COL``: its text and label columns
  (``text`` and ``label`` unless given);
- ``WORKBENCH_TEST_DATA``: a separate test table; without it, a stratified share of
  ``WORKBENCH_DATA`` becomes the test set.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from workbench.data.reviews import embedded_reviews_folder, load_reviews
from workbench.data.splits import stratified_split
from workbench.data.tables import load_table
from workbench.data.texts import LabeledTexts

DATA_VARIABLES = (
    "WORKBENCH_DATA",
    "WORKBENCH_TEXT_COL",
    "WORKBENCH_LABEL_COL",
    "WORKBENCH_TEST_DATA",
)


def notebook_data(
    path: str | os.PathLike[str] | None = None,
    *,
    text_col: str | None = None,
    label_col: str | None = None,
    test_path: str | os.PathLike[str] | None = None,
    default: Callable[[], tuple[LabeledTexts, LabeledTexts]] = load_reviews,
    test_size: float = 0.2,
    seed: int = 0,
) -> tuple[LabeledTexts, LabeledTexts]:
    """``(train, test)``: the table at ``path`` (else ``$WORKBENCH_DATA``), else ``default()``.

    Arguments given here win over the environment variables (see the module docstring).
    Without a test table, ``test_size`` of the rows, stratified by label, become the test
    set. Use :func:`is_own_data` to tell the two apart, e.g. to skip a cell that needs the
    embedded reviews' tags.
    """
    path = path or os.environ.get("WORKBENCH_DATA") or None
    if path is None:
        return default()
    text_col = text_col or os.environ.get("WORKBENCH_TEXT_COL") or "text"
    label_col = label_col or os.environ.get("WORKBENCH_LABEL_COL") or "label"
    test_path = test_path or os.environ.get("WORKBENCH_TEST_DATA") or None
    data = load_table(Path(path), text_col, label_col)
    if test_path is not None:
        return data, load_table(Path(test_path), text_col, label_col)
    # stratified_split's "validation" share is our test set; nothing else is held out.
    train, test, _ = stratified_split(data, val_size=test_size, seed=seed)
    return train, test


def is_own_data(data: LabeledTexts) -> bool:
    """True unless ``data`` came from the embedded English reviews (whose tags some cells
    use)."""
    return Path(data.source).resolve().parent != embedded_reviews_folder().resolve()
