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
    text_col: str = "text",
    label_col: str = "label",
    test_path: str | os.PathLike[str] | None = None,
    default: Callable[[], tuple[LabeledTexts, LabeledTexts]] = load_reviews,
    test_size: float = 0.2,
    seed: int = 0,
) -> tuple[LabeledTexts, LabeledTexts]:
    """``(train, test)``: the table at ``path``, else ``$WORKBENCH_DATA``, else ``default()``.

    The columns and the test table go with the table they belong to: the arguments with
    ``path``, the ``WORKBENCH_*`` variables with ``$WORKBENCH_DATA`` (see the module
    docstring), so a notebook's marked line never overrides a table set from outside.
    Without a test table, ``test_size`` of the rows, stratified by label, become the test
    set. :func:`is_own_data` tells the embedded reviews from other data, e.g. to skip a
    cell that needs their tags.
    """
    if path is None:
        path = os.environ.get("WORKBENCH_DATA") or None
        if path is None:
            return default()
        text_col = os.environ.get("WORKBENCH_TEXT_COL") or "text"
        label_col = os.environ.get("WORKBENCH_LABEL_COL") or "label"
        test_path = os.environ.get("WORKBENCH_TEST_DATA") or None
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
