"""Issue 10's SST-2 targets: a fine-tuned encoder (teacher), the default transformer distilled
from it (student), the same transformer on gold labels and TF-IDF, and whether the student
decides for the teacher's reasons. All in one run, scored on GLUE's dev set (872 sentences).

Steps, each timed:
1. ``tfidf-logreg`` and the ``transformer`` (the tuned SST-2 recipe of
   ``benchmarks/accuracy.py``) on the gold labels of all of train.tsv;
2. the teacher: all-MiniLM-L6-v2 fine-tuned on ``--teacher-subset`` training phrases
   (``workbench.pretrained.finetuned_encoder``);
3. the teacher labels all of train.tsv (cached under runs/bench/cache);
4. the student: the same transformer recipe, trained on the teacher's probabilities;
5. "same reasons?": on ``--reasons-n`` dev sentences, per method, how far the teacher's and
   the student's explanations agree and how much each one's top-3 words matter to the other
   (``workbench.explain.same_reasons``).

    python benchmarks/encoder_sst2.py --out benchmarks/results/encoder_sst2.json
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

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

REASON_METHODS = ["shap", "integrated-gradients", "gradient-x-input", "lime"]
REASON_SETTINGS = {"shap": {"max_evals": 300}, "lime": {"num_samples": 500}}


def transformer(seed: int, num_epochs: int):
    """benchmarks/accuracy.py's tuned SST-2 recipe (0.822 dev on gold labels)."""
    from workbench import ModelConfig, TextClassifier, TokenizerConfig, TrainConfig

    return TextClassifier(
        ModelConfig(max_length=64, dropout=0.3),
        TrainConfig(
            num_epochs=num_epochs,
            batch_size=64,
            label_smoothing=0.1,
            weight_decay=0.1,
            seed=seed,
            device="cpu",
        ),
        TokenizerConfig(min_frequency=2),
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sst2", type=Path, default=SHARED / "sst2")
    parser.add_argument("--teacher-subset", type=int, default=20_000, help="phrases (20000)")
    parser.add_argument("--teacher-epochs", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=3, help="transformer epochs (3)")
    parser.add_argument("--reasons-n", type=int, default=200, help="dev sentences (200)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--teacher-dir", type=Path, default=REPO / "runs/bench/minilm-sst2")
    parser.add_argument("--student-dir", type=Path, default=REPO / "runs/bench/student-sst2")
    parser.add_argument("--out", type=Path, default=RESULTS / "encoder_sst2.json")
    add_machine_args(parser)
    return parser.parse_args()


def fine_tune_teacher(args, train):
    """Step 2: MiniLM fine-tuned on a stratified ``--teacher-subset`` of train, saved."""
    from workbench import stratified_split
    from workbench.pretrained import finetuned_encoder

    subset = train
    if args.teacher_subset < len(train):
        fraction = args.teacher_subset / len(train)
        subset, _, _ = stratified_split(train, val_size=1 - fraction, seed=args.seed)
    model = finetuned_encoder(
        "minilm", seed=args.seed, num_epochs=args.teacher_epochs, max_length=64, device="cpu"
    )
    model.fit(subset.texts, subset.labels, progress=False)
    model.save(args.teacher_dir)
    return model


def train_models(args, train, dev) -> tuple[list[dict], dict[str, float], object]:
    """Steps 1 to 4, each timed and its model scored on dev: the rows, the seconds per step
    and the student (saved to ``--student-dir``)."""
    from workbench import TfidfLogisticRegression
    from workbench.distill import transfer_set

    rows, seconds = [], {}

    def timed(step, build):
        started = time.perf_counter()
        result = build()
        seconds[step] = time.perf_counter() - started
        print(f"{step}: {seconds[step]:.0f} s", flush=True)
        return result

    def score(name, model, step):
        accuracy = float((model.predict(dev.texts) == np.array(dev.labels)).mean())
        rows.append({"model": name, "dev_accuracy": accuracy, "train_seconds": seconds[step]})
        print(f"{name}: dev accuracy {accuracy:.4f}", flush=True)

    tfidf = timed("tfidf", lambda: TfidfLogisticRegression().fit(train.texts, train.labels))
    score("tfidf-logreg", tfidf, "tfidf")
    gold = timed(
        "transformer",
        lambda: transformer(args.seed, args.epochs).fit(train.texts, train.labels, progress=False),
    )
    score("transformer (gold labels)", gold, "transformer")
    teacher = timed("teacher", lambda: fine_tune_teacher(args, train))
    score("minilm-finetune (teacher)", teacher, "teacher")
    transfer = timed(
        "teacher labels",
        lambda: transfer_set(
            args.teacher_dir,
            train.texts,
            train.labels,
            cache_dir=REPO / "runs/bench/cache",
            seed=args.seed,
            progress=False,
        ),
    )
    student = timed(
        "student", lambda: transfer.fit(transformer(args.seed, args.epochs), progress=False)
    )
    student.save(args.student_dir)
    score("transformer distilled (student)", student, "student")
    return rows, seconds, student


def compare_reasons(teacher, student, texts: list[str]) -> dict[str, dict]:
    """Step 5: per method, the mean agreement of the two models' explanations."""
    from workbench.explain import same_reasons

    reasons = {}
    for method in REASON_METHODS:
        started = time.perf_counter()
        table = same_reasons(
            teacher, student, texts, method, k=3, progress=False, **REASON_SETTINGS.get(method, {})
        )
        means = table.drop(columns=["text", "label_a", "label_b"]).mean().to_dict()
        reasons[method] = {
            **means,
            "same_label": float((table["label_a"] == table["label_b"]).mean()),
            "seconds": time.perf_counter() - started,
        }
        print(f"same reasons, {method}: " + ", ".join(f"{k} {v:.3f}" for k, v in means.items()))
    return reasons


def main() -> None:
    args = parse_args()
    # Loaded before the load wait and the clocks, so that no step pays for an import.
    import workbench.distill  # noqa: F401
    import workbench.explain  # noqa: F401
    import workbench.pretrained  # noqa: F401
    from workbench import load_model, load_sst2

    load_at_start = settle_machine(args)
    train, dev = load_sst2(args.sst2, download=False)
    rows, seconds, student = train_models(args, train, dev)
    print_table(
        rows,
        [
            ("model", "model", "s"),
            ("dev_accuracy", "dev accuracy", ".4f"),
            ("train_seconds", "train s", ".0f"),
        ],
    )

    teacher = load_model(args.teacher_dir)  # as saved: what a user would explain
    texts = dev.texts[: args.reasons_n]
    reasons = compare_reasons(teacher, student, texts)
    write_record(
        args.out,
        "encoder_sst2",
        command_line("encoder_sst2.py", args, skip=("out", "sst2", "teacher_dir", "student_dir")),
        load_at_start,
        models=rows,
        seconds=seconds,
        teacher_subset=args.teacher_subset,
        same_reasons={"sentences": len(texts), "k": 3, "methods": reasons},
    )


if __name__ == "__main__":
    main()
