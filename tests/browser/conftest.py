"""The browser suite: JupyterLab driven by headless Chromium (issue #7).

What the unit tests cannot see: that the notebooks run in the real front end, that the
panels' buttons reach the kernel and their results come back (plotly charts, highlighted
explanations), that a static export reads without a kernel, and that hostile text stays
text in a browser.

Run it with ``make test-browser`` or ``pytest -m browser tests/browser``. It needs
Playwright's Python package (the ``browser`` extra) and a Chromium on the machine
(Debian: ``apt-get install chromium``; elsewhere set ``WORKBENCH_CHROMIUM``); Playwright's
own browser download is never used. Screenshots, the exported HTML and the JupyterLab log
land in ``--browser-artifacts`` (or ``$WORKBENCH_BROWSER_ARTIFACTS``), by default
``tests/browser/artifacts/`` (git-ignored).

One JupyterLab server serves the whole session, from a temporary copy of ``notebooks/``
(the notebooks write to ``../runs/``, which is then inside the copy), with temporary
Jupyter config, data, runtime, settings and workspace folders and ``WORKBENCH_SMOKE=1``.
It is always shut down, kernels included, when the session ends. The documentation
screenshots (``test_docs_screenshots.py``, only with ``WORKBENCH_DOCS_SCREENSHOTS=1``) get a
second server of the same kind without smoke mode, started only when they run.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import subprocess
import time
import urllib.error
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lab_driver import (
    BIN,
    CHROMIUM_ARGS,
    HERE,
    LAB_SETTINGS,
    REPO,
    SERVER_START_TIMEOUT_S,
    UI_TIMEOUT_MS,
    VIEWPORT,
    Lab,
    LabNotebook,
    WatchedPage,
    chromium_executable,
    free_port,
    jupyter_env,
    stop_process_tree,
)

# --------------------------------------------------------------------------- options


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--browser-artifacts",
        default=None,
        help="folder for the browser suite's screenshots, exported HTML and JupyterLab log "
        "(default: $WORKBENCH_BROWSER_ARTIFACTS or tests/browser/artifacts)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run these tests only when asked for: ``-m browser`` or a path inside this folder.

    A plain ``pytest`` from the repository root would otherwise start JupyterLab and a
    browser for several minutes; ``make test`` deselects them with ``-m "not browser"``.
    """
    if "browser" in (config.getoption("markexpr") or ""):
        return
    for arg in config.args:
        path = Path(arg.split("::")[0]).resolve()
        if path == HERE or HERE in path.parents:
            return
    skip = pytest.mark.skip(reason="browser suite: run it with `make test-browser`")
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(skip)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    # Remember each phase's outcome, so the page fixture can screenshot a failure.
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def artifacts_dir(request: pytest.FixtureRequest) -> Path:
    """Where screenshots and logs go; kept after the run for people and CI to look at."""
    chosen = request.config.getoption("--browser-artifacts") or os.environ.get(
        "WORKBENCH_BROWSER_ARTIFACTS"
    )
    folder = Path(chosen) if chosen else HERE / "artifacts"
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("FAILED-*.png"):  # from an earlier run
        stale.unlink()
    return folder.resolve()


@contextlib.contextmanager
def serve_lab(home: Path, log: Path, smoke: bool = True) -> Iterator[Lab]:
    """A JupyterLab server on a free loopback port, serving a temporary copy of the notebooks
    under ``home``, in smoke mode or (``smoke=False``) with the notebooks' full budgets."""
    project = home / "project"
    shutil.copytree(
        REPO / "notebooks",
        project / "notebooks",
        ignore=shutil.ignore_patterns(".ipynb_checkpoints"),
    )
    (project / "runs").mkdir()
    env = jupyter_env(home / "jupyter", smoke=smoke)
    for relative, content in LAB_SETTINGS.items():
        target = Path(env["JUPYTERLAB_SETTINGS_DIR"]) / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")

    port, token = free_port(), secrets.token_hex(24)
    command = [
        str(BIN / "jupyter"),
        "lab",
        "--no-browser",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.ip=127.0.0.1",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={project / 'notebooks'}",
        "--ServerApp.allow_root=True",  # CI runs as root
        # Nothing outside the machine is reachable (or wanted): no update or news checks,
        # no extension catalogue.
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.news_url=None",
        "--LabApp.extension_manager=readonly",
    ]
    with open(log, "wb") as log_file:
        proc = subprocess.Popen(
            command,
            cwd=project,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, which teardown stops whole
        )
    lab = Lab(f"http://127.0.0.1:{port}", token, project / "notebooks", log, proc)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited with {proc.returncode}:\n{lab.log_tail()}")
            try:
                lab.api("GET", "/api/status")
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not answer /api/status:\n{lab.log_tail()}")
                time.sleep(0.5)
        yield lab
    finally:
        stop_process_tree(proc)


@pytest.fixture(scope="session")
def jupyter_lab(tmp_path_factory: pytest.TempPathFactory, artifacts_dir: Path) -> Iterator[Lab]:
    """The suite's JupyterLab, in smoke mode."""
    with serve_lab(tmp_path_factory.mktemp("jupyterlab"), artifacts_dir / "jupyterlab.log") as lab:
        yield lab


@pytest.fixture(scope="session")
def docs_artifacts_dir(artifacts_dir: Path) -> Path:
    """Where the documentation screenshots go (``update_docs_images.py`` copies them on)."""
    folder = artifacts_dir / "docs"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def docs_lab(tmp_path_factory: pytest.TempPathFactory, docs_artifacts_dir: Path) -> Iterator[Lab]:
    """A second JupyterLab for the documentation screenshots: the notebooks' full budgets,
    not smoke mode, so the pictures show trained models. Started only when a test asks."""
    home = tmp_path_factory.mktemp("jupyterlab-docs")
    with serve_lab(home, docs_artifacts_dir / "jupyterlab.log", smoke=False) as lab:
        yield lab


@pytest.fixture(scope="session")
def browser_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One headless Chromium for the session, with a fresh temporary profile."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright is missing: pip install -c constraints.txt -e '.[browser]'")
    executable = chromium_executable()
    playwright = sync_playwright().start()
    try:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=executable,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport=VIEWPORT,
            timeout=UI_TIMEOUT_MS,
        )
        try:
            context.set_default_timeout(UI_TIMEOUT_MS)
            yield context
        finally:
            context.close()
    finally:
        playwright.stop()


@pytest.fixture
def watched_page(
    browser_context: Any, request: pytest.FixtureRequest, artifacts_dir: Path
) -> Iterator[WatchedPage]:
    page = browser_context.new_page()
    watched = WatchedPage(page)

    def on_dialog(dialog: Any) -> None:
        watched.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on(
        "console",
        lambda message: (
            watched.console_errors.append(message.text) if message.type == "error" else None
        ),
    )
    page.on("pageerror", lambda error: watched.page_errors.append(str(error)))
    try:
        yield watched
    finally:
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            try:
                name = re.sub(r"[^\w.-]+", "_", request.node.name)
                page.screenshot(path=str(artifacts_dir / f"FAILED-{name}.png"))
            except Exception:
                pass
        page.close()


def _opener(lab: Lab, watched_page: WatchedPage) -> Iterator[Any]:
    def opener(name: str) -> LabNotebook:
        return LabNotebook(lab, watched_page, name).open()

    try:
        yield opener
    finally:
        # The server's own teardown ends them in any case.
        with contextlib.suppress(Exception):
            lab.shut_down_kernels()


@pytest.fixture
def open_notebook(jupyter_lab: Lab, watched_page: WatchedPage) -> Iterator[Any]:
    """``open_notebook("03_train_a_transformer.ipynb")`` -> a :class:`LabNotebook`, opened
    with its kernel idle, in smoke mode. Its kernel is shut down after the test."""
    yield from _opener(jupyter_lab, watched_page)


@pytest.fixture
def open_docs_notebook(docs_lab: Lab, watched_page: WatchedPage) -> Iterator[Any]:
    """Like ``open_notebook``, on the full-budget server of the documentation screenshots."""
    yield from _opener(docs_lab, watched_page)
