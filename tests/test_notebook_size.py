"""Every notebook, executed and saved as a user's Jupyter would save it, stays small.

nbval runs the notebooks cell by cell but never saves them, so it cannot see what a saved
notebook carries: widget state (the figures inside panels) and whatever a library displays
on its own. A live training curve once re-sent plotly's 4.8 MB JavaScript on every redraw
and made an executed notebook 03 of 452 MB. Here each notebook runs in smoke mode
(``WORKBENCH_SMOKE=1``, as ``make test`` sets it) through nbclient, widget state stored as
nbconvert stores it, and the saved file must stay under the limit. Full-mode sizes are
measured by ``benchmarks/notebooks.py --full``.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

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


@pytest.mark.skipif(os.environ.get("WORKBENCH_SMOKE") != "1", reason="set WORKBENCH_SMOKE=1")
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_an_executed_notebook_stays_under_10_mb(path: Path, tmp_path: Path) -> None:
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
    size = copy.stat().st_size
    assert size <= LIMIT_BYTES, (
        f"{path.name} executed and saved is {size / 1e6:.1f} MB (limit "
        f"{LIMIT_BYTES / 1e6:.1f} MB); largest: {'; '.join(largest_outputs(notebook))}"
    )
