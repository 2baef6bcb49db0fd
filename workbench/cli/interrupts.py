"""Ctrl-C and SIGTERM: SIGTERM is handled like Ctrl-C, and the exit code says which came
(130 after Ctrl-C, 143 after SIGTERM)."""

from __future__ import annotations

import signal
import sys
from typing import Any

# The signal that interrupted this run (SIGTERM; Ctrl-C needs no record), for the exit code.
_received: list[int] = []


def _on_sigterm(signum: int, frame) -> None:
    # Raised where the process is, as Ctrl-C's KeyboardInterrupt is: the fit loop stops
    # cleanly, and every `finally` removes its temporary files.
    _received.append(signum)
    raise KeyboardInterrupt


def _interrupted_exit_code() -> int:
    return 128 + (_received[-1] if _received else signal.SIGINT)


def _print_interrupted(detail: str = "") -> None:
    print(f"workbench: interrupted {detail}".rstrip(), file=sys.stderr)


def untrained_exit(history: Any, out: Any) -> int | None:
    """The exit code when training was interrupted before its first validated epoch (said
    on standard error; nothing is written, so an untrained model never replaces a good
    artifact at ``out``); None when there is a model to save."""
    if not (history.interrupted and not history.epochs):
        return None
    _print_interrupted(
        f"before the first epoch was validated; nothing written ({out} is as it was)"
    )
    return _interrupted_exit_code()
