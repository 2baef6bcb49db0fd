"""What every panel shares: one job at a time, optionally in a background thread, with
progress, a busy guard and errors shown as readable messages inside the panel.

A panel's buttons call plain methods (``TrainPanel.train``, ``ComparePanel.run``, ...).
Those methods hand their work to :meth:`Panel._start`, which refuses a second job while one
runs, disables the panel's action buttons, and catches every exception so that a message,
never a traceback, reaches the notebook. The methods block by default (what a notebook cell
and nbval want); the buttons run the work in a thread so the kernel stays free for clicks
such as Stop.

Widget updates from the worker thread are plain trait assignments (``.value``,
``Output.outputs``): ipywidgets 8 sends them to the front end from any thread.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import ipywidgets as widgets
import plotly.io as pio

from workbench.errors import describe_error

_COLOURS = {
    "info": "#1a1a1a",
    "busy": "#6b6b6b",
    "success": "#1b5e20",
    "warning": "#8a5a00",
    "error": "#b00020",
}


def message_html(text: str, kind: str = "info") -> str:
    """``text`` escaped into a small coloured block; ``kind`` is info/busy/success/warning/error."""
    colour = _COLOURS.get(kind, _COLOURS["info"])
    weight = "font-weight:600;" if kind == "error" else ""
    return (
        f'<div class="wb-message wb-{kind}" style="color:{colour};{weight}'
        f'white-space:pre-wrap;margin:2px 0">{html.escape(str(text))}</div>'
    )


def figure_outputs(*figures: Any) -> tuple[dict, ...]:
    """Plotly figures as ``Output.outputs`` entries, rendered the way this front end wants.

    The bundle comes from the environment's default plotly renderers (JupyterLab, VS Code,
    Colab), built without ``display``, so it can be assigned to an ``Output`` from any
    thread. Outside a notebook it is empty; the ``text/plain`` entry keeps the output
    meaningful there.
    """
    outputs = []
    for figure in figures:
        try:
            bundle = dict(_mime_bundle(figure))
        except Exception:  # a renderer problem must not cost the user the panel
            bundle = {}
        title = figure.layout.title.text if figure.layout.title else None
        bundle.setdefault("text/plain", f"<plotly figure: {title or 'untitled'}>")
        outputs.append({"output_type": "display_data", "data": bundle, "metadata": {}})
    return tuple(outputs)


def _mime_bundle(figure: Any) -> dict:
    # Not figure._repr_mimebundle_(): it names the default renderers explicitly, which
    # makes plotly re-activate them on every call, and the "notebook" renderer's activation
    # displays its whole JavaScript bundle again each time (a live training curve made a
    # notebook of hundreds of MB; tests/test_notebooks_executed.py keeps them small, and
    # benchmarks/notebooks.py --full measures them). Without a name plotly activates each
    # renderer once per kernel, as fig.show() does.
    return pio.renderers._build_mime_bundle(figure.to_dict())


def show_figures(output: widgets.Output, *figures: Any) -> None:
    """Replace what ``output`` shows with ``figures`` (none: clear it)."""
    output.outputs = figure_outputs(*figures)


class Panel(widgets.VBox):
    """A ``VBox`` that runs one job at a time and reports in its own ``status`` widget.

    Attributes:
        status: an HTML widget with the latest message (progress, result or error).
        error: the last error message, or ``None`` after a job that succeeded.
        last_exception: the exception behind ``error``, for debugging.
        runs: how many jobs have started (a second click while busy starts none).
        background: whether buttons run their work in a thread (methods called directly
            block unless told otherwise).
    """

    def __init__(self, *, background: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.background = background
        self.status = widgets.HTML(value="")
        self.error: str | None = None
        self.last_exception: BaseException | None = None
        self.runs = 0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._action_buttons: list[widgets.Button] = []

    # ----------------------------------------------------------------- messages
    def _say(self, text: str, kind: str = "info") -> None:
        self.status.value = message_html(text, kind)

    def _fail(self, exc: BaseException) -> None:
        self.error = describe_error(exc)
        self.last_exception = exc
        self._say(self.error, "error")

    # ---------------------------------------------------------------------- jobs
    @property
    def busy(self) -> bool:
        """True while a job runs."""
        return self._lock.locked()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a background job to end; True when none is running any more."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def _set_buttons(self, enabled: bool) -> None:
        for button in self._action_buttons:
            button.disabled = not enabled
        self._on_busy_changed(not enabled)

    def _on_busy_changed(self, busy: bool) -> None:
        """Hook: a panel enables its Stop button here, for example."""

    def _start(
        self,
        work: Callable[[], None],
        *,
        block: bool,
        prepare: Callable[[], None] | None = None,
    ) -> bool:
        """Run ``work`` unless a job is running; False when refused.

        With ``block`` the work runs in the calling thread and this returns once it is done;
        otherwise a daemon thread runs it and :meth:`wait` joins it. Exceptions end up in
        ``status``; the return value of a blocking call says whether the work succeeded.
        ``prepare`` runs first, in the calling thread, only once the job is sure to start.
        """
        if not self._lock.acquire(blocking=False):
            self._say("busy: wait for the current run to finish", "warning")
            return False
        if prepare is not None:
            prepare()
        self.runs += 1
        self.error = None
        self.last_exception = None
        self._set_buttons(False)
        outcome = {"ok": False}

        def runner() -> None:
            try:
                work()
                outcome["ok"] = True
            except Exception as exc:  # a panel shows every failure; none escapes into the cell
                self._fail(exc)
            finally:
                self._set_buttons(True)
                self._lock.release()

        if block:
            runner()
            return outcome["ok"]
        self._thread = threading.Thread(target=runner, name=type(self).__name__, daemon=True)
        self._thread.start()
        return True

    def _run_quietly(self, action: Callable[[], None]) -> bool:
        """Run a short action in this thread; an error becomes a message. True on success."""
        try:
            action()
        except Exception as exc:
            self._fail(exc)
            return False
        self.error = None
        return True


def button(
    description: str, *, style: str = "", icon: str = "", tooltip: str = ""
) -> widgets.Button:
    return widgets.Button(
        description=description, button_style=style, icon=icon, tooltip=tooltip or description
    )


def labelled(label: str, *children: widgets.Widget) -> widgets.HBox:
    """A row: a fixed-width label, then the controls."""
    return widgets.HBox(
        [widgets.HTML(f"<b>{html.escape(label)}</b>", layout={"width": "110px"})] + list(children)
    )


def html_table(rows: Iterable[Sequence[Any]], header: Iterable[str]) -> str:
    """A small bordered table; every cell is escaped."""
    cell = "padding:3px 10px;border-bottom:1px solid #e0e0e0;text-align:left"
    head = "".join(
        f'<th style="{cell};background:#f4f4f4">{html.escape(str(h))}</th>' for h in header
    )
    body = "".join(
        "<tr>" + "".join(f'<td style="{cell}">{html.escape(str(v))}</td>' for v in row) + "</tr>"
        for row in rows
    )
    return (
        '<table class="wb-table" style="border-collapse:collapse;font-size:13px;margin:4px 0">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def int_box(
    description: str, value: int, low: int, high: int, step: int, width: str
) -> widgets.BoundedIntText:
    """A bounded integer box (a budget, a row number), labelled in full."""
    return widgets.BoundedIntText(
        value=value,
        min=low,
        max=high,
        step=step,
        description=description,
        style={"description_width": "initial"},
        layout={"width": width},
    )
