"""Progress bars: ``tqdm.auto``'s, shown where they help and hidden where they would not."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import Any

from tqdm.auto import tqdm

logger = logging.getLogger("workbench")


def progress_bar(iterable: Iterable | None = None, *, show: bool = True, **options: Any) -> tqdm:
    """A ``tqdm.auto`` bar over ``iterable`` (or counting to ``total=``), with ``options``.

    Hidden when ``show`` is false; when ``TQDM_DISABLE`` is set (tqdm's own switch, which
    an explicit ``disable=`` would override, so it is passed only to hide); and when
    standard error is neither a terminal nor a notebook (a log file, a CI job), where every
    redraw would add a line.
    """
    if not show or not (_in_notebook() or _isatty(sys.stderr)):
        options["disable"] = True
    return tqdm(iterable, **options)


def _in_notebook() -> bool:
    # tqdm.auto picked its notebook bar: a Jupyter kernel with ipywidgets.
    from tqdm.notebook import tqdm_notebook

    return issubclass(tqdm, tqdm_notebook)


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # replaced or closed
        return False


def announce(message: str, bar: Any, show: bool) -> None:
    """Log ``message`` (an estimate before a long run, say); when progress is shown, also
    write it above ``bar`` so that it does not break the bar's line."""
    logger.info(message)
    if show:
        bar.write(message, file=sys.stderr)


def plural(n: int, noun: str) -> str:
    """``"1 text"``, ``"2 texts"``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def duration(seconds: float) -> str:
    """Seconds as a person reads them: ``"42 s"``, ``"3.5 min"``, ``"1.2 h"``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def timed_pieces(n: int, first: int, size: int) -> list[tuple[int, int]]:
    """``[begin, end)`` bounds over ``n`` items: a small ``first`` piece, timed for an
    estimate of the whole run, then pieces of ``size`` (a bar that moves)."""
    bounds = [0, min(n, first)]
    while bounds[-1] < n:
        bounds.append(min(n, bounds[-1] + size))
    return list(zip(bounds[:-1], bounds[1:], strict=True))
