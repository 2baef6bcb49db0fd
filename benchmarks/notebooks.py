"""Notebook run time: smoke mode under nbval (as CI runs them) and full mode per notebook.

Smoke: ``WORKBENCH_SMOKE=1 pytest --nbval-lax notebooks/*.ipynb`` timed as one command
(what ``make test`` spends on notebooks), with per-notebook seconds from its JUnit XML.
Full: ``jupyter nbconvert --to notebook --execute`` of each notebook without
``WORKBENCH_SMOKE`` (the outputs go to a temporary folder; the committed notebooks are never
written), each under ``--full-timeout`` seconds; what did not finish is reported as such.
The size of each executed notebook, widget state included (what a saved notebook weighs;
``tests/test_notebooks_executed.py`` holds smoke mode under 10 MB), is reported beside it.
Named baseline, in the same run, through the same two commands: an empty notebook (one
``pass`` cell), i.e. kernel start-up and the runner's own cost.

    python benchmarks/notebooks.py                 # smoke mode only
    python benchmarks/notebooks.py --full --full-timeout 900
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

from _common import REPO, RESULTS, doc_parser, load_average, machine, print_table, write_json

BIN = Path(sys.executable).parent


def empty_notebook(path: Path) -> Path:
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": "empty",
                "metadata": {},
                "outputs": [],
                "source": ["pass"],
            }
        ],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(notebook))
    return path


def nbval(paths: list[Path], junit: Path, timeout: float) -> tuple[float, int, str]:
    env = {**os.environ, "WORKBENCH_SMOKE": "1"}
    command = [
        str(BIN / "python"),
        "-m",
        "pytest",
        "--nbval-lax",
        "-q",
        "-p",
        "no:cacheprovider",
        f"--junitxml={junit}",
        *map(str, paths),
    ]
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            command, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
        )
        code, tail = proc.returncode, (proc.stdout + proc.stderr)[-1500:]
    except subprocess.TimeoutExpired:
        code, tail = -1, f"timed out after {timeout} s"
    return time.perf_counter() - started, code, tail


def junit_seconds(junit: Path) -> dict[str, float]:
    """Seconds per notebook file, summed over its nbval cell items."""
    per_file: dict[str, float] = defaultdict(float)
    if not junit.is_file():
        return {}
    for case in ET.parse(junit).iter("testcase"):
        name = case.get("file") or case.get("classname", "")  # "notebooks.00_x.ipynb"
        stem = name.removesuffix(".ipynb").replace("/", ".").rsplit(".", 1)[-1]
        per_file[stem + ".ipynb"] += float(case.get("time", 0))
    return dict(per_file)


def nbconvert(path: Path, out_dir: Path, timeout: float) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "WORKBENCH_SMOKE"}
    command = [
        str(BIN / "jupyter"),
        "nbconvert",
        "--to",
        "notebook",
        "--execute",
        f"--ExecutePreprocessor.timeout={int(timeout)}",
        "--output-dir",
        str(out_dir),
        str(path),
    ]
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            command, cwd=path.parent, env=env, capture_output=True, text=True, timeout=timeout + 60
        )
        status = "ok" if proc.returncode == 0 else "error"
        tail = proc.stderr[-800:] if proc.returncode else ""
    except subprocess.TimeoutExpired:
        status, tail = "timeout", f"did not finish in {timeout} s"
    executed = out_dir / path.name
    megabytes = executed.stat().st_size / 1e6 if executed.is_file() else None
    return {
        "seconds": time.perf_counter() - started,
        "status": status,
        "megabytes": megabytes,
        "tail": tail,
    }


def parse_args() -> argparse.Namespace:
    parser = doc_parser(__doc__)
    parser.add_argument("--notebooks", default="notebooks/*.ipynb", help="glob under the repo")
    parser.add_argument("--smoke-timeout", type=float, default=1800)
    parser.add_argument("--full", action="store_true", help="also run every notebook in full mode")
    parser.add_argument("--full-timeout", type=float, default=900, help="seconds per notebook")
    parser.add_argument("--out", type=Path, default=RESULTS / "notebooks.json")
    return parser.parse_args()


def smoke_mode(args, notebooks: list[Path], empty: Path, tmp: Path) -> dict:
    """The empty notebook, then every notebook, under nbval in smoke mode; printed."""
    base_s, base_code, _ = nbval([empty], tmp / "empty.xml", 300)
    print(
        f"[{time.strftime('%H:%M:%S')}] empty notebook under nbval: {base_s:.1f} s "
        f"(load {load_average()})",
        flush=True,
    )
    smoke_s, smoke_code, tail = nbval(notebooks, tmp / "smoke.xml", args.smoke_timeout)
    per_nb = junit_seconds(tmp / "smoke.xml")
    print(
        f"[{time.strftime('%H:%M:%S')}] smoke nbval of {len(notebooks)} notebooks: "
        f"{smoke_s:.1f} s, exit {smoke_code} (load {load_average()})",
        flush=True,
    )
    if smoke_code != 0:
        print(tail)
    smoke = {
        "empty_notebook_seconds": base_s,
        "total_seconds": smoke_s,
        "exit_code": smoke_code,
        "ratio_to_empty": smoke_s / base_s,
        "per_notebook_cell_seconds": per_nb,
        "notebooks": [p.name for p in notebooks],
        "command": "WORKBENCH_SMOKE=1 python -m pytest --nbval-lax " + args.notebooks,
    }
    rows = [{"notebook": n, "seconds": s} for n, s in sorted(per_nb.items())]
    rows += [
        {"notebook": "TOTAL (wall, one pytest command)", "seconds": smoke_s},
        {"notebook": "empty notebook (baseline, wall)", "seconds": base_s},
    ]
    print("\nsmoke mode (WORKBENCH_SMOKE=1, nbval): seconds in cells per notebook")
    print_table(rows, [("notebook", "notebook", ""), ("seconds", "seconds", ".1f")])
    print(f"total / empty notebook: {smoke_s / base_s:.1f}x")
    return smoke


def full_mode(args, notebooks: list[Path], empty: Path, tmp: Path) -> dict:
    """The empty notebook, then each notebook, through nbconvert in full mode; printed."""
    out_dir = tmp / "executed"
    out_dir.mkdir()
    base = nbconvert(empty, out_dir, 300)
    full_rows = []
    for path in notebooks:
        print(
            f"[{time.strftime('%H:%M:%S')}] full mode {path.name} (load {load_average()})",
            flush=True,
        )
        run = nbconvert(path, out_dir, args.full_timeout)
        full_rows.append(
            {
                "notebook": path.name,
                **run,
                "ratio_to_empty": run["seconds"] / base["seconds"],
            }
        )
        size = f", {run['megabytes']:.1f} MB" if run["megabytes"] is not None else ""
        print(f"    {run['status']} in {run['seconds']:.0f} s{size}", flush=True)
    full_rows.append({"notebook": "empty notebook (baseline)", **base, "ratio_to_empty": 1.0})
    print("\nfull mode (nbconvert --execute), wall seconds per notebook")
    print_table(
        full_rows,
        [
            ("notebook", "notebook", ""),
            ("status", "status", ""),
            ("seconds", "seconds", ".0f"),
            ("ratio_to_empty", "x empty", ".1f"),
            ("megabytes", "MB saved", ".1f"),
        ],
    )
    return {"timeout_per_notebook": args.full_timeout, "rows": full_rows}


def main() -> None:
    args = parse_args()
    notebooks = sorted(REPO.glob(args.notebooks))
    result: dict = {
        "benchmark": "notebooks",
        "machine": machine(),
        "load_at_start": load_average(),
        "command": "python benchmarks/notebooks.py"
        + (f" --full --full-timeout {int(args.full_timeout)}" if args.full else ""),
    }
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        empty = empty_notebook(tmp / "empty.ipynb")
        result["smoke"] = smoke_mode(args, notebooks, empty, tmp)
        if args.full:
            result["full"] = full_mode(args, notebooks, empty, tmp)
    result["load_at_end"] = load_average()
    write_json(args.out, result)


if __name__ == "__main__":
    main()
