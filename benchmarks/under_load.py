"""Training on a busy machine: alone, beside busy loops, and as one of several trainings.

A workshop laptop trains while a browser, JupyterLab and often a second kernel run. Each
run here trains the same small transformer for ``--max-steps`` steps on the embedded
reviews in a fresh process (imports done before the clock starts; concurrent runs start
together on a signal), in three situations:

- ``alone``: nothing else running;
- ``beside 2 busy loops``: two pure-Python ``while True`` processes;
- ``3 trainings at once``: three such processes, each timed.

Each situation runs under every setting of ``--settings``: ``adaptive`` (the default since
issue 11: ``TrainConfig(cpu_threads=None)``, the thread count follows the cores other
processes leave free, ``workbench/threads.py``), ``all-cores`` (the default before it, and
the named baseline: torch's own thread count throughout), ``passive``
(``OMP_WAIT_POLICY=PASSIVE``: idle OpenMP threads sleep instead of spinning), ``spin-10k``
(``GOMP_SPINCOUNT=10000``: they spin briefly, then sleep), ``1-thread``
(``cpu_threads=1``); the last three keep their thread count fixed.
The slowdown of a situation is its seconds over the same setting's ``alone`` seconds, and
``x all-cores alone`` compares with the baseline's ``alone`` (is the speed alone kept?).
The fair share on N cores with P runnable processes is max(1, P / N) for a process that
could use every core alone (2 busy loops + 1 training on 2 cores: 1.5; 3 trainings: 1.5
each if each used one core, 3 if each used both).

    python benchmarks/under_load.py
    python benchmarks/under_load.py --settings default passive --repeats 2
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import RESULTS, command_line, load_average, machine, print_table, write_json

SETTINGS: dict[str, tuple[dict[str, str], str]] = {  # environment, --worker-threads
    "adaptive": ({}, "adaptive"),
    "all-cores": ({}, "all"),
    "passive": ({"OMP_WAIT_POLICY": "PASSIVE"}, "all"),
    "spin-10k": ({"GOMP_SPINCOUNT": "10000"}, "all"),
    "1-thread": ({}, "1"),
}
BUSY_LOOP = "while True:\n    pass\n"
SITUATIONS = {"alone": (1, 0), "beside 2 busy loops": (1, 2), "3 trainings at once": (3, 0)}


def worker(go: Path, steps: int, threads: str) -> None:
    """Import, wait for ``go`` to exist, train, print the training seconds as JSON."""
    import torch

    from workbench import ModelConfig, TextClassifier, TrainConfig, load_reviews

    named = {"adaptive": None, "all": torch.get_num_threads()}
    cpu_threads = named[threads] if threads in named else int(threads)
    train, _ = load_reviews()
    clf = TextClassifier(
        ModelConfig(d_model=64, d_ff=128, num_layers=2, num_heads=4),
        TrainConfig(
            num_epochs=100,
            max_steps=steps,
            batch_size=32,
            seed=0,
            cpu_threads=cpu_threads,
        ),
    )
    print(json.dumps({"ready": True}), flush=True)
    while not go.exists():
        time.sleep(0.01)
    started = time.perf_counter()
    clf.fit(train.texts, train.labels, val_size=0, progress=False)
    print(json.dumps({"seconds": time.perf_counter() - started}), flush=True)


def timed_trainings(count: int, busy: int, setting: str, steps: int) -> list[float]:
    """Seconds of each of ``count`` trainings started together beside ``busy`` loops."""
    extra_env, threads = SETTINGS[setting]
    env = {**os.environ, **extra_env}
    with tempfile.TemporaryDirectory() as tmp:
        go = Path(tmp) / "go"
        command = [sys.executable, __file__, "--worker", str(go), "--max-steps", str(steps)]
        command += ["--worker-threads", threads]
        workers = [
            subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
            for _ in range(count)
        ]
        loops = []
        try:
            for proc in workers:  # every worker has imported and built its data
                assert json.loads(proc.stdout.readline())["ready"]
            loops = [subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) for _ in range(busy)]
            time.sleep(0.5 if busy else 0)  # the loops are running before the clock starts
            go.touch()
            seconds = [json.loads(proc.stdout.readline())["seconds"] for proc in workers]
        finally:
            for proc in loops + workers:
                proc.kill()
                proc.wait()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    parser.add_argument("--max-steps", type=int, default=300, help="training steps per run")
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument("--repeats", type=int, default=1, help="runs per situation (median)")
    parser.add_argument(
        "--situations", nargs="+", default=list(SITUATIONS), choices=list(SITUATIONS)
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "under_load.json")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--worker-threads", default="adaptive", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.situations[0] != "alone":
        parser.error("--situations must start with alone: every slowdown is over its time")
    if args.worker:
        worker(args.worker, args.max_steps, args.worker_threads)
        return

    cores = len(os.sched_getaffinity(0))
    result = {
        "benchmark": "under_load",
        "machine": machine(),
        "command": command_line("under_load.py", args, skip=("out", "worker", "worker_threads")),
        "load_at_start": load_average(),
        "cores": cores,
        "rows": [],
    }
    alone_seconds: dict[str, float] = {}
    # the baseline first, so every setting's "alone" can be compared with it
    for setting in sorted(args.settings, key=lambda name: name != "all-cores"):
        alone = math.nan  # set by the first situation, alone
        for situation in args.situations:
            count, busy = SITUATIONS[situation]
            runs = []
            for _ in range(args.repeats):
                runs += timed_trainings(count, busy, setting, args.max_steps)
            seconds = statistics.median(runs)
            if situation == "alone":
                alone = alone_seconds[setting] = seconds
            baseline_alone = alone_seconds.get("all-cores")
            row = {
                "setting": setting,
                "situation": situation,
                "seconds": seconds,
                "all_seconds": runs,
                "slowdown": seconds / alone,
                "vs_all_cores_alone": seconds / baseline_alone if baseline_alone else None,
                "load": load_average()[0],
            }
            result["rows"].append(row)
            print(
                f"{setting:9s} {situation:22s} {seconds:6.1f} s  x{row['slowdown']:.2f}", flush=True
            )
    result["load_at_end"] = load_average()
    print()
    print_table(
        result["rows"],
        [
            ("setting", "setting", ""),
            ("situation", "situation", ""),
            ("seconds", "seconds", ".1f"),
            ("slowdown", "x alone", ".2f"),
            ("vs_all_cores_alone", "x all-cores alone", ".2f"),
            ("load", "load", ".1f"),
        ],
    )
    write_json(args.out, result)


if __name__ == "__main__":
    main()
