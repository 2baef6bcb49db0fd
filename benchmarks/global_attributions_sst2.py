"""Global attributions on SST-2 dev: batched integrated gradients against one text at a time.

    python benchmarks/global_attributions_sst2.py [--max-steps 300] [--sample 24]
        [--shap-sample 12] [--threads N] [--wait-load 4]

A from-scratch TextClassifier (ModelConfig() defaults: 2 layers, d_model 128) is trained on
SST-2 train for --max-steps steps of 64 (or loaded with --model), then:

- global attributions by integrated gradients (50 steps) over all 872 dev sentences,
  workbench.analysis.global_attributions (batched integrated gradients, then the
  aggregation per class and word): wall seconds and CPU seconds (the process's, all
  threads), and seconds per text;
- the named baseline, explain(model, texts, method="integrated-gradients") one text at a
  time, on a seeded random sample of --sample dev sentences: seconds per text, the ratio
  to the batched path, and the largest difference between the two paths' attributions;
- SHAP's cost (explain(..., method="shap"), its defaults) on --shap-sample sentences,
  extrapolated to all 872 (said so in the table);
- the rank agreement (Spearman, Kendall, top-20 overlap) of the IG mean attributions with
  the single-word coefficients of TF-IDF + logistic regression fitted on SST-2 train;
- the check with a known answer: SHAP's global attributions of that TF-IDF model itself on
  --tfidf-shap dev sentences (every word kept), against its own coefficients.

The machine may be shared: the load average at start and end is recorded, and ratios
measured in the same run are what to compare. SST-2 is read from --sst2 (default
../shared/data/sst2 beside the checkout, or $WORKBENCH_SHARED_DATA/sst2) and never copied;
without it the script says so and exits 0. The JSON goes to
benchmarks/results/global_attributions_sst2.json.
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


def parse_args():
    parser = doc_parser(__doc__)
    add_model_args(parser, default_steps=300)
    add_machine_args(parser)
    parser.add_argument("--n-steps", type=int, default=50, help="integrated-gradients steps")
    parser.add_argument("--sample", type=int, default=24, help="texts for the one-by-one path")
    parser.add_argument("--shap-sample", type=int, default=12, help="texts for SHAP's cost")
    parser.add_argument(
        "--tfidf-shap", type=int, default=200, help="texts for SHAP on the TF-IDF model (0: skip)"
    )
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--top-k", type=int, default=20)
    parser.add_argument("--out", type=Path, default=RESULTS / "global_attributions_sst2.json")
    return parser.parse_args()


def timed(function, *args, **kwargs):
    """``function(*args, **kwargs)`` with its wall and CPU seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - wall, time.process_time() - cpu


def top_words(result, k: int) -> dict:
    """Per class, the ``k`` words most towards and the ``k`` most against it (not rare)."""
    out = {}
    for label in result.classes:
        rows = [result.top(label, k, by="mean"), result.top(label, k, by="-mean")]
        out[str(label)] = {
            direction: [
                {
                    "word": r["word"],
                    "mean": r["mean"],
                    "mean_abs": r["mean_abs"],
                    "count": int(r["count"]),
                    "low": r["low"],
                    "high": r["high"],
                }
                for r in frame.to_dict("records")
            ]
            for direction, frame in zip(("towards", "against"), rows, strict=True)
        }
    return out


def main() -> int:
    args = parse_args()
    if not args.model and not all((args.sst2 / f).is_file() for f in ("train.tsv", "dev.tsv")):
        print(
            f"skipped: SST-2 not found in {args.sst2} (it needs train.tsv and dev.tsv); pass "
            "--sst2 DIR or set WORKBENCH_SHARED_DATA"
        )
        return 0
    if not (args.sst2 / "dev.tsv").is_file():
        print(f"skipped: SST-2 dev not found in {args.sst2}; pass --sst2 DIR")
        return 0
    load_at_start = settle_machine(args)

    from workbench.analysis import (
        batched_integrated_gradients,
        compare_with_linear,
        global_attributions,
    )
    from workbench.baselines import TfidfLogisticRegression
    from workbench.data import load_sst2
    from workbench.explain import explain

    train, dev = load_sst2(args.sst2, download=False)
    model, train_seconds, _ = timed(default_model, args)
    texts = dev.texts
    n = len(texts)
    accuracy = float(np.mean(model.predict(texts) == np.asarray(dev.labels)))
    print(f"model: dev accuracy {accuracy:.3f}; {n} dev sentences; load {load_average()}\n")

    # The workbench: global attributions by batched integrated gradients, every dev sentence.
    result, ig_wall, ig_cpu = timed(
        global_attributions,
        model,
        texts,
        method="integrated-gradients",
        n_steps=args.n_steps,
        min_count=args.min_count,
        progress=False,
    )
    load_after_ig = load_average()

    # The named baseline: the one-text-at-a-time path of explain(), on a seeded sample.
    sample = sorted(random.Random(args.seed).sample(range(n), min(args.sample, n)))
    one_by_one, single_wall, single_cpu = timed(
        explain,
        model,
        [texts[i] for i in sample],
        method="integrated-gradients",
        n_steps=args.n_steps,
        progress=False,
    )
    batched = batched_integrated_gradients(
        model, [texts[i] for i in sample], n_steps=args.n_steps, progress=False
    )
    difference = max(
        float(np.abs(single.attributions - together.attributions).max())
        for single, together in zip(one_by_one, batched, strict=True)
    )

    # SHAP's cost on a smaller sample, extrapolated.
    shap_sample = sample[: args.shap_sample]
    _, shap_wall, shap_cpu = timed(
        explain, model, [texts[i] for i in shap_sample], method="shap", progress=False
    )

    # The linear model whose global explanation is exact, fitted on the same training data.
    linear, tfidf_seconds, _ = timed(
        TfidfLogisticRegression().fit, train.texts, train.require_labels()
    )
    agreement = compare_with_linear(result, linear, k=args.top_k)

    # The check with a known answer: SHAP on the linear model itself, against its own
    # coefficients (a sample; every word kept, as most are seen only a few times in it).
    tfidf_shap = None
    if args.tfidf_shap:
        picked = sorted(random.Random(args.seed + 1).sample(range(n), min(args.tfidf_shap, n)))
        linear_result, linear_wall, linear_cpu = timed(
            global_attributions,
            linear,
            [texts[i] for i in picked],
            method="shap",
            min_count=1,
            progress=False,
        )
        linear_agreement = compare_with_linear(linear_result, linear, k=args.top_k)
        tfidf_shap = {
            "texts": len(picked),
            "wall_seconds": linear_wall,
            "cpu_seconds": linear_cpu,
            "min_count": 1,
            **linear_agreement.to_dict(),
        }

    per_text = ig_wall / n
    rows = [
        {
            "path": "IG batched (workbench)",
            "texts": n,
            "wall": ig_wall,
            "cpu": ig_cpu,
            "per_text": per_text,
            "all": ig_wall,
            "ratio": 1.0,
        },
        {
            "path": "IG one text at a time (explain)",
            "texts": len(sample),
            "wall": single_wall,
            "cpu": single_cpu,
            "per_text": single_wall / len(sample),
            "all": single_wall / len(sample) * n,
            "ratio": single_wall / len(sample) / per_text,
        },
        {
            "path": "SHAP (explain, defaults)",
            "texts": len(shap_sample),
            "wall": shap_wall,
            "cpu": shap_cpu,
            "per_text": shap_wall / len(shap_sample),
            "all": shap_wall / len(shap_sample) * n,
            "ratio": shap_wall / len(shap_sample) / per_text,
        },
    ]
    print(f"explaining SST-2 dev ({n} sentences); 'all {n}' is extrapolated for samples")
    print_table(
        rows,
        [
            ("path", "path", ""),
            ("texts", "texts", "d"),
            ("wall", "wall s", ".1f"),
            ("cpu", "CPU s", ".1f"),
            ("per_text", "s/text", ".3f"),
            ("all", f"all {n} s", ".0f"),
            ("ratio", "x batched", ".1f"),
        ],
    )
    print(
        f"batched vs one-by-one attributions on the sample: largest difference {difference:.2e}\n"
    )
    print(result.summary(k=8))
    print()
    print(agreement.summary())
    if tfidf_shap is not None:
        print(
            f"\nknown answer: SHAP on the TF-IDF model itself ({tfidf_shap['texts']} dev "
            f"sentences, {tfidf_shap['wall_seconds']:.0f} s), every word kept"
        )
        print(linear_agreement.summary())

    write_record(
        args.out,
        "global_attributions_sst2",
        command_line("global_attributions_sst2.py", args),
        load_at_start,
        model={
            "kind": "TextClassifier, ModelConfig() defaults",
            "trained": "loaded from --model"
            if args.model
            else f"SST-2 train, {args.max_steps} steps of batch 64, seed {args.seed}",
            "train_seconds": round(train_seconds, 1),
            "dev_accuracy": accuracy,
        },
        n_steps=args.n_steps,
        timings=rows,
        ig_batched={
            "texts": n,
            "wall_seconds": ig_wall,
            "cpu_seconds": ig_cpu,
            "seconds_per_text": per_text,
            "load_after": load_after_ig,
        },
        baseline_one_by_one={
            "texts": len(sample),
            "wall_seconds": single_wall,
            "cpu_seconds": single_cpu,
            "ratio_to_batched": rows[1]["ratio"],
            "largest_attribution_difference": difference,
        },
        shap={
            "texts": len(shap_sample),
            "wall_seconds": shap_wall,
            "cpu_seconds": shap_cpu,
            "extrapolated_all_seconds": rows[2]["all"],
            "extrapolated": True,
        },
        tfidf_fit_seconds=round(tfidf_seconds, 1),
        tfidf_shap=tfidf_shap,
        global_attributions=top_words(result, args.top_k),
        global_attributions_method=result.to_dict()["global_attributions_method"],
        **agreement.to_dict(),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
