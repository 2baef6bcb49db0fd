"""Leaderboard on SST-2 (train -> dev) produced by the real `workbench compare` CLI.

    python benchmarks/compare_sst2.py [--sst2 DIR] [--epochs N] [--threads 1]

Runs, as a user would (a subprocess):

    workbench compare --data <sst2>/train.tsv --test <sst2>/dev.tsv --text-col sentence \\
        --models tfidf-logreg,bag-of-embeddings,transformer-small,transformer-base \\
        --json benchmarks/results/compare_sst2.json --html runs/compare_sst2.html

SST-2 is read from --sst2, else $WORKBENCH_SST2_DIR, else ../shared/data/sst2 beside the
checkout; it is never copied into the project. All models train and are timed in the same
run on the same machine, so the cost columns compare them with each other (absolute times
drift on shared machines; ratios hold). The printed leaderboard and significance table
go to benchmarks/results/compare_sst2.md together with the exact command; the JSON lies
beside it; the HTML report (plotly inlined, several MB) goes to runs/, which git ignores.

--threads sets OMP_NUM_THREADS for the run: on a small shared machine, torch's spinning
intra-op threads can make tiny models many times slower, and latencies noisy.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MODELS = "tfidf-logreg,bag-of-embeddings,transformer-small,transformer-base"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_sst2 = os.environ.get("WORKBENCH_SST2_DIR") or REPO.parent / "shared/data/sst2"
    parser.add_argument("--sst2", type=Path, default=Path(default_sst2), help="SST-2 folder")
    parser.add_argument(
        "--epochs", type=int, help="max epochs of the torch models (default: their own, 8)"
    )
    parser.add_argument("--threads", type=int, default=1, help="OMP_NUM_THREADS for the run")
    parser.add_argument("--models", default=MODELS, help=f"models to compare ({MODELS})")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args()


def compare_command(args, json_out: Path, html_out: Path) -> list[str]:
    """The ``workbench compare`` command line, paths relative to the repository."""
    sst2 = Path(os.path.relpath(args.sst2.resolve(), REPO))
    return [
        "workbench",
        "compare",
        "--data",
        str(sst2 / "train.tsv"),
        "--test",
        str(sst2 / "dev.tsv"),
        "--text-col",
        "sentence",
        "--models",
        args.models,
        "--seed",
        str(args.seed),
        *(["--epochs", str(args.epochs)] if args.epochs is not None else []),
        "--json",
        str(json_out.relative_to(REPO)),
        "--html",
        str(html_out.relative_to(REPO)),
        "--quiet",
    ]


def report(args, shown: str, seconds: float, leaderboard: str) -> str:
    """compare_sst2.md: the command, the machine, the protocol and the printed tables."""
    import torch

    machine = (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, "
        f"{args.threads} torch thread(s), torch {torch.__version__}, "
        f"Python {platform.python_version()}"
    )
    budget = (
        f"at most {args.epochs} epochs"
        if args.epochs is not None
        else "at most 8 epochs, early stopping with patience 2"
    )
    return f"""# Model comparison on SST-2 (GLUE train -> dev)

Produced by `python benchmarks/compare_sst2.py` on {date.today().isoformat()}, which ran
(from the repository root, in {seconds / 60:.0f} minutes on {machine}):

```
{shown}
```

Every model trains on the same 67,349 training sentences with seed {args.seed} (the torch
models hold out a stratified 10% for choosing the best epoch, {budget}) and is
scored on the 872 dev sentences. Intervals are 95% percentile bootstrap intervals;
latency is the median of 50 single-text `predict_proba` calls, throughput the whole dev
set in one call. Times are from one shared machine: compare them with each other, not
with other machines. Full numbers: [compare_sst2.json](compare_sst2.json).

```
{leaderboard}
```
"""


def main() -> int:
    args = parse_args()
    for name in ("train.tsv", "dev.tsv"):
        if not (args.sst2 / name).is_file():
            print(f"{args.sst2 / name} not found; pass --sst2 DIR (GLUE SST-2)", file=sys.stderr)
            return 2
    results = REPO / "benchmarks/results"
    results.mkdir(parents=True, exist_ok=True)
    command = compare_command(args, results / "compare_sst2.json", REPO / "runs/compare_sst2.html")
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
    shown = f"OMP_NUM_THREADS={args.threads} {shlex.join(command)}"
    print(f"$ {shown}", flush=True)
    started = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-m", "workbench", *command[1:]],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    sys.stderr.write(run.stderr)
    print(run.stdout, flush=True)
    if run.returncode != 0:
        print(f"workbench compare exited {run.returncode}", file=sys.stderr)
        return run.returncode

    text = report(args, shown, seconds, run.stdout.strip())
    (results / "compare_sst2.md").write_text(text, encoding="utf-8")
    print(f"report written to {results / 'compare_sst2.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
