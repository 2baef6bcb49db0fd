"""One report on a model over a dataset: slices, discovered error slices, global word
attributions and behavioural tests, as JSON and as a self-contained HTML page.

:func:`analyze` runs the sections one after another on :class:`Examples` that carry the
model's predictions, each with the library call that owns it (:func:`evaluate_slices`,
:func:`discover_slices`, :func:`global_attributions`, and the behavioural suite of
``workbench.analysis.behaviour`` when that module is there), and returns an
:class:`AnalysisReport`. ``workbench analyze`` is this function behind a command line.

**What runs when.** A section that cannot run on these examples is left out with a note,
not an error: without labels, the slices give their sizes (and mean confidence) only and
discovery is skipped, while global attributions (over every text, towards every class)
and behavioural tests that need no label still run. A section that is asked for but
cannot run for a reason the caller can fix (a gradient method for a model without a torch
network) is refused before anything runs.

**Cost.** Predicting is one pass over the texts; slices and discovery are vectorised over
one sparse text-by-term matrix. Explaining (global attributions) costs tens to hundreds of
model calls per text, so at most ``max_texts`` texts are explained: a seeded random sample
when there are more (the report says so). :func:`score_examples` and
:func:`global_attributions` print an estimate of their time before a long run.

**The page** follows :mod:`workbench.explain.render`: inline ``style`` attributes only (no
``<style>``, no ``<script>``, nothing fetched), the same colours (blue towards a class, red
against it), every text from the data, the model or the user through :func:`html.escape`.
Figures are HTML: interval bars as inline SVG, word bars as shaded boxes.
"""

from __future__ import annotations

import importlib
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from workbench.analysis.discovery import discover_slices
from workbench.analysis.embedding_map import EmbeddingMap
from workbench.analysis.embedding_map import embedding_map as map_representations
from workbench.analysis.examples import Examples
from workbench.analysis.slices import (
    Slice,
    SliceReport,
    check_test_settings,
    evaluate_slices,
    suggested_slices,
)
from workbench.analysis.word_attributions import (
    GlobalAttributions,
    _check_settings,
    global_attributions,
)
from workbench.compare.result import json_safe
from workbench.data import as_text_list, check_count, plain, shorten
from workbench.errors import InputError, describe_error
from workbench.estimators import TextModel, check_fitted
from workbench.explain.methods import GRADIENT_METHODS, PERTURBATION_METHODS, unsupported_message
from workbench.explain.render import _CARD, BLUE, INK, MUTED, RED, _esc, page, shade
from workbench.progress import announce, duration, plural, progress_bar

__all__ = [
    "ATTRIBUTION_METHODS",
    "SECTIONS",
    "AnalysisReport",
    "analyze",
    "choose_attribution_method",
    "score_examples",
]

# The sections of a report, in the order they run and are shown; each is a key of the JSON.
SECTIONS = ("slices", "discovered_slices", "global_attributions", "behaviour_tests")
# Methods whose per-word values add up across texts (attention has no sign or class).
ATTRIBUTION_METHODS = (*PERTURBATION_METHODS, *GRADIENT_METHODS)
# Predicting this many texts or more prints an estimate first (the first 256 are timed).
PREDICT_ESTIMATE_FROM = 2_000
_PROBE_TEXTS = 256
# Words shown per class and direction on the page and in the summary.
_TOP_WORDS = 10
# Failing examples shown per behavioural test on the page.
_FAILURES_SHOWN = 3


# ------------------------------------------------------------------------- the report
@dataclass
class AnalysisReport:
    """What :func:`analyze` found. A section that did not run is None, and ``notes`` say
    why.

    Attributes:
        model: ``{"name", "type", "classes"}`` of the model analysed.
        data: where the examples came from and how many were used (``source``, ``n``,
            ``labelled``, ``explained``: texts explained for the global attributions,
            ``sampled``: whether those are a sample, ``seed``, and whatever the caller adds:
            the CLI adds the file's columns and rows).
        n: the number of examples.
        accuracy: over all examples (None without labels).
        slices, discovered_slices: :class:`SliceReport` of :func:`evaluate_slices` and
            :func:`discover_slices`.
        global_attributions: :class:`GlobalAttributions` of the explained texts.
        behaviour_tests: one dict per behavioural test (``name``, ``kind``, ``n``,
            ``pass_rate``, ``failures``, ...), as ``workbench.analysis.behaviour`` gives it.
        embedding_map: the explained texts on a 2-D map of the model's representations
            (:func:`~workbench.analysis.embedding_map.embedding_map`, PCA), when asked; a
            figure of the page, not part of the JSON.
        notes: what holds for the whole report, sections left out among them.
        seconds: each section's time (in the JSON under ``data``).
    """

    model: dict
    data: dict
    n: int
    accuracy: float | None = None
    slices: SliceReport | None = None
    discovered_slices: SliceReport | None = None
    global_attributions: GlobalAttributions | None = None
    behaviour_tests: list[dict] | None = None
    embedding_map: EmbeddingMap | None = field(default=None, repr=False)
    notes: list[str] = field(default_factory=list)
    seconds: dict = field(default_factory=dict)

    # ------------------------------------------------------------------------ JSON
    def to_dict(self) -> dict:
        """JSON-ready (``json.dumps(..., allow_nan=False)`` works): ``model``, ``data``,
        ``n``, the four sections (None when not run) and ``notes``.

        ``slices`` and ``discovered_slices`` are lists of :meth:`SliceResult.to_dict`
        (name, kind, n, accuracy and ``accuracy_ci`` {low, high, confidence}, the
        difference from the rest, ``p_value`` and ``p_value_holm``, ...);
        ``global_attributions`` maps each class to its words (word, mean, mean_abs, count,
        texts, low, high, rare); ``behaviour_tests`` is the suite's list. How each section
        was measured (its test, correction, method and units) is said in ``notes``.
        """
        sections: dict[str, Any] = dict.fromkeys(SECTIONS)
        if self.slices is not None:
            sections["slices"] = self.slices.to_dict()["slices"]
        if self.discovered_slices is not None:
            sections["discovered_slices"] = self.discovered_slices.to_dict()["discovered_slices"]
        if self.global_attributions is not None:
            sections["global_attributions"] = self.global_attributions.to_dict()[
                "global_attributions"
            ]
        if self.behaviour_tests is not None:
            sections["behaviour_tests"] = self.behaviour_tests
        return json_safe(
            {
                "model": self.model,
                "data": {**self.data, "seconds": self.seconds},
                "n": self.n,
                **sections,
                "notes": self.method_notes() + list(self.notes),
            }
        )

    def to_json(self, path: str | os.PathLike) -> Path:
        """Write :meth:`to_dict` as UTF-8 JSON to ``path``."""
        path = Path(path)
        text = json.dumps(self.to_dict(), indent=1, ensure_ascii=False, allow_nan=False)
        path.write_text(text + "\n", encoding="utf-8")
        return path

    def method_notes(self) -> list[str]:
        """One line per section that ran: how its numbers were measured."""
        lines = []
        for report in (self.slices, self.discovered_slices):
            if report is not None:
                lines.append(
                    f"{report.key}: {report.test}, {report.correction}-corrected over "
                    f"{report.family_size}; {report.confidence:.0%} bootstrap intervals"
                    + "".join(f"; {note}" for note in report.notes)
                )
        result = self.global_attributions
        if result is not None:
            lines.append(
                f"global_attributions: {result.method} over {plural(result.n_texts, 'text')}, "
                f"in {result.units} points, texts per class: {result.over}; words seen fewer "
                f"than {result.min_count} times are marked rare; {result.confidence:.0%} "
                f"{result.interval} intervals" + "".join(f"; {note}" for note in result.notes)
            )
        return lines

    # ------------------------------------------------------------------------ text
    def summary(self, max_rows: int = 10) -> str:
        """The report for a terminal: each section's first rows, then the notes."""
        accuracy = "n/a (no labels)" if self.accuracy is None else f"{self.accuracy:.3f}"
        lines = [f"{self.n} examples; {self.model.get('type')}; accuracy {accuracy}"]
        for report in (self.slices, self.discovered_slices):
            if report is not None:
                lines += ["", f"{report.key}:", report.summary(max_rows)]
                lines += [
                    f"note: slice {r.name!r} {note}"
                    for r in report
                    for note in r.notes
                    if note.startswith("matches")
                ]
        if self.global_attributions is not None:
            lines += ["", "global_attributions:", self.global_attributions.summary(5)]
        if self.behaviour_tests is not None:
            lines += ["", "behaviour_tests:"]
            for test in self.behaviour_tests:
                rate = test.get("pass_rate")
                head = f"  {test.get('name')} ({test.get('kind')}): "
                if test.get("skipped"):
                    lines.append(f"{head}skipped: {test['skipped']}")
                else:
                    shown = "n/a" if rate is None else f"{rate:.1%}"
                    lines.append(f"{head}pass rate {shown} of {test.get('n')}")
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines)

    # ------------------------------------------------------------------------ HTML
    def html(self, *, standalone: bool = True) -> str:
        """The report as HTML: a complete UTF-8 page, or with ``standalone=False`` a
        fragment for a notebook. Self-contained: inline styles, no script, no link."""
        parts = [_header(self)]
        if self.slices is not None:
            parts.append(_slices_html(self.slices, "Slices"))
        if self.discovered_slices is not None:
            parts.append(_slices_html(self.discovered_slices, "Words that go with errors"))
        if self.global_attributions is not None:
            parts.append(_attributions_html(self.global_attributions))
        if self.behaviour_tests is not None:
            parts.append(_behaviour_html(self.behaviour_tests))
        if self.embedding_map is not None:
            parts.append(_map_html(self.embedding_map))
        notes = self.method_notes() + list(self.notes)
        if notes:
            items = "".join(f"<li>{_esc(note)}</li>" for note in notes)
            parts.append(_section("Notes", f'<ul style="margin:0;padding-left:20px">{items}</ul>'))
        fragment = f'<div class="wb-analysis" style="{_CARD}">{"".join(parts)}</div>'
        if not standalone:
            return fragment
        return page(f"Analysis of {self.model.get('name') or self.model.get('type')}", fragment)

    def to_html(self, path: str | os.PathLike) -> Path:
        """Write the self-contained page (:meth:`html`) to ``path``."""
        path = Path(path)
        path.write_text(self.html(), encoding="utf-8")
        return path

    def _repr_html_(self) -> str:
        return self.html(standalone=False)


# ------------------------------------------------------------------------ building it
def score_examples(
    model: TextModel,
    texts: Sequence[str],
    labels: Sequence | None = None,
    *,
    columns: pd.DataFrame | dict | None = None,
    source: str = "examples",
    progress: bool = True,
) -> Examples:
    """:meth:`Examples.from_model`, with an estimate of the whole pass printed first on
    ``PREDICT_ESTIMATE_FROM`` texts or more (the first 256 are timed)."""
    text_list = as_text_list(texts, "texts")
    if progress and len(text_list) >= PREDICT_ESTIMATE_FROM:
        check_fitted(model, "classes_")
        started = time.perf_counter()
        model.predict_proba(text_list[:_PROBE_TEXTS])
        elapsed = time.perf_counter() - started
        bar = progress_bar(total=0, show=False)
        announce(
            f"predicting {plural(len(text_list), 'text')}: about "
            f"{duration(elapsed * len(text_list) / _PROBE_TEXTS)} (the first {_PROBE_TEXTS} "
            f"took {elapsed:.2f} s)",
            bar,
            True,
        )
        bar.close()
    return Examples.from_model(
        model, text_list, labels, columns=columns, source=source, progress=progress
    )


def analyze(
    model: TextModel,
    examples: Examples,
    *,
    slices: Sequence[Slice] | None = None,
    discover: bool = True,
    attributions: bool = True,
    method: str | None = None,
    max_texts: int = 500,
    behaviour: bool = True,
    behaviour_tests: Any = None,
    positive: Any = None,
    negative: Any = None,
    embedding_map: bool = False,
    min_support: int = 20,
    top: int = 20,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    progress: bool = True,
    name: str | None = None,
    **settings: Any,
) -> AnalysisReport:
    """Slices, discovered error slices, global attributions and behavioural tests of
    ``model`` on ``examples``, in one :class:`AnalysisReport`.

    Args:
        model: a fitted text model (``predict_proba``, ``classes_``).
        examples: the texts, optionally labels and other columns; without the model's
            output they are scored here (:func:`score_examples`).
        slices: the slices to measure; default :func:`suggested_slices` (length thirds,
            each value of every column of categories, the least confident quarter).
        discover: run :func:`discover_slices` (needs labels; ``min_support``, ``top``).
        attributions: run :func:`global_attributions` over at most ``max_texts`` texts.
        method: its method; default integrated gradients for a model with a torch
            network (batched, the fastest), SHAP for any other (a scikit-learn pipeline,
            the TF-IDF baseline). A gradient method is refused for a model without one.
        max_texts: the most texts explained (global attributions) and perturbed
            (behavioural tests); a random sample, seeded by ``seed``, when there are more.
        behaviour: run the behavioural tests (``behaviour_tests``, default the sentiment
            suite of ``workbench.analysis.behaviour``) when that module is available;
            ``positive`` and ``negative`` name the model's two sentiment classes when its
            class names do not say (e.g. 1 and 0).
        embedding_map: also place the explained texts on a PCA map of the model's
            representations (a figure of the page).
        n_bootstrap, confidence, seed: of every interval, and of the sample.
        progress: progress bars and estimates of long runs.
        name: what the report calls the model (e.g. its directory).
        settings: for the attribution method (``max_evals=``, ``num_samples=``,
            ``n_steps=``); a setting it does not take is refused before anything runs.

    Raises:
        InputError: on examples that do not match the model's classes, an unknown or
            unsupported method, or bad settings, before any section runs.
    """
    check_fitted(model, "classes_")
    if not isinstance(examples, Examples):
        raise InputError(
            f"examples must be workbench.analysis.Examples, got {type(examples).__name__}; "
            "build them with Examples(texts, labels) or Examples.from_frame(table)"
        )
    max_texts = check_count("max_texts (CLI: --max-texts)", max_texts, 1)
    check_count("min_support (CLI: --min-support)", min_support, 1)
    check_count("top (CLI: --top)", top, 1)
    check_test_settings("two-sided", n_bootstrap, confidence)
    classes = [plain(c) for c in model.classes_]
    if attributions:
        method = choose_attribution_method(model, method)
        _check_settings(method, method == "integrated-gradients", settings)
    examples = _with_predictions(model, examples, classes, progress)
    clock = [time.perf_counter()]
    report = AnalysisReport(
        model={"name": name, "type": type(model).__name__, "classes": classes},
        data={"source": examples.source, "n": len(examples), "labelled": examples.has_labels},
        n=len(examples),
        accuracy=(float(examples.correct("accuracy").mean()) if examples.has_labels else None),
    )
    if not examples.has_labels:
        report.notes.append(
            "no labels: the slices give their sizes only, and slice discovery is skipped; "
            "global attributions and behavioural tests that need no label still run"
        )
    sample = _sample(len(examples), max_texts, seed)
    report.data |= {
        "explained": int(sample.size),
        "sampled": bool(sample.size < len(examples)),
        "seed": seed,
    }
    if sample.size < len(examples):
        report.notes.append(
            f"global attributions, behavioural tests and the map use a random sample of "
            f"{sample.size} of the {len(examples)} texts (max_texts={max_texts}, seed={seed})"
        )

    chosen = suggested_slices(examples) if slices is None else list(slices)
    if chosen:
        report.slices = evaluate_slices(
            examples,
            chosen,
            n_bootstrap=n_bootstrap,
            confidence=confidence,
            seed=seed,
            progress=progress,
        )
    else:
        why = " (all texts alike in length, no columns of categories)" if slices is None else ""
        report.notes.append(f"slices: none to measure{why}")
    report.seconds["slices"] = _lap(clock)

    if discover and examples.has_labels:
        report.discovered_slices = discover_slices(
            examples,
            min_support=min_support,
            top=top,
            n_bootstrap=n_bootstrap,
            confidence=confidence,
            seed=seed,
            progress=progress,
        )
    elif discover:
        report.notes.append("discovered_slices: skipped, slice discovery needs labels")
    report.seconds["discovered_slices"] = _lap(clock)

    texts = [examples.texts[i] for i in sample]
    labels = None if examples.labels is None else [examples.labels[i] for i in sample]
    if attributions:
        assert method is not None  # chosen above
        try:
            report.global_attributions = global_attributions(
                model,
                texts,
                method=method,
                over="all",
                confidence=confidence,
                seed=seed,
                progress=progress,
                **settings,
            )
        except InputError as err:  # e.g. none of the texts could be explained
            report.notes.append(f"global_attributions: could not be computed: {err}")
    report.seconds["global_attributions"] = _lap(clock)

    if behaviour:
        report.behaviour_tests = _behaviour(
            model,
            behaviour_tests,
            texts,
            labels,
            report.notes,
            n_bootstrap=n_bootstrap,
            confidence=confidence,
            seed=seed,
            progress=progress,
            positive=positive,
            negative=negative,
        )
    report.seconds["behaviour_tests"] = _lap(clock)

    if embedding_map:
        mapped = Examples(
            texts,
            labels,
            proba=None if examples.proba is None else examples.proba[sample],
            predictions=None if examples.proba is not None else examples.predictions,
            classes=examples.classes,
            source=examples.source,
        )
        try:
            report.embedding_map = map_representations(
                model, mapped, method="pca", seed=seed, progress=progress
            )
        except InputError as err:  # e.g. a model without a representation to read
            report.notes.append(f"embedding_map: could not be computed: {err}")
        report.seconds["embedding_map"] = _lap(clock)
    return report


def choose_attribution_method(model: TextModel, method: str | None) -> str:
    """The global-attribution method ``method`` once ``model`` supports it (an error
    naming the methods it does support otherwise); for None or ``"auto"`` the fastest it
    supports: batched integrated gradients with a torch network, else SHAP."""
    if method is None or method == "auto":
        refused = unsupported_message(model, ["integrated-gradients"])
        return "shap" if refused is not None else "integrated-gradients"
    if method not in ATTRIBUTION_METHODS:
        raise InputError(
            f"global attributions take one of {', '.join(ATTRIBUTION_METHODS)} (or auto), "
            f"got {method!r}"
            + ("; attention weights are not attributions" if method == "attention" else "")
        )
    refused = unsupported_message(model, [method])
    if refused is not None:
        raise InputError(f"global attributions: {refused}")
    return method


def _with_predictions(
    model: TextModel, examples: Examples, classes: list, progress: bool
) -> Examples:
    """The examples with the model's probabilities (scored here if they have none), their
    classes checked against the model's."""
    if not examples.has_predictions:
        return score_examples(
            model,
            examples.texts,
            examples.labels,
            columns=examples.columns,
            source=examples.source,
            progress=progress,
        )
    if list(examples.classes) != classes:
        raise InputError(
            f"the examples' classes {examples.classes} are not the model's {classes}; build "
            "them with Examples.from_model(model, ...) (or pass classes=model.classes_)"
        )
    return examples


def _sample(n: int, max_texts: int, seed: int) -> np.ndarray:
    """Row numbers of at most ``max_texts`` texts, in the data's order."""
    if n <= max_texts:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=max_texts, replace=False))


def _behaviour(
    model: TextModel,
    tests: Any,
    texts: list[str],
    labels: list | None,
    notes: list[str],
    **settings: Any,
) -> list[dict] | None:
    """The behavioural tests' results (``SuiteResult.to_dict()``: one record per test), or
    None with a note when they cannot run (e.g. a model whose classes are not sentiments)."""
    try:
        # Looked up when it runs: the suite is an optional part of the package.
        behaviour = importlib.import_module("workbench.analysis.behaviour")
    except ImportError:
        notes.append(
            "behaviour_tests: not available in this version of the workbench "
            "(workbench.analysis.behaviour is missing)"
        )
        return None
    try:
        suite = behaviour.sentiment_suite() if tests is None else tests
        result = behaviour.run_suite(model, suite, texts=texts, labels=labels, **settings)
    except InputError as err:
        notes.append(f"behaviour_tests: could not be run: {describe_error(err)}")
        return None
    return list(result.to_dict())


def _lap(clock: list[float]) -> float:
    """Seconds since the clock was last read, and the clock reset to now."""
    now = time.perf_counter()
    seconds, clock[0] = now - clock[0], now
    return round(seconds, 3)


# ---------------------------------------------------------------------------- HTML
_CELL = "padding:3px 8px;border-bottom:1px solid #e6e6e6;vertical-align:top"
_HEAD = f"{_CELL};text-align:left;background-color:#f4f4f4;color:{INK}"


def _section(title: str, body: str) -> str:
    return (
        f'<div class="wb-section" style="margin:14px 0 6px 0">'
        f'<h2 style="margin:0 0 6px 0;font-size:17px">{_esc(title)}</h2>{body}</div>'
    )


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A table of cells that are already HTML (escaped where they hold text)."""
    head = "".join(f'<th style="{_HEAD}">{_esc(h)}</th>' for h in header)
    body = "".join(
        "<tr>" + "".join(f'<td style="{_CELL}">{cell}</td>' for cell in row) + "</tr>"
        for row in rows
    )
    return (
        f'<table style="border-collapse:collapse;font-size:13px;margin:4px 0">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def _muted(text: str) -> str:
    return f'<small style="color:{MUTED}">{_esc(text)}</small>'


def _header(report: AnalysisReport) -> str:
    model = report.model
    accuracy = "n/a (no labels)" if report.accuracy is None else f"{report.accuracy:.3f}"
    facts = [
        f"model: <b>{_esc(model.get('name') or model.get('type'))}</b> "
        f"({_esc(model.get('type'))}; classes {_esc(', '.join(map(str, model['classes'])))})",
        f"data: {_esc(report.data.get('source'))}, {report.n} examples; accuracy {accuracy}",
    ]
    lines = "".join(f"<div>{fact}</div>" for fact in facts)
    return f'<h1 style="margin:0 0 6px 0;font-size:20px">Model analysis</h1>{lines}'


def _interval_svg(value: float | None, low: float | None, high: float | None) -> str:
    """Accuracy on a 0–1 axis: the interval as a bar, the value as a tick (inline SVG)."""
    if value is None:
        return ""
    width, height = 120, 12

    def x(v: float) -> float:
        return round(min(max(v, 0.0), 1.0) * width, 1)

    span = ""
    label = f"{value:.3f} on a scale from 0 to 1"
    if low is not None and high is not None:
        span = (
            f'<rect x="{x(low)}" y="3" width="{max(x(high) - x(low), 1)}" height="6" '
            f'fill="#9ecae1"></rect>'
        )
        label += f", interval {low:.3f} to {high:.3f}"
    return (
        f'<svg width="{width}" height="{height}" role="img" style="vertical-align:middle">'
        f"<title>{label}</title>"
        f'<rect x="0" y="5" width="{width}" height="2" fill="#e6e6e6"></rect>{span}'
        f'<rect x="{max(x(value) - 1, 0)}" y="0" width="2" height="{height}" '
        f'fill="{INK}"></rect></svg>'
    )


def _fmt(value: float | None, pattern: str = "{:.3f}") -> str:
    return "n/a" if value is None else pattern.format(value)


def _p(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.2g}" if value >= 1e-4 else f"{value:.1e}"


def _slices_html(report: SliceReport, title: str) -> str:
    confidence = f"{report.confidence:.0%}"
    rows = []
    for r in report:
        ci = r.accuracy_ci
        interval = "" if ci is None else f" [{ci.low:.3f}, {ci.high:.3f}]"
        difference = _fmt(r.difference, "{:+.3f}")
        if r.difference is not None and r.p_value_holm is not None and r.p_value_holm < 0.05:
            colour = shade(-0.8 if r.difference < 0 else 0.8)
            difference = (
                f'<span style="background-color:{colour[0]};color:{colour[1]};'
                f'border-radius:3px;padding:0 3px">{difference}</span>'
            )
        rows.append(
            [
                _esc(r.name),
                str(r.n),
                f"{_fmt(r.accuracy)}{_esc(interval)}",
                _interval_svg(r.accuracy, ci.low if ci else None, ci.high if ci else None),
                difference,
                _p(r.p_value),
                _p(r.p_value_holm),
                _muted("; ".join(r.notes)),
            ]
        )
    if not rows:
        table = f"<p>{_muted('none: ' + '; '.join(report.notes[-1:]))}</p>"
    else:
        table = _table(
            [
                "slice",
                "n",
                f"accuracy [{confidence} interval]",
                "0 — accuracy — 1",
                "vs rest",
                "p",
                f"p ({report.correction})",
                "notes",
            ],
            rows,
        )
    caption = _muted(
        f"{report.test}; {report.correction} over {report.family_size}. A coloured "
        "difference is significant after the correction (red: worse than the rest)."
    )
    return _section(title, f"<div>{caption}</div>{table}")


def _word_bar(value: float, scale: float) -> str:
    """A box as long as ``|value|`` (full width = ``scale``): blue if positive, red if not."""
    width = 0 if scale <= 0 else round(60 * min(abs(value) / scale, 1.0))
    colour = "#{:02x}{:02x}{:02x}".format(*(BLUE if value > 0 else RED))
    return (
        f'<span style="display:inline-block;width:{width}px;height:10px;'
        f'background-color:{colour};vertical-align:middle"></span>'
    )


def _attributions_html(result: GlobalAttributions) -> str:
    columns = []
    for label in result.classes:
        rows = result.for_class(label, include_rare=False)
        scale = float(rows["mean"].abs().max()) if len(rows) else 0.0
        parts = []
        directions: tuple[tuple[Literal["mean", "-mean"], str], ...] = (
            ("mean", "towards"),
            ("-mean", "against"),
        )
        for by, what in directions:
            top = result.top(label, _TOP_WORDS, by=by) if len(rows) else rows
            top = top[top["mean"] > 0] if by == "mean" else top[top["mean"] < 0]
            lines = [
                [
                    _esc(row["word"]),
                    _word_bar(float(row["mean"]), scale),
                    f'<span title="{_esc(_interval_text(row))}">{row["mean"]:+.3g}</span>',
                    f"{float(row['mean_abs']):.3g}",
                    str(int(row["count"])),
                ]
                for row in top.to_dict("records")
            ]
            table = (
                _table(["word", "", "mean", "mean |value|", "count"], lines)
                if lines
                else f"<div>{_muted('(none)')}</div>"
            )
            parts.append(f"<div><b>{what} “{_esc(label)}”</b></div>{table}")
        columns.append(
            f'<div class="wb-class" style="display:inline-block;vertical-align:top;'
            f'margin:0 24px 8px 0">{"".join(parts)}</div>'
        )
    caption = _muted(
        f"{result.method} over {plural(result.n_texts, 'text')} ({result.units} points; "
        f"texts per class: {result.over}); the {_TOP_WORDS} words with the largest mean "
        f"towards and against each class, words seen fewer than {result.min_count} times "
        "left out. Hover over a mean for its interval."
    )
    return _section("Global word attributions", f"<div>{caption}</div>{''.join(columns)}")


def _interval_text(row: dict) -> str:
    low, high = row.get("low"), row.get("high")
    if low is None or high is None or pd.isna(low) or pd.isna(high):
        return f"{int(row['count'])} occurrences; no interval"
    return f"interval [{low:+.3g}, {high:+.3g}]; {int(row['count'])} occurrences"


def _behaviour_html(tests: list[dict]) -> str:
    rows = []
    for test in tests:
        rate, interval = test.get("pass_rate"), test.get("interval") or {}
        if test.get("skipped"):
            shown = _muted(f"skipped: {test['skipped']}")
        elif rate is None:
            shown = _muted("no case counted")
        else:
            low, high = interval.get("low"), interval.get("high")
            span = "" if low is None or high is None else f" [{low:.0%}, {high:.0%}]"
            shown = f"{rate:.1%}{_esc(span)} {_interval_svg(float(rate), low, high)}"
        failures = test.get("failures") or []
        examples = "".join(
            f'<div style="white-space:pre-wrap;overflow-wrap:anywhere">{_esc(_failure(f))}</div>'
            for f in failures[:_FAILURES_SHOWN]
        )
        more = len(failures) - _FAILURES_SHOWN
        if more > 0:
            examples += f"<div>{_muted(f'... and {more} more in the JSON')}</div>"
        described = _esc(test.get("description", ""))
        rows.append(
            [
                f'<span title="{described}">{_esc(test.get("name"))}</span>',
                _esc(test.get("kind")),
                _esc(test.get("capability", "")),
                _esc(test.get("n")),
                shown,
                examples,
            ]
        )
    table = _table(["test", "kind", "capability", "n", "pass rate", "failing examples"], rows)
    caption = _muted(
        "MFT: a plain case with a known answer; INV: an edit that should not change the "
        "prediction; DIR: an edit that should move it one way. Hover over a test's name for "
        "what it checks."
    )
    return _section(
        "Behavioural tests",
        f"<div>{caption}</div>{table}" if rows else f"<p>{_muted('(no tests)')}</p>",
    )


# The map's colours for predicted classes when there are no labels, and their names.
_PALETTE = (
    (BLUE, "blue"),
    (RED, "red"),
    ((77, 175, 74), "green"),
    ((152, 78, 163), "purple"),
    ((255, 127, 0), "orange"),
    ((166, 86, 40), "brown"),
)


def _map_html(emap: EmbeddingMap) -> str:
    """The map as an inline SVG scatter: blue right, red wrong (with labels), else one
    colour per predicted class; each point's text and labels in its tooltip."""
    frame = emap.to_frame()
    width, height, margin = 480, 340, 8
    coordinates = frame[["x", "y"]].to_numpy(dtype=float)
    low, high = coordinates.min(axis=0), coordinates.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    scaled = (coordinates - low) / span
    xs = margin + scaled[:, 0] * (width - 2 * margin)
    ys = height - margin - scaled[:, 1] * (height - 2 * margin)
    classes = list(emap.examples.classes)
    if "correct" in frame.columns:
        colours = [BLUE if right else RED for right in frame["correct"]]
        legend = "blue: predicted right · red: predicted wrong"
    else:
        colours = [_PALETTE[classes.index(p) % len(_PALETTE)][0] for p in frame["prediction"]]
        legend = " · ".join(
            f"{_PALETTE[i % len(_PALETTE)][1]}: predicted {c}" for i, c in enumerate(classes)
        )
    points = []
    for i, row in enumerate(frame.to_dict("records")):
        tip = f"{shorten(row['text'], 200)} — predicted {row['prediction']}"
        if row.get("label") is not None:
            tip += f", label {row['label']}"
        points.append(
            f'<circle cx="{xs[i]:.1f}" cy="{ys[i]:.1f}" r="3" fill-opacity="0.7" '
            f'fill="#{colours[i][0]:02x}{colours[i][1]:02x}{colours[i][2]:02x}">'
            f"<title>{_esc(tip)}</title></circle>"
        )
    first, second = emap.axis_titles
    svg = (
        f'<svg width="{width}" height="{height}" role="img" '
        f'style="border:1px solid #e6e6e6;background-color:#ffffff">'
        f"<title>{_esc(f'{len(frame)} texts on a map of the model representations')}</title>"
        f"{''.join(points)}</svg>"
    )
    caption = _muted(
        f"{len(frame)} texts placed by {emap.method.upper()} of {emap.space}; across: "
        f"{first}, up: {second}. {legend}. Hover over a point for its text."
    )
    return _section("Embedding map", f"<div>{caption}</div>{svg}")


def _failure(failure: Any) -> str:
    """One failing case as a line: the edit (or the text), what the model said and what
    was expected."""
    if not isinstance(failure, dict):
        return str(failure)
    text = failure.get("diff") or failure.get("text") or ""
    said = []
    if failure.get("original_prediction") is not None:
        said.append(f"was {failure['original_prediction']}")
    if failure.get("prediction") is not None:
        said.append(f"predicted {failure['prediction']}")
    if failure.get("expected") is not None:
        said.append(f"expected {failure['expected']}")
    return f"{text} ({', '.join(said)})" if said else str(text)
