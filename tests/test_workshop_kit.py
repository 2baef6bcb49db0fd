"""The facilitator's kit keeps up with the notebooks: every exercise is labelled with its
difficulty and minutes and has a hint, and has a worked solution (which ``make test``
executes) and every notebook a summary, under the same title."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
KIT = ROOT / "docs" / "workshop"
EXERCISE = re.compile(r"^(\d+)\. \*\*(.+?)\*\* · \*(easy|medium|hard), (\d+) min\*\.", re.M)


def markdown(path: Path) -> str:
    notebook = nbformat.read(path, as_version=4)
    return "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")


def exercises(path: Path) -> list[tuple[str, str]]:
    """(number, title) of each exercise, checked for its label and hint."""
    text = markdown(path)
    section = text[text.index("## Exercises") :] if "## Exercises" in text else ""
    items = re.split(r"^(?=\d+\. )", section, flags=re.M)[1:]
    found = []
    for item in items:
        match = EXERCISE.match(item)
        assert match, f"{path.name}: label it as '1. **Title** · *easy, 5 min*.': {item[:80]!r}"
        assert "hint" in item.lower(), f"{path.name}: exercise {match[1]} has no hint"
        found.append((match[1], match[2]))
    return found


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_exercise_is_labelled_and_has_a_worked_solution(notebook: Path) -> None:
    listed = exercises(notebook)
    assert listed, f"{notebook.name} has no labelled exercises"
    solutions = KIT / "solutions" / f"{notebook.stem}_solutions.ipynb"
    assert solutions.is_file(), f"write {solutions.relative_to(ROOT)}"
    headings = re.findall(r"^## Exercise (\d+) · (.+)$", markdown(solutions), re.M)
    assert headings == listed


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_has_a_summary(notebook: Path) -> None:
    summary = KIT / "summaries" / f"{notebook.stem}.md"
    assert summary.is_file(), f"write {summary.relative_to(ROOT)}"
    assert len(summary.read_text(encoding="utf-8").splitlines()) <= 30, "a summary fits a slide"
