"""CLI start-up: how long ``workbench --help`` and a command's ``--help`` take to answer.

Every run is a fresh process (``python -m workbench ...``, output discarded), timed from
start to exit; the commands take turns, ``--repeats`` rounds after one warm-up round that
fills the file cache, and each reports its median. Named baselines in the same run:

- ``python -c pass``: the interpreter alone, the floor of any Python command;
- ``python -c "import torch"``: what any command that loads torch pays before it starts;
- ``everything imported``: ``from workbench import *`` plus the explainers and the server,
  about what ``workbench --help`` imported before its imports were made lazy (issue 11).

``x python`` and ``x torch`` are a row's median over those two baselines' medians; the
module count is how many modules the command imports (``python -X importtime``).

    python benchmarks/cli_startup.py
    python benchmarks/cli_startup.py --repeats 15 --wait-load 1.5
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _common import (
    REPO,
    RESULTS,
    command_line,
    doc_parser,
    load_average,
    print_table,
    start_load,
    write_record,
)

EVERYTHING = "from workbench import *; import workbench.explain, workbench.serve"
# Each row: its name and the arguments after `python`.
ROWS: dict[str, list[str]] = {
    "python -c pass": ["-c", "pass"],
    "python -c 'import torch'": ["-c", "import torch"],
    "everything imported": ["-c", EVERYTHING],
    "import workbench": ["-c", "import workbench"],
    "workbench --help": ["-m", "workbench", "--help"],
    "workbench train --help": ["-m", "workbench", "train", "--help"],
    "workbench explain --help": ["-m", "workbench", "explain", "--help"],
    "workbench serve --help": ["-m", "workbench", "serve", "--help"],
}
BASELINES = ("python -c pass", "python -c 'import torch'", "everything imported")


def seconds(arguments: list[str]) -> float:
    """Wall seconds of one ``python ARGUMENTS`` process, start to exit."""
    started = time.perf_counter()
    subprocess.run([sys.executable, *arguments], cwd=REPO, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def modules_imported(arguments: list[str]) -> int:
    """How many modules the process imports, from ``-X importtime``'s one line per module."""
    process = subprocess.run(
        [sys.executable, "-X", "importtime", *arguments],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=True,
    )
    return sum(line.startswith("import time:") for line in process.stderr.splitlines()) - 1


def measure(names: list[str], repeats: int) -> dict[str, list[float]]:
    """``repeats`` rounds in which every row runs once, after an untimed warm-up round: the
    rows share whatever load the machine has."""
    for name in names:
        seconds(ROWS[name])
    runs: dict[str, list[float]] = {name: [] for name in names}
    for round_number in range(repeats):
        for name in names:
            runs[name].append(seconds(ROWS[name]))
        clock = time.strftime("%H:%M:%S")
        print(f"[{clock}] round {round_number + 1}/{repeats}, load {load_average()}", flush=True)
    return runs


def summarise(runs: dict[str, list[float]]) -> list[dict]:
    python = statistics.median(runs["python -c pass"])
    torch = statistics.median(runs["python -c 'import torch'"])
    rows = []
    for name, times in runs.items():
        median = statistics.median(times)
        rows.append(
            {
                "command": name,
                "baseline": name in BASELINES,
                "median_seconds": median,
                "min_seconds": min(times),
                "x_python": median / python,
                "x_import_torch": median / torch,
                "modules": modules_imported(ROWS[name]),
                "seconds": times,
            }
        )
    return rows


def parse_args() -> argparse.Namespace:
    parser = doc_parser(__doc__)
    parser.add_argument("--repeats", type=int, default=9, help="timed rounds (9)")
    parser.add_argument(
        "--rows",
        nargs="+",
        choices=list(ROWS),
        default=list(ROWS),
        metavar="ROW",
        help="which rows to run (all; the first two baselines always run)",
    )
    parser.add_argument(
        "--wait-load",
        type=float,
        default=0.0,
        help="first wait (up to 10 min) for the 1-min load average to drop below this",
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "cli_startup.json")
    return parser.parse_args()


def command(args: argparse.Namespace) -> str:
    """The command that reproduces this run (``--rows`` only when not all of them)."""
    rows = "" if args.rows == list(ROWS) else " --rows " + " ".join(map(shlex.quote, args.rows))
    return command_line("cli_startup.py", args, skip=("out", "rows")) + rows


def main() -> None:
    args = parse_args()
    names = list(dict.fromkeys([*BASELINES[:2], *args.rows]))
    load_start = start_load(args)
    print(f"{len(names)} commands x {args.repeats} rounds, fresh processes; load {load_start}")
    rows = summarise(measure(names, args.repeats))
    print("\nwall seconds per start (median of the rounds); x = over a baseline's median")
    print_table(
        rows,
        [
            ("command", "command", ""),
            ("median_seconds", "median s", ".3f"),
            ("min_seconds", "min s", ".3f"),
            ("x_python", "x python", ".2f"),
            ("x_import_torch", "x torch", ".2f"),
            ("modules", "modules", "d"),
        ],
    )
    write_record(
        args.out,
        "cli_startup",
        command(args),
        load_start,
        python=sys.executable,
        repeats=args.repeats,
        rows=rows,
    )


if __name__ == "__main__":
    main()
