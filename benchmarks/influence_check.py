"""Influence checked by retraining: top TracInCP proponents removed vs random reviews removed.

    python benchmarks/influence_check.py [--seeds 5] [--k 40] [--tests 3] [--layers last all]

For each of --tests test reviews (the first ones of the embedded test split) and each layer
setting, workbench.analysis.removal_check trains a tiny from-scratch model (the "tiny"
preset without dropout, 5 epochs, one CPU thread) on the embedded training reviews per
seed, computes TracInCP influence for the predicted label, retrains from the same seed
without the top-k proponents and again without k random reviews, and records how far the
predicted label's probability drops each time. The table gives, per test text and layer
setting, the mean drop for both removals, their ratio, the median drops, how many seeds the
proponents beat random removal, and the cost: seconds of influence against seconds of one
training (the ratio is what holds on a shared machine). The JSON goes to
benchmarks/results/influence_check.json (per-seed rows included).

Random removal is the noise floor: retraining from the same seed on different data is not
the same run (the batches change), so any removal moves the probability somewhat.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import _common

DEFAULT_JSON = _common.RESULTS / "influence_check.json"


def parse_args():
    parser = _common.doc_parser(__doc__)
    parser.add_argument("--seeds", type=int, default=5, help="training seeds per test text")
    parser.add_argument("--k", type=int, default=40, help="training reviews removed")
    parser.add_argument("--tests", type=int, default=3, help="test reviews traced")
    parser.add_argument(
        "--first-test", type=int, default=0, help="index of the first test review traced"
    )
    parser.add_argument(
        "--layers",
        nargs="+",
        default=["last", "all"],
        choices=["last", "all"],
        help="TracInCP parameter sets to check",
    )
    parser.add_argument(
        "--architecture", default="transformer", choices=["transformer", "bag-of-embeddings"]
    )
    parser.add_argument(
        "--n-train", type=int, help="use the first N training reviews (default all)"
    )
    parser.add_argument("--epochs", type=int, default=5, help="training epochs")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where the JSON goes")
    _common.add_machine_args(parser)
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    load_at_start = _common.settle_machine(args)

    from workbench import ModelConfig, TrainConfig
    from workbench.analysis.influence import removal_check
    from workbench.data import load_reviews

    train, test = load_reviews()
    n = args.n_train or len(train)
    texts, labels = train.texts[:n], train.require_labels()[:n]
    model_config = ModelConfig(
        d_model=32,
        num_heads=2,
        num_layers=1,
        d_ff=64,
        max_length=64,
        dropout=0.0,
        architecture=args.architecture,
    )
    train_config = TrainConfig(
        num_epochs=args.epochs, batch_size=16, learning_rate=5e-3, device="cpu", cpu_threads=1
    )
    rows, checks = [], []
    started = time.perf_counter()
    chosen = test.texts[args.first_test : args.first_test + args.tests]
    for number, text in enumerate(chosen, start=args.first_test):
        for layers in args.layers:
            check = removal_check(
                texts,
                labels,
                text,
                k=args.k,
                seeds=range(args.seeds),
                model_config=model_config,
                train_config=train_config,
                layers=layers,
            )
            summary = check.summary()
            rows.append(
                {
                    "test": number,
                    "text": text[:40],
                    "layers": layers,
                    **summary,
                    "cost_ratio": summary["influence_seconds"] / summary["train_seconds"],
                }
            )
            checks.append({"test": number, "layers": layers, **check.to_dict()})
            print(
                f"test {number} ({layers}) done after {time.perf_counter() - started:.0f} s",
                flush=True,
            )
    for layers in args.layers:
        mine = [r for r in rows if r["layers"] == layers]
        top = sum(r["mean_drop_top"] for r in mine) / len(mine)
        rand = sum(r["mean_drop_random"] for r in mine) / len(mine)
        rows.append(
            {
                "test": "all",
                "text": "(mean over test texts)",
                "layers": layers,
                "mean_drop_top": top,
                "mean_drop_random": rand,
                "ratio": top / rand if rand else None,
                "seeds_top_beats_random": sum(r["seeds_top_beats_random"] for r in mine),
                "seeds": sum(r["seeds"] for r in mine),
                "train_seconds": sum(r["train_seconds"] for r in mine) / len(mine),
                "influence_seconds": sum(r["influence_seconds"] for r in mine) / len(mine),
            }
        )
        rows[-1]["cost_ratio"] = rows[-1]["influence_seconds"] / rows[-1]["train_seconds"]
    print(f"\n{args.architecture}, {n} training reviews, k={args.k}, {args.seeds} seeds per text")
    _common.print_table(
        rows,
        [
            ("test", "test", ""),
            ("text", "text", ""),
            ("layers", "layers", ""),
            ("mean_drop_top", "drop top-k", ".4f"),
            ("mean_drop_random", "drop random", ".4f"),
            ("ratio", "ratio", ".2f"),
            ("median_drop_top", "median top", ".4f"),
            ("median_drop_random", "median rnd", ".4f"),
            ("seeds_top_beats_random", "top>rnd", "d"),
            ("seeds", "seeds", "d"),
            ("train_seconds", "train s", ".2f"),
            ("influence_seconds", "influence s", ".2f"),
            ("cost_ratio", "infl/train", ".2f"),
        ],
    )
    _common.write_record(
        args.json,
        "influence_check",
        _common.command_line("influence_check.py", args, skip=("json",)),
        load_at_start,
        settings={
            "architecture": args.architecture,
            "n_train": n,
            "k": args.k,
            "seeds": args.seeds,
            "epochs": args.epochs,
            "model": model_config.to_dict(),
            "train": train_config.to_dict(),
        },
        summary=rows,
        checks=checks,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
