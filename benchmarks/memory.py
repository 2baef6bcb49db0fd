"""Peak memory: maximum resident set size of workbench jobs, measured from outside.

Each job runs in its own subprocess under ``/usr/bin/time -v`` ("Maximum resident set
size"), so the figure is what the operating system saw, interpreter and libraries
included. The named baseline, in the same run: the bare process that imports workbench
and loads the model (nothing else); the table reports each job's peak, its increment over
that baseline and the ratio.

  train-sst2     TextClassifier() with ModelConfig()/TrainConfig() defaults, 1 epoch on all of
                 SST-2 train (target < 1.5 GB)
  shap-long      SHAP (max_evals 500) of one ~800-word ERASER movie review with a model of
                 max_length 1024 (target < 2 GB)
  lime-long      LIME (num_samples 1000), same review and model (target < 2 GB)
  baseline-*     import workbench + load the model (SST-2 data for training), nothing else

The max_length-1024 model is trained here first (a small, quick one: ``--long-steps``
steps on ERASER train documents); its accuracy does not matter for memory.

    python benchmarks/memory.py
    python benchmarks/memory.py --jobs baseline-long,shap-long
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import RESULTS, SHARED, doc_parser, load_average, machine, print_table, write_json

TARGETS_MB = {"train-sst2": 1500, "shap-long": 2000, "lime-long": 2000}
BASELINE_OF = {
    "train-sst2": "baseline-sst2",
    "shap-long": "baseline-long",
    "lime-long": "baseline-long",
}


# ------------------------------------------------------------------ child processes
def child(job: str, args) -> None:
    """The measured work itself; runs inside ``/usr/bin/time -v``."""
    import workbench  # noqa: F401  (every job, baselines included, pays this import)
    from workbench import ModelConfig, TextClassifier, TrainConfig, load_sst2

    result: dict = {"job": job}
    started = time.perf_counter()
    if job == "baseline-sst2":
        train, dev = load_sst2(args.sst2, download=False)
        result["rows"] = len(train.texts)
    elif job == "train-sst2":
        train, dev = load_sst2(args.sst2, download=False)
        clf = TextClassifier(ModelConfig(), TrainConfig(num_epochs=1, device="cpu")).fit(
            train.texts, train.labels, validation=(dev.texts, dev.labels), progress=False
        )
        result["val_accuracy"] = clf.history_.epochs[-1]["val_accuracy"]
        result["steps"] = clf.history_.steps
    else:
        clf = TextClassifier.load(args.long_model)
        text = review_text(args)
        result["words"] = len(clf.tokenizer_.words(text))
        if job == "shap-long":
            from workbench.explain.perturbation import shap_explanation

            result["evaluations"] = shap_explanation(clf, text, max_evals=500).evaluations
        elif job == "lime-long":
            from workbench.explain.perturbation import lime_explanation

            result["evaluations"] = lime_explanation(clf, text, num_samples=1000).evaluations
    result["seconds"] = time.perf_counter() - started
    print("RESULT " + json.dumps(result), flush=True)


def review_text(args) -> str:
    """The ERASER test review whose word count is closest to ``--review-words``."""
    from workbench.data import load_eraser_movies

    examples = load_eraser_movies(args.eraser, "test")
    return min(examples, key=lambda e: abs(len(e.text.split()) - args.review_words)).text


def train_long_model(args, directory: Path) -> None:
    from workbench import ModelConfig, TextClassifier, TrainConfig
    from workbench.data import load_eraser_movies

    train = load_eraser_movies(args.eraser, "train")
    TextClassifier(
        ModelConfig(max_length=1024),
        TrainConfig(max_steps=args.long_steps, batch_size=8, device="cpu"),
    ).fit([e.text for e in train], [e.label for e in train], val_size=0, progress=False).save(
        directory
    )


# ------------------------------------------------------------------ parent
def run_job(job: str, args) -> dict:
    command = [
        "/usr/bin/time",
        "-v",
        sys.executable,
        __file__,
        "--child",
        job,
        "--sst2",
        str(args.sst2),
        "--eraser",
        str(args.eraser),
        "--long-model",
        str(args.long_model),
        "--review-words",
        str(args.review_words),
    ]
    started = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{job} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
    payload = json.loads(proc.stdout.split("RESULT ", 1)[1].splitlines()[0])
    return {
        "job": job,
        "max_rss_mb": kb / 1024,
        "wall_seconds": wall,
        **payload,
        "command": " ".join(command[2:]),
    }


def parse_args() -> argparse.Namespace:
    parser = doc_parser(__doc__)
    parser.add_argument(
        "--jobs", default="baseline-sst2,train-sst2,baseline-long,shap-long,lime-long"
    )
    parser.add_argument("--sst2", type=Path, default=SHARED / "sst2")
    parser.add_argument("--eraser", type=Path, default=SHARED / "eraser_movies")
    parser.add_argument(
        "--long-model",
        type=Path,
        help="a max_length-1024 artifact (default: train one into a temp dir)",
    )
    parser.add_argument("--long-steps", type=int, default=20)
    parser.add_argument("--review-words", type=int, default=800)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=RESULTS / "memory.json")
    return parser.parse_args()


def run_jobs(args, jobs: list[str]) -> list[dict]:
    """Each job in its own measured subprocess (the long model trained first if needed)."""
    with tempfile.TemporaryDirectory() as tmp:
        if args.long_model is None and any(j.endswith("-long") for j in jobs):
            args.long_model = Path(tmp) / "long-model"
            started = time.perf_counter()
            train_long_model(args, args.long_model)
            print(f"trained the max_length-1024 model in {time.perf_counter() - started:.0f} s")
        rows = []
        for job in jobs:
            print(f"[{time.strftime('%H:%M:%S')}] {job} (load {load_average()})", flush=True)
            rows.append(run_job(job, args))
    return rows


def compare_to_baselines(rows: list[dict]) -> dict:
    """Each row's increment over its baseline and its target, added to the row; the targets."""
    by_job = {r["job"]: r for r in rows}
    targets = {}
    for r in rows:
        base = by_job.get(BASELINE_OF.get(r["job"], ""))
        if base is not None:
            r["over_baseline_mb"] = r["max_rss_mb"] - base["max_rss_mb"]
            r["ratio_to_baseline"] = r["max_rss_mb"] / base["max_rss_mb"]
        if r["job"] in TARGETS_MB:
            r["target_mb"] = TARGETS_MB[r["job"]]
            r["met"] = r["max_rss_mb"] < TARGETS_MB[r["job"]]
            targets[r["job"]] = {
                "target": f"< {TARGETS_MB[r['job']]} MB",
                "measured": r["max_rss_mb"],
                "met": r["met"],
            }
    return targets


def print_rows(rows: list[dict], targets: dict) -> None:
    print("\npeak resident memory (/usr/bin/time -v), MB")
    print_table(
        rows,
        [
            ("job", "job", ""),
            ("max_rss_mb", "max RSS MB", ",.0f"),
            ("over_baseline_mb", "over base MB", ",.0f"),
            ("ratio_to_baseline", "x base", ".2f"),
            ("target_mb", "target <", ",d"),
            ("wall_seconds", "wall s", ".0f"),
            ("words", "words", "d"),
            ("evaluations", "evals", "d"),
        ],
    )
    for job, t in targets.items():
        print(
            f"target {job} {t['target']}: measured {t['measured']:.0f} MB -> "
            f"{'met' if t['met'] else 'MISSED'}"
        )


def main() -> None:
    args = parse_args()
    if args.child:
        child(args.child, args)
        return

    rows = run_jobs(args, args.jobs.split(","))
    targets = compare_to_baselines(rows)
    print_rows(rows, targets)
    write_json(
        args.out,
        {
            "benchmark": "memory",
            "command": "python benchmarks/memory.py --jobs " + args.jobs,
            "machine": machine(),
            "load_at_end": load_average(),
            "rows": rows,
            "targets": targets,
        },
    )


if __name__ == "__main__":
    main()
