"""Progress bars show on a terminal and hide where they would only fill a log (issue 11)."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

from workbench import progress
from workbench.progress import progress_bar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def stderr(monkeypatch):
    def use(stream):
        monkeypatch.setattr(progress.sys, "stderr", stream)
        return stream

    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    return use


def test_a_terminal_gets_a_bar(stderr):
    terminal = stderr(Terminal())
    with progress_bar(range(3), file=terminal) as bar:
        assert not bar.disable
        list(bar)
    assert "3/3" in terminal.getvalue()


def test_a_log_file_gets_none(stderr):
    log = stderr(io.StringIO())  # not a terminal: every redraw would be a new line
    with progress_bar(range(3), file=log) as bar:
        assert bar.disable
        list(bar)
    assert log.getvalue() == ""


def test_show_false_hides_it(stderr):
    terminal = stderr(Terminal())
    assert progress_bar(range(3), show=False, file=terminal).disable


def test_tqdm_disable_is_obeyed():
    # tqdm reads its TQDM_* variables once, when it is imported: a fresh interpreter.
    script = (
        "import io, sys\n"
        "class Terminal(io.StringIO):\n"
        "    def isatty(self): return True\n"
        "sys.stderr = Terminal()\n"
        "from workbench.progress import progress_bar\n"
        "print(progress_bar(range(3)).disable, progress_bar(range(3), show=True).disable)\n"
    )
    for value, hidden in (("1", "True True"), (None, "False False")):
        env = {k: v for k, v in os.environ.items() if k != "TQDM_DISABLE"}
        if value is not None:
            env["TQDM_DISABLE"] = value
        run = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        )
        assert run.stdout.strip() == hidden, (value, run.stdout, run.stderr)
