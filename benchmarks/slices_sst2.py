"""Slices and discovered error slices of the TF-IDF baseline on SST-2 dev.

    python benchmarks/slices_sst2.py [--sst2 DIR] [--min-support 20] [--top 15]

Trains TF-IDF + logistic regression (workbench.baselines, its defaults) on SST-2 train
(67,349 phrases and sentences), scores the 872 dev sentences, then prints:

- hand-made slices (negation and contrast words, length bins, low confidence) with
  accuracy, 95% bootstrap interval, the difference from the rest and Fisher's exact test,
  Holm-corrected over the slices;
- the discovered slices: words and word pairs (in at least --min-support dev sentences)
  whose presence goes with the largest accuracy drop, with one-sided Fisher tests
  Holm-corrected over every candidate tested.

SST-2 is read from --sst2, else $WORKBENCH_SST2_DIR, else ../shared/data/sst2 beside the
checkout; it is never copied into the project. Without it the script says so and exits 0.
The JSON goes to benchmarks/results/slices_sst2.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_sst2 = os.environ.get("WORKBENCH_SST2_DIR") or REPO.parent / "shared/data/sst2"
    parser.add_argument("--sst2", type=Path, default=Path(default_sst2), help="SST-2 folder")
    parser.add_argument("--min-support", type=int, default=20, help="discovery's minimum n")
    parser.add_argument("--top", type=int, default=15, help="discovered slices to show")
    parser.add_argument("--n-bootstrap", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=RESULTS / "slices_sst2.json")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    if not all((args.sst2 / name).is_file() for name in ("train.tsv", "dev.tsv")):
        print(
            f"skipped: SST-2 not found in {args.sst2} (it needs train.tsv and dev.tsv); "
            "pass --sst2 DIR or set WORKBENCH_SST2_DIR"
        )
        return 0

    from workbench.analysis import (
        Examples,
        Slice,
        discover_slices,
        evaluate_slices,
        length_bins,
    )
    from workbench.baselines import TfidfLogisticRegression
    from workbench.data import load_sst2

    train, dev = load_sst2(args.sst2, download=False)
    started = time.perf_counter()
    model = TfidfLogisticRegression().fit(train.texts, train.require_labels())
    fit_seconds = time.perf_counter() - started

    started = time.perf_counter()
    examples = Examples.from_model(model, dev.texts, dev.require_labels(), source="SST-2 dev")
    slices = [
        Slice.contains_word("not"),
        Slice.contains_word("no"),
        Slice.regex(r"n't\b", name="contains n't"),
        Slice.contains_word("but"),
        Slice.contains_word("though") | Slice.contains_word("although"),
        *length_bins([10, 20, 30]),
        Slice.low_confidence(0.7),
    ]
    report = evaluate_slices(
        examples, slices, n_bootstrap=args.n_bootstrap, seed=args.seed, progress=False
    )
    discovered = discover_slices(
        examples,
        min_support=args.min_support,
        top=args.top,
        n_bootstrap=args.n_bootstrap,
        seed=args.seed,
        progress=False,
    )
    analysis_seconds = time.perf_counter() - started

    print(f"TF-IDF + logistic regression, trained on SST-2 train in {fit_seconds:.1f} s")
    print(f"slices and discovery of {len(examples)} dev sentences: {analysis_seconds:.1f} s\n")
    print("Hand-made slices")
    print(report.summary())
    print("\nDiscovered error slices")
    print(discovered.summary())

    args.json.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "command": "python benchmarks/slices_sst2.py " + " ".join(sys.argv[1:]),
        "model": "tfidf-logreg (workbench.baselines defaults)",
        "train": "SST-2 train",
        "test": "SST-2 dev",
        "fit_seconds": fit_seconds,
        "analysis_seconds": analysis_seconds,
        **report.to_dict(),
        **discovered.to_dict(),
    }
    args.json.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    print(f"\nwrote {args.json.relative_to(REPO) if args.json.is_relative_to(REPO) else args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
