"""Every notebook, executed and saved as a user's Jupyter would save it: it stays small, and
it runs on a teacher's own data as well as on the embedded reviews.

nbval runs the notebooks cell by cell but never saves them, so it cannot see what a saved
notebook carries: widget state (the figures inside panels) and whatever a library displays
on its own. A live training curve once re-sent plotly's 4.8 MB JavaScript on every redraw
and made an executed notebook 03 of 452 MB. Here each notebook runs in smoke mode
(``WORKBENCH_SMOKE=1``, as ``make test`` sets it) through nbclient, widget state stored as
nbconvert stores it, and the saved file must stay under the limit. Full-mode sizes are
measured by ``benchmarks/notebooks.py --full``.

Own data: each notebook also runs with ``WORKBENCH_DATA`` pointing at a table with other
column names and labels (``review``/``sentiment``, ``pos``/``neg``) and at a three-class
table (``text``/``topic``), both written here from the embedded reviews, as a workshop
would switch every notebook without editing one.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient

from workbench.data import DATA_VARIABLES, load_reviews_table

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
LIMIT_BYTES = 10 * 1024 * 1024
CELL_TIMEOUT_S = 900


def largest_outputs(notebook: nbformat.NotebookNode, count: int = 3) -> list[str]:
    """The biggest outputs (cell number, kind, size), and the widget state, largest first."""
    sizes = [
        (len(json.dumps(output)), f"cell {i} {output.get('output_type')}")
        for i, cell in enumerate(notebook.cells)
        for output in cell.get("outputs", [])
    ]
    widgets = notebook.metadata.get("widgets")
    if widgets:
        sizes.append((len(json.dumps(widgets)), "widget state in the metadata"))
    return [f"{where}: {size / 1e6:.1f} MB" for size, where in sorted(sizes, reverse=True)[:count]]


def execute(path: Path, tmp_path: Path) -> tuple[nbformat.NotebookNode, Path]:
    """Run a copy of ``path`` as Jupyter would (widget state stored), save it, return both."""
    notebooks = tmp_path / "project" / "notebooks"
    notebooks.mkdir(parents=True)
    (tmp_path / "project" / "runs").mkdir()  # the notebooks write to ../runs/
    copy = Path(shutil.copy(path, notebooks / path.name))
    notebook = nbformat.read(copy, as_version=4)
    NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(notebooks)}},
        store_widget_state=True,
    ).execute()
    nbformat.write(notebook, copy)
    return notebook, copy


smoke_only = pytest.mark.skipif(
    os.environ.get("WORKBENCH_SMOKE") != "1", reason="set WORKBENCH_SMOKE=1"
)


@smoke_only
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_an_executed_notebook_stays_under_10_mb(path: Path, tmp_path: Path, monkeypatch) -> None:
    for name in DATA_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    notebook, saved = execute(path, tmp_path)
    size = saved.stat().st_size
    assert size <= LIMIT_BYTES, (
        f"{path.name} executed and saved is {size / 1e6:.1f} MB (limit "
        f"{LIMIT_BYTES / 1e6:.1f} MB); largest: {'; '.join(largest_outputs(notebook))}"
    )


def own_table(kind: str, folder: Path) -> dict[str, str]:
    """A table of the teacher's kind, and the variables that point every notebook at it."""
    reviews = load_reviews_table("train")
    if kind == "other columns and labels":
        rows = reviews.sample(300, random_state=1)
        frame = pd.DataFrame(
            {
                "review": rows.text,
                "sentiment": rows.label.map({"positive": "pos", "negative": "neg"}),
            }
        )
        columns = {"WORKBENCH_TEXT_COL": "review", "WORKBENCH_LABEL_COL": "sentiment"}
    else:  # three classes: the domain a review is about
        rows = reviews[reviews.domain != "apps"].sample(300, random_state=2)
        frame = pd.DataFrame({"text": rows.text, "topic": rows.domain})
        columns = {"WORKBENCH_LABEL_COL": "topic"}
    path = folder / "mine.csv"
    frame.to_csv(path, index=False)
    return {"WORKBENCH_DATA": str(path), **columns}


@smoke_only
@pytest.mark.parametrize("kind", ["other columns and labels", "three classes"])
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_notebook_runs_on_your_own_data(path: Path, kind: str, tmp_path: Path, monkeypatch):
    for name in DATA_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in own_table(kind, tmp_path).items():
        monkeypatch.setenv(name, value)  # the kernel inherits them
    execute(path, tmp_path)  # a failing cell raises, naming it
