"""Accuracy: `workbench train` + `workbench evaluate` against TF-IDF + logistic regression.

Both models train on the same training file and are scored on the same held-out file in
the same run, on the same machine; the table reports accuracy, wall-clock training time and
their ratio. The transformer goes through the real CLI (subprocesses), as a user runs it.

    python benchmarks/accuracy.py --dataset sst2 [-- --epochs 4 --max-length 64]
    python benchmarks/accuracy.py --dataset reviews

sst2: GLUE SST-2 train.tsv -> dev.tsv, read from --sst2, else $WORKBENCH_SST2_DIR, else
../shared/data/sst2 beside the checkout. reviews: the embedded data/reviews train -> test.
Results are printed as a table and written as JSON under benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import torch
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.pipeline import make_pipeline

from workbench import load_table

REPO = Path(__file__).resolve().parents[1]


def dataset_files(name: str, sst2_dir: Path) -> tuple[Path, Path, str]:
    """(training file, held-out file, text column) of a named dataset."""
    if name == "sst2":
        return sst2_dir / "train.tsv", sst2_dir / "dev.tsv", "sentence"
    return REPO / "data/reviews/train.csv", REPO / "data/reviews/test.csv", "text"


def tfidf_baseline(train_file: Path, test_file: Path, text_col: str) -> dict:
    """Word 1-2 gram TF-IDF + logistic regression, the standard linear baseline."""
    train, test = load_table(train_file, text_col), load_table(test_file, text_col)
    started = time.perf_counter()
    model = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
        LogisticRegression(C=4.0, max_iter=2000),
    )
    model.fit(train.texts, train.labels)
    seconds = time.perf_counter() - started
    return {
        "model": "TF-IDF (1-2 grams) + logistic regression",
        "accuracy": accuracy_score(test.labels, model.predict(test.texts)),
        "train_seconds": seconds,
    }


def transformer(train_file: Path, test_file: Path, text_col: str, out: Path, extra: list[str]):
    """Train and evaluate through the CLI, timing the training command from outside."""
    train_cmd = [
        "workbench",
        "train",
        "--data",
        str(train_file),
        "--text-col",
        text_col,
        "--out",
        str(out),
        "--quiet",
        *extra,
    ]
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", *train_cmd], check=True)
    seconds = time.perf_counter() - started
    metrics_path = out.with_suffix(".heldout.json")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "workbench",
            "evaluate",
            "--model",
            str(out),
            "--data",
            str(test_file),
            "--text-col",
            text_col,
            "--json",
            str(metrics_path),
        ],
        check=True,
    )
    metrics = json.loads(metrics_path.read_text())
    return {
        "model": "workbench transformer " + " ".join(extra),
        "accuracy": metrics["accuracy"],
        "accuracy_ci": metrics["accuracy_ci"],
        "train_seconds": seconds,
        "command": " ".join(train_cmd),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", choices=["sst2", "reviews"], default="sst2")
    parser.add_argument(
        "--sst2",
        type=Path,
        default=Path(
            os.environ.get("WORKBENCH_SST2_DIR", REPO.parent / "shared" / "data" / "sst2")
        ),
    )
    parser.add_argument(
        "--out", type=Path, help="JSON results (benchmarks/results/accuracy_<dataset>.json)"
    )
    parser.add_argument(
        "train_args",
        nargs=argparse.REMAINDER,
        help="extra `workbench train` options after --, e.g. -- --epochs 3",
    )
    args = parser.parse_args()
    extra = [a for a in args.train_args if a != "--"]
    out = args.out or REPO / "benchmarks" / "results" / f"accuracy_{args.dataset}.json"
    train_file, test_file, text_col = dataset_files(args.dataset, args.sst2)

    baseline = tfidf_baseline(train_file, test_file, text_col)
    ours = transformer(train_file, test_file, text_col, REPO / "runs" / args.dataset, extra)
    print(f"\n{args.dataset}: train on {train_file.name}, score on {test_file.name}")
    print(f"{'model':<60} {'accuracy':>9} {'train s':>9}")
    for row in (baseline, ours):
        print(f"{row['model']:<60} {row['accuracy']:>9.4f} {row['train_seconds']:>9.1f}")
    print(
        f"accuracy difference (transformer - baseline): "
        f"{ours['accuracy'] - baseline['accuracy']:+.4f}; training time ratio "
        f"(transformer / baseline): {ours['train_seconds'] / baseline['train_seconds']:.1f}x"
    )
    machine = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {"dataset": args.dataset, "machine": machine, "rows": [baseline, ours]}, indent=2
        )
        + "\n"
    )
    print(f"written to {out}")


if __name__ == "__main__":
    main()
