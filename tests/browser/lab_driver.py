"""Driving JupyterLab and Chromium for the browser suite: the server, the notebook page,
and the checks the tests share. The fixtures that use these live in ``conftest.py``."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
BIN = Path(sys.executable).parent  # the environment running pytest also runs Jupyter

# Without the background-networking flags Chromium keeps dialling out, and on a closed
# network those connections are refused; --no-sandbox because CI runs as root.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 900}
# Generous: the machines are shared and slow, and a wait only costs time when it fails.
UI_TIMEOUT_MS = 120_000
RUN_ALL_TIMEOUT_MS = 600_000
SERVER_START_TIMEOUT_S = 180
# Chromium cannot capture a taller image than this in one screenshot.
MAX_SHOT_HEIGHT = 16_000

# JupyterLab user settings for the test server: no news pop-up over the notebook, and
# every cell rendered (not virtualised), so that full-notebook screenshots show them all.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": (
        '{"fetchNews": "false", "checkForUpdates": false}'
    ),
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": '{"windowingMode": "none"}',
}


# --------------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _descendants(pid: int) -> list[Any]:
    """The processes ``pid`` started (kernels run in sessions of their own), if psutil is
    there to find them; ipykernel depends on it, so it normally is."""
    try:
        import psutil

        return psutil.Process(pid).children(recursive=True)
    except Exception:
        return []


def stop_process_tree(proc: subprocess.Popen, grace_s: float = 30) -> None:
    """Stop ``proc`` (started with ``start_new_session=True``), its process group and every
    process it started: SIGTERM first (Jupyter then shuts its kernels down), SIGKILL after
    ``grace_s`` for whatever is left."""
    children = _descendants(proc.pid)
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    for child in children:  # only processes this one started, found before it ended
        with contextlib.suppress(Exception):
            if child.is_running():
                child.kill()


def jupyter_env(home: Path, smoke: bool = True) -> dict[str, str]:
    """The environment for Jupyter processes: private config/data/runtime folders, and smoke
    mode (``WORKBENCH_SMOKE=1``) or, with ``smoke=False``, the notebooks' full budgets."""
    folders = {
        "JUPYTER_CONFIG_DIR": home / "config",
        "JUPYTER_DATA_DIR": home / "data",
        "JUPYTER_RUNTIME_DIR": home / "runtime",
        "JUPYTERLAB_SETTINGS_DIR": home / "lab-settings",
        "JUPYTERLAB_WORKSPACES_DIR": home / "lab-workspaces",
        "IPYTHONDIR": home / "ipython",
    }
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
    env.update({k: str(v) for k, v in folders.items()})
    if smoke:
        env["WORKBENCH_SMOKE"] = "1"
    else:
        env.pop("WORKBENCH_SMOKE", None)
    # The models are tiny and the machines small and shared: spinning OpenMP threads only
    # slow each step down (tests/conftest.py does the same for the unit tests).
    env.setdefault("OMP_NUM_THREADS", "1")
    env["PYTHONUNBUFFERED"] = "1"
    return env


# --------------------------------------------------------------------------- JupyterLab


@dataclass
class Lab:
    """A running JupyterLab server."""

    url: str
    token: str
    root: Path  # the server's root: a copy of notebooks/; ../runs is beside it
    log: Path
    proc: subprocess.Popen

    def notebook_url(self, name: str, workspace: str) -> str:
        # A workspace per test and ?reset: the page opens this notebook only, not the tabs
        # an earlier test left open.
        return f"{self.url}/lab/workspaces/{workspace}/tree/{name}?token={self.token}&reset"

    def api(self, method: str, path: str) -> Any:
        import json

        request = urllib.request.Request(
            f"{self.url}{path}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shut_down_kernels(self) -> None:
        """End every session and kernel, so the next test has the CPU to itself."""
        for session in self.api("GET", "/api/sessions"):
            self.api("DELETE", f"/api/sessions/{session['id']}")
        for kernel in self.api("GET", "/api/kernels"):
            self.api("DELETE", f"/api/kernels/{kernel['id']}")

    def log_tail(self, lines: int = 40) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


# --------------------------------------------------------------------------- browser


def chromium_executable() -> str:
    """Chromium from the system: ``$WORKBENCH_CHROMIUM``, /usr/bin/chromium, or on PATH."""
    candidates = [os.environ.get("WORKBENCH_CHROMIUM"), "/usr/bin/chromium"]
    candidates += [shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail(
        "no Chromium found: install it (Debian: apt-get install chromium; `make test-browser` "
        "does) or set WORKBENCH_CHROMIUM to a Chromium or Chrome executable"
    )


@dataclass
class WatchedPage:
    """A page plus everything it reported: dialogs (alert/confirm/prompt, all dismissed),
    console errors and uncaught page errors."""

    page: Any
    dialogs: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- notebooks

_PROMPTS_JS = (
    "() => [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]"
    ".map(e => e.textContent.trim())"
)
# The kernel is idle and connected: the notebook's execution indicator says "idle" (it
# also does before any kernel has started) and the status bar's kernel item, which goes
# Initializing, Connecting, Unknown, then Idle, says so too.
_IDLE_JS = (
    "() => document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) "
    ".jp-Notebook-ExecutionIndicator')?.dataset.status === 'idle' && "
    "[...document.querySelectorAll('.jp-StatusBar-TextItem')]"
    ".some(e => /[|]\\s*Idle$/.test(e.textContent.trim()))"
)
_OUTER = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer"
# Resolves after two animation frames: whatever was just changed has been painted.
FRAMES_JS = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
ERROR_WORDS = re.compile(r"Traceback|\b[A-Z]\w*Error\b")


class LabNotebook:
    """One notebook open in JupyterLab, driven like a person would: menus and buttons."""

    def __init__(self, lab: Lab, watched: WatchedPage, name: str) -> None:
        self.lab, self.watched, self.page, self.name = lab, watched, watched.page, name

    def open(self) -> LabNotebook:
        workspace = re.sub(r"\W+", "-", self.name)
        self.page.goto(self.lab.notebook_url(self.name, workspace))
        self.page.wait_for_selector(".jp-NotebookPanel .jp-Cell")
        # Fold the file browser away: the notebook gets the whole width (and screenshot).
        open_tab = self.page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current")
        if open_tab.count():
            open_tab.first.click()
        self.page.wait_for_function(_IDLE_JS, polling=500)
        return self

    def run_all(self, timeout_ms: int = RUN_ALL_TIMEOUT_MS) -> None:
        """Run > Run All Cells, then wait until the kernel is idle with nothing pending."""
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        self.page.locator(".lm-Menu-item[data-command='runmenu:run-all']").click()
        # Queued cells show [*] at once; wait for that before waiting for the end of it.
        self.page.wait_for_function(f"() => ({_PROMPTS_JS})().some(p => p !== '[ ]:')")
        # Done: idle and nothing queued. After an error JupyterLab drops the queue, so the
        # cells below it go back to [ ] instead of staying [*].
        self.page.wait_for_function(
            f"() => ({_IDLE_JS})() && !({_PROMPTS_JS})().includes('[*]:')",
            timeout=timeout_ms,
            polling=1000,
        )

    def prompts(self) -> list[str]:
        return self.page.evaluate(_PROMPTS_JS)

    def error_outputs(self) -> list[str]:
        """Tracebacks in cell outputs, and error messages shown inside a panel."""
        stderr = self.page.locator(
            ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr'], "
            ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']"
        ).all_inner_texts()
        panel_errors = self.page.locator(".wb-message.wb-error").all_inner_texts()
        return [t for t in stderr if ERROR_WORDS.search(t)] + panel_errors

    def assert_ran_cleanly(self) -> None:
        errors = self.error_outputs()
        assert not errors, f"{self.name}: error output(s):\n" + "\n---\n".join(errors)
        prompts = self.prompts()
        assert prompts, f"{self.name}: no code cells found"
        unrun = [i for i, p in enumerate(prompts) if not re.fullmatch(r"\[\d+\]:", p)]
        assert not unrun, f"{self.name}: code cells {unrun} have no execution count: {prompts}"

    def panel(self, button_text: str) -> Any:
        """The output area holding the panel that has a button labelled ``button_text``."""
        button = self.page.locator(".widget-button, .jupyter-button").filter(
            has_text=re.compile(rf"^\s*{re.escape(button_text)}\s*$")
        )
        return self.page.locator(".jp-OutputArea-output").filter(has=button)

    def code_cell(self, source: str) -> Any:
        """The first code cell (input and outputs) whose source contains ``source``."""
        return (
            self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell")
            .filter(has=self.page.locator(".jp-InputArea", has_text=source))
            .first
        )

    def screenshot(
        self, path: Path | None, close_ups: dict[Path, Any] | None = None
    ) -> Path | None:
        """The whole notebook in one image: the viewport grows to the notebook's height.

        ``close_ups`` maps more image paths to what to shoot at the same time, while all of
        the notebook is on screen: a locator (a panel, say), or a list of locators, shot as
        one image of the smallest rectangle around all of them. ``path=None`` takes only
        the close-ups.
        """
        page = self.page
        size = dict(page.viewport_size or VIEWPORT)
        hidden, client = page.eval_on_selector(
            _OUTER, "e => [e.scrollHeight - e.clientHeight, e.clientHeight]"
        )
        height = min(size["height"] + hidden + 40, MAX_SHOT_HEIGHT)
        page.set_viewport_size({"width": size["width"], "height": height})
        try:
            # JupyterLab lays itself out again on resize; wait for the notebook to grow.
            page.wait_for_function(
                "([sel, h]) => document.querySelector(sel).clientHeight >= h",
                arg=[_OUTER, client + (height - size["height"]) - 5],
            )
            page.eval_on_selector(_OUTER, "e => { e.scrollTop = 0 }")
            page.evaluate(FRAMES_JS)
            if path is not None:
                page.screenshot(path=str(path))
            for close_up, target in (close_ups or {}).items():
                if isinstance(target, (list, tuple)):
                    page.screenshot(path=str(close_up), clip=_around(target))
                else:
                    target.screenshot(path=str(close_up))
        finally:
            page.set_viewport_size(size)
        return path


def _around(locators: list[Any], margin: int = 6) -> dict[str, float]:
    """The rectangle (page pixels) around all of ``locators``, plus ``margin``."""
    boxes = [box for box in (loc.bounding_box() for loc in locators) if box]
    assert boxes, "none of the regions to shoot is on the page"
    left = max(0, min(b["x"] for b in boxes) - margin)
    top = max(0, min(b["y"] for b in boxes) - margin)
    right = max(b["x"] + b["width"] for b in boxes) + margin
    bottom = max(b["y"] + b["height"] for b in boxes) + margin
    return {"x": left, "y": top, "width": right - left, "height": bottom - top}


# --------------------------------------------------------------------------- checks


def expect(target: Any) -> Any:
    """Playwright's ``expect`` (retrying assertions), imported only when a test runs, so
    that collecting this folder works without Playwright installed."""
    from playwright.sync_api import expect as playwright_expect

    playwright_expect.set_options(timeout=UI_TIMEOUT_MS)  # its default is 5 s
    return playwright_expect(target)


# Counts what a plotly chart draws: markers, the vertices of line paths, bars, heatmaps.
PLOT_POINTS_JS = """e => ({
    markers: e.querySelectorAll('.scatterlayer .point').length,
    line_vertices: [...e.querySelectorAll('.scatterlayer path.js-line')]
        .map(p => ((p.getAttribute('d') || '').match(/[ML]/g) || []).length),
    bars: e.querySelectorAll('.barlayer .point').length,
    heatmaps: e.querySelectorAll('.hm image').length,
})"""


# The characters of the given elements that their font (with the system's fallbacks) has no
# glyph for: each is drawn on a canvas in the element's own font and compared with an
# unassigned code point, which every font draws as its missing-glyph box.
MISSING_GLYPHS_JS = r"""els => {
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 64;
    const ctx = canvas.getContext('2d', {willReadFrequently: true});
    const draw = (font, ch) => {
        ctx.clearRect(0, 0, 64, 64);
        ctx.font = font;
        ctx.fillText(ch, 8, 48);
        return ctx.getImageData(0, 0, 64, 64).data.join('');
    };
    const missing = new Set();
    for (const el of els) {
        const style = getComputedStyle(el);
        const font = `${style.fontStyle} ${style.fontWeight} 40px ${style.fontFamily}`;
        const box = draw(font, '\u0378');
        for (const ch of el.textContent) {
            if (!/\s/.test(ch) && draw(font, ch) === box) missing.add(ch);
        }
    }
    return [...missing];
}"""


def missing_glyphs(elements: Any) -> list[str]:
    """The characters in ``elements`` (a locator) that render as the missing-glyph box."""
    return elements.evaluate_all(MISSING_GLYPHS_JS)


def explanation_word_units(explanation: Any) -> list[list[str]]:
    """The word units of each row (method) of a rendered ``.wb-explanation``."""
    return [
        row.locator(".wb-word").all_inner_texts() for row in explanation.locator(".wb-row").all()
    ]


def assert_explains_text(explanation: Any, text: str) -> None:
    """Every row shows ``text`` exactly, as text, split into word units that cover it all."""
    rows = explanation.locator(".wb-row")
    assert rows.count() >= 1, "the explanation has no rows"
    compact = re.sub(r"\s+", "", text)
    for i in range(rows.count()):
        row = rows.nth(i)
        method = row.locator(".wb-method").inner_text()
        shown = row.locator(".wb-text").inner_text()
        assert shown.strip() == text.strip(), f"{method}: shows {shown!r}, not {text!r}"
        units = row.locator(".wb-word").all_inner_texts()
        assert "".join(units) == compact, f"{method}: word units {units} do not cover {text!r}"
        shaded = row.locator(".wb-word").evaluate_all(
            "els => els.filter(e => getComputedStyle(e).backgroundColor"
            " !== 'rgb(255, 255, 255)').length"
        )
        assert shaded > 0, f"{method}: no word is highlighted"


# --------------------------------------------------------------------------- colours

# An explanation's colour scale runs from red (pushes away from the class explained)
# through white to blue (pushes towards it): the two ends of ColorBrewer's RdBu,
# workbench.explain.render.RED = (178, 24, 43) and BLUE = (33, 102, 172). "Clearly red"
# and "clearly blue" below take in each end and the darker quarter of its ramp and nothing
# else: not greys, not the pale middle, and not the browns and navies a palette of a few
# colours turns red into (docs/images once had no red pixel at all).
# JupyterLab's own buttons are blue too: check a region without them (the explanation
# card, a chart) where it matters that the blue comes from the scale.
MIN_SCALE_PIXELS = 300  # one full-colour legend swatch is 16 x 12 = 192 pixels


def red_blue_pixels(image: Any) -> dict[str, int]:
    """How many pixels of ``image`` (a path or a PIL image) are clearly red, clearly blue."""
    import numpy as np
    from PIL import Image

    if not isinstance(image, Image.Image):
        image = Image.open(image)
    rgb = np.asarray(image.convert("RGB"), dtype=np.int16)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    red = (r > 150) & (g < 110) & (b < 110)
    blue = (b > 150) & (r < 110)
    return {"red": int(red.sum()), "blue": int(blue.sum())}


def assert_red_and_blue(image: Any, what: str, minimum: int = MIN_SCALE_PIXELS) -> dict[str, int]:
    """Both ends of the colour scale show, red and blue, in at least ``minimum`` pixels each."""
    counts = red_blue_pixels(image)
    short = [colour for colour, n in counts.items() if n < minimum]
    assert not short, (
        f"{what}: too few clearly {' and '.join(short)} pixels ({counts}, at least {minimum} "
        "each expected): the colour scale's ends are not visibly red and blue"
    )
    return counts
