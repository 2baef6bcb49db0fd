"""A comparison as tables people read.

:func:`leaderboard_table` and :func:`significance_table` turn the numeric tables of a
:class:`~workbench.compare.Comparison` into display tables (a DataFrame of formatted
strings, not yet escaped), formatted in this one place: the CLI and
:meth:`~workbench.compare.Comparison.summary` print them as text, the compare panel and
the self-contained page of :meth:`~workbench.compare.Comparison.to_html` show them as HTML.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from workbench.plots import ComparisonLike

NO_PAIRS = "fewer than two models were scored: nothing to test"


def leaderboard_table(leaderboard: pd.DataFrame) -> pd.DataFrame:
    """The leaderboard to show: metrics with 95% intervals, cost columns; a failed model's
    error stands in its accuracy cell, and a ``note`` column appears only when a scored
    model has one (its save failed)."""
    lines = []
    for row in leaderboard.to_dict(orient="records"):
        if isinstance(row["error"], str) and row["error"] and pd.isna(row["accuracy"]):
            lines.append({"model": row["model"], "accuracy": f"failed: {row['error']}"})
            continue
        lines.append(
            {
                "model": row["model"],
                "accuracy": _with_interval(row, "accuracy"),
                "macro_f1": _with_interval(row, "macro_f1"),
                "ece": _number(row["ece"], "{:.3f}"),
                "train_s": _number(row["train_seconds"], "{:.1f}"),
                "latency_ms": _number(row["latency_ms_p50"], "{:.2f}"),
                "texts/s": _number(row["throughput_per_s"], "{:,.0f}"),
                "params": _number(row["parameters"], "{:,.0f}"),
                "artifact": _size(row["artifact_bytes"]),
                **({"note": row["error"]} if row["error"] else {}),
            }
        )
    return pd.DataFrame(lines).fillna("")


def significance_table(significance: pd.DataFrame) -> pd.DataFrame:
    """Every pair to show: the accuracy difference with its interval, McNemar's discordant
    counts, the raw and Holm-corrected p-values (3 significant digits) and the verdict."""
    return pd.DataFrame(
        {
            "model_a": significance["model_a"],
            "model_b": significance["model_b"],
            "acc_diff [95% CI]": [
                f"{d:+.3f} [{lo:+.3f}, {hi:+.3f}]"
                for d, lo, hi in zip(
                    significance["accuracy_diff"],
                    significance["diff_low"],
                    significance["diff_high"],
                    strict=True,
                )
            ],
            "only_a": significance["only_a_correct"].astype(str),
            "only_b": significance["only_b_correct"].astype(str),
            "p_mcnemar": [f"{p:.3g}" for p in significance["p_value"]],
            "p_holm": [f"{p:.3g}" for p in significance["p_holm"]],
            "significant": ["yes" if s else "no" for s in significance["significant"]],
        }
    )


def format_leaderboard(leaderboard: pd.DataFrame) -> str:
    """The leaderboard as a plain-text table (:func:`leaderboard_table`)."""
    table = leaderboard_table(leaderboard)
    return table.to_string(index=False) if len(table) else "(no models)"


def format_significance(significance: pd.DataFrame) -> str:
    """The significance table as plain text (:func:`significance_table`)."""
    if significance.empty:
        return f"({NO_PAIRS})"
    return significance_table(significance).to_string(index=False)


def comparison_page(comparison: ComparisonLike, significance: pd.DataFrame) -> str:
    """A self-contained HTML page: both tables, then the four figures of
    :mod:`workbench.plots` (plotly.js inlined once, with the first)."""
    from workbench import plots  # plotly loads only when a page is written

    figures = []
    if comparison.probabilities:
        figures = [
            plots.leaderboard_figure(comparison),
            plots.confusion_matrices_figure(comparison),
            plots.reliability_figure(comparison),
            plots.accuracy_latency_figure(comparison),
        ]
    parts = [
        fig.to_html(full_html=False, include_plotlyjs="inline" if i == 0 else False)
        for i, fig in enumerate(figures)
    ]
    pairs = f"<p>{NO_PAIRS}</p>" if significance.empty else _html(significance_table(significance))
    return _PAGE.format(
        n=len(comparison.test),
        labels=html.escape(", ".join(str(label) for label in comparison.labels)),
        leaderboard=_html(leaderboard_table(comparison.leaderboard)),
        significance=pairs,
        figures="\n".join(f'<div class="figure">{part}</div>' for part in parts),
    )


def _html(table: pd.DataFrame) -> str:
    return table.to_html(escape=True, index=False, border=0)


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>workbench model comparison</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin-bottom: 2em; font-size: 14px; }}
th, td {{ padding: 4px 10px; border-bottom: 1px solid #ddd; text-align: right; }}
th {{ background: #f4f4f4; }}
td:first-child, th:first-child {{ text-align: left; }}
</style>
</head>
<body>
<h1>Model comparison</h1>
<p>{n} test examples; labels: {labels}. Intervals are 95% percentile bootstrap intervals.</p>
<h2>Leaderboard</h2>
{leaderboard}
<h2>Pairwise significance (McNemar exact test, Holm-corrected; paired bootstrap of the
accuracy difference)</h2>
{significance}
<h2>Figures</h2>
{figures}
</body>
</html>
"""


def _number(value: Any, pattern: str) -> str:
    return "" if pd.isna(value) else pattern.format(value)


def _with_interval(row: dict, name: str) -> str:
    if pd.isna(row[name]):
        return ""
    return f"{row[name]:.3f} [{row[name + '_low']:.3f}, {row[name + '_high']:.3f}]"


def _size(value: Any) -> str:
    if pd.isna(value):
        return ""
    size = float(value)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return ""
