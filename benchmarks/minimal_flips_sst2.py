"""Minimal flips on SST-2 dev: how often a few word edits flip each model, at what cost.

    python benchmarks/minimal_flips_sst2.py [--max-steps 300] [--sample 100] [--max-edits 3]
        [--threads N] [--wait-load 4]

A from-scratch TextClassifier (ModelConfig() defaults) is trained on SST-2 train for
--max-steps steps of 64 (or loaded with --model), and TF-IDF + logistic regression is fitted
on SST-2 train. On a seeded sample of --sample dev sentences,
workbench.analysis.minimal_flip runs with each search:

- transformer: auto (HotFlip + lexicon + deletion), lexicon (+ deletion), deletion only,
  all guided by integrated gradients; and the named baseline, the same auto search
  unguided (every position in text order, explain_method="none", max_positions unbounded);
- TF-IDF: lexicon (+ deletion) and deletion only, guided by SHAP (exact up to 8 words),
  and the lexicon search unguided (the baseline).

For each: the share of sentences flipped within --max-edits, the mean number of edits of
the flips, the mean model calls per sentence (predict_proba texts + explanation evaluations
+ gradient passes) and the seconds per sentence; every reported flip is checked again with
model.predict (the "verified" column must equal "flipped"). The share of flips that use a
HotFlip word and a few example diffs are kept. The JSON goes to
benchmarks/results/minimal_flips_sst2.json.

The machine may be shared: the load average at start and end is recorded; compare the rows
of one run. SST-2 is read from --sst2 (default ../shared/data/sst2 beside the checkout, or
$WORKBENCH_SHARED_DATA/sst2) and never copied; without it the script says so and exits 0.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

import numpy as np
from _common import (
    RESULTS,
    add_machine_args,
    add_model_args,
    command_line,
    default_model,
    doc_parser,
    load_average,
    print_table,
    settle_machine,
    write_record,
)

SEARCHES = [  # (model, name, settings)
    ("transformer", "auto (HotFlip + lexicon + deletion)", {"method": "auto"}),
    ("transformer", "lexicon + deletion", {"method": "lexicon"}),
    ("transformer", "deletion", {"method": "deletion"}),
    (
        "transformer",
        "auto, unguided (baseline)",
        {"method": "auto", "explain_method": "none", "max_positions": 10_000},
    ),
    ("tfidf", "lexicon + deletion", {"method": "lexicon"}),
    ("tfidf", "deletion", {"method": "deletion"}),
    (
        "tfidf",
        "lexicon + deletion, unguided (baseline)",
        {"method": "lexicon", "explain_method": "none", "max_positions": 10_000},
    ),
]


def parse_args():
    parser = doc_parser(__doc__)
    add_model_args(parser, default_steps=300)
    add_machine_args(parser)
    parser.add_argument("--sample", type=int, default=100, help="dev sentences searched")
    parser.add_argument("--max-edits", type=int, default=3)
    parser.add_argument("--examples", type=int, default=5, help="diffs kept per search")
    parser.add_argument("--out", type=Path, default=RESULTS / "minimal_flips_sst2.json")
    return parser.parse_args()


def run_search(model, texts: list[str], settings: dict, max_edits: int, examples: int) -> dict:
    from workbench.analysis.minimal_flips import minimal_flips

    started = time.perf_counter()
    flips = minimal_flips(model, texts, max_edits=max_edits, progress=False, **settings)
    seconds = time.perf_counter() - started
    found = [flip for flip in flips if flip.found]
    verified = 0
    if found:
        again = model.predict([flip.edited_text for flip in found])
        verified = sum(
            str(label) != str(flip.label_before) for label, flip in zip(again, found, strict=True)
        )
    hotflip = sum(any(edit.source == "hotflip" for edit in flip.edits) for flip in found)
    return {
        "n": len(flips),
        "flipped": len(found),
        "verified": verified,
        "flip_rate": len(found) / len(flips),
        "mean_edits": float(np.mean([flip.num_edits for flip in found])) if found else None,
        "edits_histogram": {
            k: sum(flip.num_edits == k for flip in found) for k in range(1, max_edits + 1)
        },
        "mean_model_calls": float(np.mean([flip.model_calls for flip in flips])),
        "mean_predict_texts": float(np.mean([flip.calls["predict_proba"] for flip in flips])),
        "seconds_per_text": seconds / len(flips),
        "hotflip_share": hotflip / len(found) if found else None,
        "examples": [flip.summary() for flip in found[:examples]],
    }


def main() -> int:
    args = parse_args()
    if not all((args.sst2 / f).is_file() for f in ("train.tsv", "dev.tsv")):
        print(
            f"skipped: SST-2 not found in {args.sst2} (it needs train.tsv and dev.tsv); pass "
            "--sst2 DIR or set WORKBENCH_SHARED_DATA"
        )
        return 0
    load_at_start = settle_machine(args)

    from workbench.baselines import TfidfLogisticRegression
    from workbench.data import load_sst2

    train, dev = load_sst2(args.sst2, download=False)
    models = {
        "transformer": default_model(args),
        "tfidf": TfidfLogisticRegression().fit(train.texts, train.labels),
    }
    accuracy = {
        name: float(np.mean(model.predict(dev.texts) == np.asarray(dev.labels)))
        for name, model in models.items()
    }
    print(f"dev accuracy {accuracy}; load {load_average()}\n")
    sample = sorted(random.Random(args.seed).sample(range(len(dev.texts)), args.sample))
    texts = [dev.texts[i] for i in sample]

    rows = []
    for model_name, search, settings in SEARCHES:
        result = run_search(models[model_name], texts, settings, args.max_edits, args.examples)
        rows.append({"model": model_name, "search": search, "settings": settings, **result})
        print(f"{model_name}, {search}: {result['flip_rate']:.2f} flipped", flush=True)
        for example in result["examples"][:2]:
            print(f"    {example}")

    print()
    print_table(
        [{**row, "name": f"{row['model']}: {row['search']}"} for row in rows],
        [
            ("name", "search", "s"),
            ("flip_rate", "flipped", ".2f"),
            ("verified", "verified", "d"),
            ("mean_edits", "edits", ".2f"),
            ("mean_model_calls", "calls/text", ".0f"),
            ("mean_predict_texts", "predict texts", ".0f"),
            ("seconds_per_text", "s/text", ".3f"),
            ("hotflip_share", "HotFlip share", ".2f"),
        ],
    )
    write_record(
        args.out,
        "minimal_flips_sst2",
        command_line("minimal_flips_sst2.py", args),
        load_at_start,
        dev_accuracy=accuracy,
        sample=sample,
        max_edits=args.max_edits,
        searches=rows,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
