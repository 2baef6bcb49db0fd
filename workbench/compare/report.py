"""A comparison as text for terminals and as a self-contained HTML page."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

import pandas as pd


def format_leaderboard(leaderboard: pd.DataFrame) -> str:
    """A compact text table: metrics with intervals, cost columns, errors last."""
    lines = []
    for row in leaderboard.to_dict(orient="records"):
        if isinstance(row["error"], str) and row["error"] and _missing(row["accuracy"]):
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
    table = pd.DataFrame(lines).fillna("")
    return table.to_string(index=False) if len(table) else "(no models)"


def format_significance(table: pd.DataFrame) -> str:
    """The significance table as text, p-values in scientific notation when small."""
    if table.empty:
        return "(fewer than two scored models: nothing to test)"
    shown = pd.DataFrame(
        {
            "model_a": table["model_a"],
            "model_b": table["model_b"],
            "acc_diff [95% CI]": [
                f"{d:+.3f} [{lo:+.3f}, {hi:+.3f}]"
                for d, lo, hi in zip(
                    table["accuracy_diff"], table["diff_low"], table["diff_high"], strict=True
                )
            ],
            "only_a": table["only_a_correct"],
            "only_b": table["only_b_correct"],
            "p_mcnemar": [f"{p:.3g}" for p in table["p_value"]],
            "p_holm": [f"{p:.3g}" for p in table["p_holm"]],
            "significant": ["yes" if s else "no" for s in table["significant"]],
        }
    )
    return shown.to_string(index=False)


def comparison_page(
    leaderboard: pd.DataFrame,
    significance: pd.DataFrame,
    *,
    n_test: int,
    labels: Sequence,
    figures: Sequence[Any] = (),
) -> str:
    """A self-contained HTML page: both tables, then the plotly ``figures`` (plotly.js is
    inlined once, with the first)."""
    parts = [
        fig.to_html(full_html=False, include_plotlyjs="inline" if i == 0 else False)
        for i, fig in enumerate(figures)
    ]
    table_style = {
        "escape": True,
        "index": False,
        "border": 0,
        "na_rep": "",
        "float_format": "{:.4g}".format,
    }
    return _PAGE.format(
        n=n_test,
        labels=html.escape(", ".join(str(label) for label in labels)),
        leaderboard=leaderboard.to_html(
            **table_style,
            formatters={
                c: lambda v: _number(v, "{:,.0f}")
                for c in ("parameters", "artifact_bytes", "throughput_per_s")
            },
        ),
        significance=significance.to_html(**table_style),
        figures="\n".join(f'<div class="figure">{part}</div>' for part in parts),
    )


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


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _number(value: Any, pattern: str) -> str:
    return "" if _missing(value) else pattern.format(value)


def _with_interval(row: dict, name: str) -> str:
    if _missing(row[name]):
        return ""
    return f"{row[name]:.3f} [{row[name + '_low']:.3f}, {row[name + '_high']:.3f}]"


def _size(value: Any) -> str:
    if _missing(value):
        return ""
    size = float(value)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return ""
