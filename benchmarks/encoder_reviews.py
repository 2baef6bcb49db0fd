"""Issue 10's targets on the embedded reviews: a fine-tuned encoder (the teacher), the
from-scratch transformer distilled from it (the student), and their baselines, all in one run.

Models, trained on data/reviews/train.csv and scored on test.csv (400 reviews):
- ``tfidf-logreg``: the linear baseline every model must beat;
- ``transformer``: the teaching transformer of notebook 00, trained on the gold labels only;
- ``minilm-finetune``: all-MiniLM-L6-v2 fine-tuned (``workbench.pretrained.finetuned_encoder``);
- ``student``: the same transformer as ``transformer``, distilled from ``minilm-finetune``
  with ``--augment`` augmented copies of each training text labelled by the teacher (the
  student's "train s" excludes the teacher's labelling, timed with the teacher).

For each: test accuracy with its bootstrap 95% interval, ECE before (temperature 1) and after
calibration, accuracy per phenomenon (negation, sarcasm, ...), notebook 00's four showcase
sentences, p(positive) of the empty text, and training seconds. For the two networks, the
integrated-gradients baseline against the empty text: the median |p(baseline) - p("")|.

    python benchmarks/encoder_reviews.py --write-transfer-set data/reviews/transfer.csv
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
    add_machine_args,
    command_line,
    print_table,
    settle_machine,
    write_record,
)

SHOWCASE = {  # notebook 00's sentences and what a careful reader would say
    "Not bad at all, I'd happily go back.": "positive",
    "Great cast, but a dull, plodding plot.": "negative",
    "The battery died after two days.": "negative",
    "Oh wonderful, another update that deletes my settings.": "negative",
}


def student_settings(seed: int, num_epochs: int):
    """Notebook 00's teaching transformer (1 layer, d_model 64)."""
    from workbench import ModelConfig, TextClassifier, TrainConfig

    return TextClassifier(
        model_config=ModelConfig(d_model=64, d_ff=128, num_layers=1, dropout=0.3),
        train_config=TrainConfig(num_epochs=num_epochs, learning_rate=3e-3, seed=seed),
    )


def raw_proba(model, texts):
    """Probabilities before calibration (temperature 1), for the ECE 'before' column."""
    from workbench.calibration import scaled_softmax

    if hasattr(model, "predict_logits"):
        return scaled_softmax(model.predict_logits(texts), 1.0)
    return model.predict_proba(texts)


def score(name, model, test, phenomena, seconds) -> dict:
    from workbench import evaluate

    labels = model.classes_.tolist()
    proba = model.predict_proba(test.texts)
    predicted = np.array(labels)[proba.argmax(axis=1)]
    result = evaluate(test.labels, predicted.tolist(), proba, labels=labels)
    before = evaluate(test.labels, predicted.tolist(), raw_proba(model, test.texts), labels=labels)
    correct = predicted == np.array(test.labels)
    showcase = model.predict(list(SHOWCASE))
    positive = labels.index("positive")
    return {
        "model": name,
        "accuracy": result.accuracy,
        "accuracy_ci": [result.accuracy_ci.low, result.accuracy_ci.high],
        "ece_before": before.ece,
        "ece": result.ece,
        "temperature": getattr(model, "temperature_", None),
        "per_phenomenon": {
            p: float(correct[phenomena == p].mean()) for p in sorted(set(phenomena))
        },
        "negation": float(correct[phenomena == "negation"].mean()),
        "showcase_right": int(sum(np.asarray(showcase) == np.array(list(SHOWCASE.values())))),
        "showcase": {t: str(p) for t, p in zip(SHOWCASE, showcase, strict=True)},
        "p_empty_positive": float(model.predict_proba([""])[0][positive]),
        "train_seconds": seconds,
    }


def ig_baseline_gap(model, texts) -> dict:
    """Median |p(IG baseline) - p("")| over ``texts``, in calibrated probability."""
    from workbench.calibration import scaled_softmax
    from workbench.explain import explain

    empty = model.predict_proba([""])[0]
    gaps = []
    for text in texts:
        base = explain(model, text, "integrated-gradients", n_steps=4).base_values
        gaps.append(np.abs(scaled_softmax(base[None], model.temperature_)[0] - empty).max())
    return {"median": float(np.median(gaps)), "max": float(np.max(gaps)), "n": len(texts)}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--augment", type=int, default=8, help="augmented copies per text (8)")
    parser.add_argument("--epochs", type=int, default=12, help="student/transformer epochs (12)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ig-texts", type=int, default=100, help="texts for the IG baseline")
    parser.add_argument(
        "--teacher-dir", type=Path, default=REPO / "runs" / "bench" / "minilm-reviews"
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "encoder_reviews.json")
    parser.add_argument(
        "--write-transfer-set",
        type=Path,
        help="also write the student's transfer set here (data/reviews/transfer.csv ships one)",
    )
    add_machine_args(parser)
    return parser.parse_args()


def fine_tune_teacher(args, train):
    """``minilm-finetune``: MiniLM fine-tuned on the training reviews, saved."""
    from workbench.pretrained import finetuned_encoder

    model = finetuned_encoder("minilm", seed=args.seed, device="cpu")
    model.fit(train.texts, train.labels, progress=False)
    model.save(args.teacher_dir)
    return model


def train_models(args, train, test, phenomena) -> tuple[list[dict], dict]:
    """The four models of the module docstring, each timed and scored on test: the rows
    and the models by name."""
    from workbench import TfidfLogisticRegression
    from workbench.distill import transfer_set

    rows, models = [], {}

    def run(name, build):
        started = time.perf_counter()
        model = build()
        seconds = time.perf_counter() - started
        models[name] = model
        rows.append(score(name, model, test, phenomena, seconds))
        print(f"{name}: accuracy {rows[-1]['accuracy']:.4f} in {seconds:.0f} s", flush=True)

    run("tfidf-logreg", lambda: TfidfLogisticRegression().fit(train.texts, train.labels))
    run(
        "transformer",
        lambda: student_settings(args.seed, args.epochs).fit(
            train.texts, train.labels, progress=False
        ),
    )
    run("minilm-finetune", lambda: fine_tune_teacher(args, train))
    transfer = transfer_set(
        args.teacher_dir, train.texts, train.labels, augment_per_text=args.augment, progress=False
    )
    if args.write_transfer_set:
        transfer.to_frame().to_csv(args.write_transfer_set, index=False)
        print(f"transfer set ({len(transfer.texts)} texts) written to {args.write_transfer_set}")
    run("student", lambda: transfer.fit(student_settings(args.seed, args.epochs), progress=False))
    return rows, models


def print_results(rows: list[dict], ig: dict[str, dict]) -> None:
    print_table(
        rows,
        [
            ("model", "model", "s"),
            ("accuracy", "accuracy", ".4f"),
            ("ece_before", "ECE T=1", ".3f"),
            ("ece", "ECE", ".3f"),
            ("negation", "negation", ".3f"),
            ("showcase_right", "showcase /4", "d"),
            ("p_empty_positive", "p(pos|'')", ".3f"),
            ("train_seconds", "train s", ".0f"),
        ],
    )
    for name, gap in ig.items():
        print(f"IG baseline vs p(''), {name}: median {gap['median']:.4f} (max {gap['max']:.4f})")


def main() -> None:
    args = parse_args()
    # Loaded before the load wait and the clocks, so that no model's time pays for an import.
    import pandas as pd

    import workbench.distill  # noqa: F401
    import workbench.pretrained  # noqa: F401
    from workbench import load_reviews

    load_at_start = settle_machine(args)
    train, test = load_reviews()
    phenomena = pd.read_csv(REPO / "data" / "reviews" / "test.csv")["phenomenon"].to_numpy()
    rows, models = train_models(args, train, test, phenomena)
    ig_texts = test.texts[: args.ig_texts]
    ig = {name: ig_baseline_gap(models[name], ig_texts) for name in ("minilm-finetune", "student")}
    print_results(rows, ig)
    write_record(
        args.out,
        "encoder_reviews",
        command_line("encoder_reviews.py", args, skip=("out", "teacher_dir")),
        load_at_start,
        models=rows,
        ig_baseline_gap=ig,
        augment_per_text=args.augment,
    )


if __name__ == "__main__":
    main()
