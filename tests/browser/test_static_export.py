"""A static HTML export of notebook 05 reads without a kernel, an extension or a network.

``jupyter nbconvert --to html --execute`` runs the notebook (smoke mode) in a temporary
copy; the page is then opened from disk with every http(s) request refused, the way an
auditor opens an attachment, and the highlighted explanation must be there.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from lab_driver import (
    BIN,
    REPO,
    assert_explains_text,
    expect,
    jupyter_env,
    missing_glyphs,
    stop_process_tree,
)

pytestmark = pytest.mark.browser

NOTEBOOK = "05_explain_predictions.ipynb"
# The review that notebook 05 explains word by word in its Chinese section.
CHINESE_REVIEW = "服务很好，但是菜太咸了，不会再来。"
EXPORT_TIMEOUT_S = 900


@pytest.fixture(scope="module")
def exported_html(tmp_path_factory: pytest.TempPathFactory, artifacts_dir: Path) -> Path:
    home = tmp_path_factory.mktemp("nbconvert")
    notebooks = home / "project" / "notebooks"
    notebooks.mkdir(parents=True)
    (home / "project" / "runs").mkdir()  # the notebook exports to ../runs/
    shutil.copy(REPO / "notebooks" / NOTEBOOK, notebooks / NOTEBOOK)
    out = home / "html"
    command = [
        str(BIN / "jupyter"),
        "nbconvert",
        "--to",
        "html",
        "--execute",
        f"--ExecutePreprocessor.timeout={EXPORT_TIMEOUT_S}",
        "--output-dir",
        str(out),
        str(notebooks / NOTEBOOK),
    ]
    log = artifacts_dir / "nbconvert.log"
    with open(log, "wb") as log_file:
        proc = subprocess.Popen(
            command,
            cwd=notebooks,
            env=jupyter_env(home / "jupyter"),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        returncode = proc.wait(EXPORT_TIMEOUT_S + 60)
    except subprocess.TimeoutExpired:
        returncode = None
    finally:
        stop_process_tree(proc)  # its kernel too, whatever happened
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-40:])
    assert returncode == 0, f"nbconvert --execute failed ({returncode}):\n{tail}"
    html = out / NOTEBOOK.replace(".ipynb", ".html")
    assert html.is_file(), f"nbconvert wrote no {html.name}:\n{tail}"
    shutil.copy(html, artifacts_dir / f"static_{html.name}")
    return html


def open_offline(watched, html: Path):
    """Open ``html`` from disk with the network cut off: only file:// may load."""
    page = watched.page
    page.route(re.compile(r"^(https?|wss?)://"), lambda route: route.abort())
    page.goto(html.as_uri())
    return page


def test_static_export_shows_highlighted_explanation(
    exported_html: Path, watched_page, artifacts_dir: Path
) -> None:
    page = open_offline(watched_page, exported_html)
    explanations = page.locator(".wb-explanation")
    expect(explanations.first).to_be_visible()
    # show(panel.explanations) after the panel ran, and again for the TF-IDF model.
    assert explanations.count() >= 2, f"{explanations.count()} explanation(s) in the export"
    first = explanations.first
    assert first.locator(".wb-method").all_inner_texts() == [
        "shap",
        "lime",
        "integrated-gradients",
        "gradient-x-input",
        "attention",
    ]
    assert_explains_text(first, "Not bad at all, I'd happily go back.")
    tracebacks = page.locator(".jp-OutputArea-output", has_text="Traceback").count()
    assert tracebacks == 0, "the export shows a traceback"
    page.screenshot(path=str(artifacts_dir / "static_05_explain_predictions.png"), full_page=True)
    assert not watched_page.dialogs, watched_page.dialogs
    assert not watched_page.page_errors, watched_page.page_errors


def test_static_export_keeps_plotly_figures(exported_html: Path, watched_page) -> None:
    page = open_offline(watched_page, exported_html)
    expect(page.locator(".wb-explanation").first).to_be_visible()
    assert page.locator(".plotly-graph-div, .js-plotly-plot").count() >= 2


def test_static_export_renders_chinese_with_every_glyph(
    exported_html: Path, watched_page, artifacts_dir: Path
) -> None:
    """The Chinese explanation shows its characters, not missing-glyph boxes: the browser
    needs a CJK font (``make test-browser`` installs Debian's fonts-wqy-zenhei)."""
    page = open_offline(watched_page, exported_html)
    chinese = page.locator(".wb-explanation", has_text=CHINESE_REVIEW).first
    expect(chinese).to_be_visible()
    assert_explains_text(chinese, CHINESE_REVIEW)
    missing = missing_glyphs(chinese.locator(".wb-word, .wb-method"))
    chinese.screenshot(path=str(artifacts_dir / "static_chinese_explanation.png"))
    assert not missing, (
        f"{len(missing)} character(s) render as missing-glyph boxes: {''.join(missing)}; "
        "install a CJK font (Debian: apt-get install fonts-wqy-zenhei)"
    )
