"""Progress bars: ``tqdm.auto``'s, shown where they help and hidden where they would not."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

from tqdm.auto import tqdm


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
