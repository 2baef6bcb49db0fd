"""Issue 12 on SST-2 dev: how the from-scratch transformer, the distilled student and the
fine-tuned encoder (and TF-IDF) fare beyond one sentence, side by side.

For each model, on GLUE's dev set (872 sentences):
- accuracy and the discovered error slices (words and word pairs whose presence goes with
  the largest accuracy drop; one-sided Fisher tests, Holm-corrected over every candidate);
- the pass rates of the shipped CheckList-style sentiment suite
  (``workbench.analysis.behaviour.sentiment_suite``), with the dev sentences as the texts
  the invariance and directional tests perturb.

The models are the ones of ``benchmarks/encoder_sst2.py`` (same recipes): loaded from
``--transformer-dir``, ``--teacher-dir`` and ``--student-dir`` when saved there, otherwise
trained on train.tsv and saved (about 30 CPU-minutes on 2 cores for the three).
``--prepare-only`` trains and saves them and stops.

    python benchmarks/analysis_sst2.py --out benchmarks/results/analysis_sst2.json
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from _common import (  # noqa: E402
    REPO,
    RESULTS,
    SHARED,
    add_machine_args,
    command_line,
    print_table,
    settle_machine,
    write_record,
)
from encoder_sst2 import fine_tune_teacher, transformer  # noqa: E402

MODEL_NAMES = ("tfidf-logreg", "transformer", "student", "minilm-finetune")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sst2", type=Path, default=SHARED / "sst2", help="SST-2 folder")
    parser.add_argument("--teacher-subset", type=int, default=20_000, help="phrases (20000)")
    parser.add_argument("--teacher-epochs", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=3, help="transformer epochs (3)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--min-support", type=int, default=20, help="discovery's minimum n")
    parser.add_argument("--top", type=int, default=8, help="discovered slices per model")
    parser.add_argument(
        "--transformer-dir", type=Path, default=REPO / "runs/bench/transformer-sst2"
    )
    parser.add_argument("--teacher-dir", type=Path, default=REPO / "runs/bench/minilm-sst2")
    parser.add_argument("--student-dir", type=Path, default=REPO / "runs/bench/student-sst2")
    parser.add_argument(
        "--prepare-only", action="store_true", help="train and save the models, then stop"
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "analysis_sst2.json")
    add_machine_args(parser)
    return parser.parse_args()


def saved_or_trained(directory: Path, train_and_save, seconds: dict, name: str):
    """The model saved in ``directory``, or a new one trained (timed) and saved there."""
    from workbench import load_model

    if (directory / "config.json").is_file():
        return load_model(directory)
    started = time.perf_counter()
    model = train_and_save()
    seconds[name] = time.perf_counter() - started
    print(f"{name}: trained in {seconds[name]:.0f} s, saved to {directory}", flush=True)
    return model


def prepare_models(args, train) -> tuple[dict, dict[str, float]]:
    """The four models by name, and the seconds of those trained in this run."""
    from workbench import TfidfLogisticRegression
    from workbench.distill import transfer_set

    seconds: dict[str, float] = {}

    def gold_transformer():
        model = transformer(args.seed, args.epochs).fit(train.texts, train.labels, progress=False)
        model.save(args.transformer_dir)
        return model

    def student():
        transfer = transfer_set(
            args.teacher_dir,
            train.texts,
            train.labels,
            cache_dir=REPO / "runs/bench/cache",
            seed=args.seed,
            progress=False,
        )
        model = transfer.fit(transformer(args.seed, args.epochs), progress=False)
        model.save(args.student_dir)
        return model

    started = time.perf_counter()
    models = {"tfidf-logreg": TfidfLogisticRegression().fit(train.texts, train.labels)}
    seconds["tfidf-logreg"] = time.perf_counter() - started
    models["transformer"] = saved_or_trained(
        args.transformer_dir, gold_transformer, seconds, "transformer"
    )
    models["minilm-finetune"] = saved_or_trained(
        args.teacher_dir, lambda: fine_tune_teacher(args, train), seconds, "minilm-finetune"
    )
    models["student"] = saved_or_trained(args.student_dir, student, seconds, "student")
    return {name: models[name] for name in MODEL_NAMES}, seconds


def main() -> int:
    args = parse_args()
    if not all((args.sst2 / name).is_file() for name in ("train.tsv", "dev.tsv")):
        print(f"skipped: SST-2 not found in {args.sst2}; pass --sst2 DIR")
        return 0
    import workbench.distill  # noqa: F401
    import workbench.pretrained  # noqa: F401
    from workbench import load_sst2

    load_at_start = settle_machine(args)
    train, dev = load_sst2(args.sst2, download=False)
    models, seconds = prepare_models(args, train)
    if args.prepare_only:
        return 0
    results = {name: analyse(name, model, dev, args) for name, model in models.items()}
    print_table(
        [
            {"model": name, **{k: r[k] for k in ("accuracy", "seconds")}}
            for name, r in results.items()
        ],
        [
            ("model", "model", "s"),
            ("accuracy", "dev accuracy", ".4f"),
            ("seconds", "analysis s", ".0f"),
        ],
    )
    print("\nBehavioural pass rates (n cases per test in brackets)")
    print(behaviour_table(results).to_string())
    for name, result in results.items():
        print(f"\nDiscovered error slices of {name}")
        print(result["discovered_summary"])
    write_record(
        args.out,
        "analysis_sst2",
        command_line(
            "analysis_sst2.py",
            args,
            skip=("out", "sst2", "transformer_dir", "teacher_dir", "student_dir", "prepare_only"),
        ),
        load_at_start,
        train_seconds=seconds,
        models={
            name: {k: v for k, v in r.items() if k != "discovered_summary"}
            for name, r in results.items()
        },
    )
    return 0


def analyse(name: str, model, dev, args) -> dict:
    """Accuracy, discovered error slices and behavioural pass rates of one model on dev."""
    from workbench.analysis import Examples, discover_slices
    from workbench.analysis.behaviour import run_suite, sentiment_suite

    started = time.perf_counter()
    examples = Examples.from_model(model, dev.texts, dev.require_labels(), source="SST-2 dev")
    discovered = discover_slices(
        examples, min_support=args.min_support, top=args.top, seed=args.seed, progress=False
    )
    suite = run_suite(
        model,
        sentiment_suite(),
        dev.texts,
        dev.labels,
        positive=1,  # SST-2's labels
        negative=0,
        seed=args.seed,
        progress=False,
    )
    seconds = time.perf_counter() - started
    accuracy = float(examples.correct("accuracy").mean())
    print(f"{name}: dev accuracy {accuracy:.4f}, analysed in {seconds:.0f} s", flush=True)
    return {
        "accuracy": accuracy,
        "seconds": seconds,
        "discovered_slices": discovered.to_dict(),
        "discovered_summary": discovered.summary(),
        "behaviour_tests": suite.to_frame().to_dict(orient="records"),
        "behaviour_failures": suite.to_dict(max_failures=3),
    }


def behaviour_table(results: dict):
    """Tests as rows, models as columns: "pass rate [low, high] (n)"."""
    import pandas as pd

    columns = {}
    for name, result in results.items():
        cells = {}
        for row in result["behaviour_tests"]:
            if row["skipped"]:
                cells[row["name"]] = "skipped"
            else:
                cells[row["name"]] = (
                    f"{row['pass_rate']:.2f} [{row['pass_rate_low']:.2f}, "
                    f"{row['pass_rate_high']:.2f}] ({row['n']})"
                )
        columns[name] = cells
    return pd.DataFrame(columns)


if __name__ == "__main__":
    raise SystemExit(main())
