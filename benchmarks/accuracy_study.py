"""Accuracy study: what each change buys the from-scratch transformer on SST-2 (<= 10 min CPU).

An ablation ladder: each rung changes one thing from its base rung and trains a
``TextClassifier`` from scratch (no pretrained weights) under a wall-clock cap that
includes tokenisation. Every rung is scored on GLUE's SST-2 dev set and on the labelled
test set (``test_labeled_from_sst_trees.tsv``); neither is used to pick anything. Model
selection (early stopping, best epoch) uses the rung's validation set: a random 10% of the
training rows at first (leaky: SST-2 rows are phrases of the same sentences), then whole
held-out training sentences, none of whose phrases are trained on; from then on a change
is kept only if it raises the accuracy on those sentences. TF-IDF + logistic regression
(benchmarks/accuracy.py) trains on GLUE's train.tsv in the same run.

    python benchmarks/accuracy_study.py                        # the whole ladder (~1 hour)
    python benchmarks/accuracy_study.py --rungs two-epochs,ensemble-7   # rerun some rungs

Data is read from ../shared/data (or $WORKBENCH_SHARED_DATA): sst2/{train,dev,
test_labeled_from_sst_trees}.tsv and sst_trees/train.txt. Rows of earlier runs stay in
benchmarks/results/accuracy_study.json unless rerun; each row records its own load average.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from _common import RESULTS, SHARED, load_average, machine, print_table, write_json
from accuracy import tfidf_baseline

from workbench import ModelConfig, TextClassifier, TokenizerConfig, TrainConfig
from workbench.data import LabeledTexts, load_sst_trees, load_table
from workbench.train import Callback, TrainState

OUT = RESULTS / "accuracy_study.json"
# Training trees held out whole for validation (neutral roots give no row: ~650 sentences).
HELD_OUT_TREES = 800


@dataclass(frozen=True)
class Rung:
    """One training recipe: which data, which validation, which settings, how many seeds."""

    name: str
    change: str  # what differs from the base rung
    data: str  # a key of data_sets()
    model: dict = field(default_factory=dict)
    train: dict = field(default_factory=dict)
    tokenizer: dict = field(default_factory=dict)
    seeds: tuple[int, ...] = (0,)  # more than one: an ensemble averaging probabilities
    base: str | None = None  # the rung this one changes; gains are measured against it

    def then(self, name: str, change: str, **updates) -> Rung:
        """This rung with ``updates`` (dict fields merged, others replaced)."""
        merged = {
            key: {**getattr(self, key), **value} if isinstance(value, dict) else value
            for key, value in updates.items()
        }
        return replace(self, name=name, change=change, base=self.name, **merged)


def ladder() -> list[Rung]:
    defaults = Rung("defaults", "TextClassifier() defaults on GLUE train.tsv", "glue")
    tuned = defaults.then(
        "tuned",
        "the tuned CLI settings of the current best (82.2% dev)",
        model={"dropout": 0.3, "max_length": 64},
        train={"num_epochs": 5, "batch_size": 64, "label_smoothing": 0.1, "weight_decay": 0.1},
        tokenizer={"min_frequency": 2},
    )
    phrases = tuned.then("tree-phrases", "all SST train-tree phrases", data="phrases")
    held_out = phrases.then(
        "sentence-val",
        f"validate on {HELD_OUT_TREES} held-out train trees (their phrases not trained on)",
        data="phrases-heldout",
    )
    cls = held_out.then("cls-pooling", "pooling cls instead of mean", model={"pooling": "cls"})
    # From here on a change is kept only if it raises the held-out sentences' accuracy
    # (dev and test are reported, never used to choose). cls pooling did not: mean stays.
    short = held_out.then(
        "two-epochs",
        "2 epochs, so the learning rate decays to 0 by the end",
        train={"num_epochs": 2},
    )
    sentences = short.then(
        "sentences-twice",
        "whole training sentences seen twice per epoch",
        data="phrases-heldout+sentences",
    )
    no_split = short.then(
        "whitespace-tokens",
        "tokenizer splits on whitespace only (SST is already tokenised: keeps 's, a-b)",
        tokenizer={"split_punctuation": False},
    )
    faster = short.then(
        "lr-2e-3", "peak learning rate 2e-3 instead of 1e-3", train={"learning_rate": 2e-3}
    )
    dropout = short.then("dropout-0.4", "dropout 0.4 instead of 0.3", model={"dropout": 0.4})
    wider = short.then(
        "d256", "d_model 256, d_ff 512 instead of 128/256", model={"d_model": 256, "d_ff": 512}
    )
    # Single-seed differences above are within the noise of 642 validation sentences
    # (about +-1.5 points); averaging seeds is the change that should beat the noise.
    ensemble = short.then(
        "ensemble-7",
        "7 seeds in the same 600 s budget, probabilities averaged",
        seeds=tuple(range(7)),
    )
    wide_ensemble = wider.then(
        "d256-ensemble-3",
        "3 seeds in the same 600 s budget, probabilities averaged",
        seeds=(0, 1, 2),
    )
    return [
        defaults,
        tuned,
        phrases,
        held_out,
        cls,
        short,
        sentences,
        no_split,
        faster,
        dropout,
        wider,
        ensemble,
        wide_ensemble,
    ]


def data_sets(shared: Path) -> dict[str, tuple[LabeledTexts, LabeledTexts | None]]:
    """Training data and validation data (None: a random 10% of training rows) by name."""
    trees = shared / "sst_trees"
    num_trees = sum(1 for line in (trees / "train.txt").open() if line.strip())
    held = set(np.random.default_rng(0).choice(num_trees, HELD_OUT_TREES, replace=False).tolist())
    kept = [i for i in range(num_trees) if i not in held]
    kept_phrases = load_sst_trees(trees, trees=kept)
    kept_sentences = load_sst_trees(trees, phrases=False, trees=kept)
    held_sentences = load_sst_trees(trees, phrases=False, trees=held)
    both = LabeledTexts(
        kept_phrases.texts + kept_sentences.texts,
        kept_phrases.labels + kept_sentences.labels,
        kept_phrases.source,
    )
    return {
        "glue": (load_table(shared / "sst2" / "train.tsv", "sentence"), None),
        "phrases": (load_sst_trees(trees), None),
        "phrases-heldout": (kept_phrases, held_sentences),
        "phrases-heldout+sentences": (both, held_sentences),
    }


class Deadline(Callback):
    """Stop training (keeping the best weights so far) once the wall clock passes ``at``."""

    def __init__(self, at: float) -> None:
        self.at = at

    def on_batch_end(self, state: TrainState) -> None:
        if time.perf_counter() > self.at:
            state.should_stop = True


def run(rung: Rung, data, dev: LabeledTexts, test: LabeledTexts, budget_s: float) -> dict:
    train, val = data[rung.data]
    load_before = load_average()
    started = time.perf_counter()
    members = []
    for k, seed in enumerate(rung.seeds):
        clf = TextClassifier(
            ModelConfig(**rung.model),
            TrainConfig(**{**rung.train, "seed": seed}),
            TokenizerConfig(**rung.tokenizer),
        )
        validation = None if val is None else (val.texts, val.labels)
        clf.fit(
            train.texts,
            train.labels,
            validation=validation,
            # Each member's share of the budget, plus whatever earlier members left unused.
            callbacks=[Deadline(started + budget_s * (k + 1) / len(rung.seeds))],
            progress=False,
        )
        members.append(clf)
    seconds = time.perf_counter() - started

    def accuracy(split: LabeledTexts) -> float:
        proba = np.mean([m.predict_proba(split.texts) for m in members], axis=0)
        return float(np.mean(members[0].classes_[proba.argmax(1)] == np.array(split.labels)))

    return {
        "rung": rung.name,
        "base": rung.base,
        "change": rung.change,
        "data": rung.data,
        "train_rows": len(train),
        "validation": "random 10% of train rows" if val is None else f"{len(val)} sentences",
        "settings": {"model": rung.model, "train": rung.train, "tokenizer": rung.tokenizer},
        "seeds": list(rung.seeds),
        "val_accuracy": None if val is None else accuracy(val),
        "dev_accuracy": accuracy(dev),
        "test_accuracy": accuracy(test),
        "train_seconds": seconds,
        "members": [
            {
                "steps": m.history_.steps,
                "epochs": len(m.history_.epochs),
                "best_epoch": m.history_.best_epoch,
                "val_accuracy": [e.get("val_accuracy") for e in m.history_.epochs],
                "stopped_early": m.history_.stopped_early,
                "cut_by_deadline": m.history_.interrupted,
                "parameters": m.num_parameters(),
                "vocab_size": m.tokenizer_.vocab_size,
            }
            for m in members
        ],
        "load_before": load_before,
        "load_after": load_average(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shared", type=Path, default=SHARED, help="the shared data folder")
    parser.add_argument("--rungs", help="comma-separated rung names to (re)run; default: all")
    parser.add_argument("--budget", type=float, default=600.0, help="seconds per rung, at most")
    parser.add_argument("--out", type=Path, default=OUT, help="results JSON")
    args = parser.parse_args()
    rungs = ladder()
    names = [rung.name for rung in rungs]
    wanted = names if args.rungs is None else args.rungs.split(",")
    unknown = sorted(set(wanted) - set(names))
    if unknown:
        parser.error(f"unknown rung(s) {unknown}; the rungs are {names}")

    sst2 = args.shared / "sst2"
    dev = load_table(sst2 / "dev.tsv", "sentence")
    test = load_table(sst2 / "test_labeled_from_sst_trees.tsv", "sentence")
    baseline = {
        split: tfidf_baseline(sst2 / "train.tsv", sst2 / file, "sentence")
        for split, file in (("dev", "dev.tsv"), ("test", "test_labeled_from_sst_trees.tsv"))
    }
    data = data_sets(args.shared)
    done = json.loads(args.out.read_text())["rows"] if args.out.is_file() else []
    results = {row["rung"]: row for row in done if row["rung"] in names}
    for rung in rungs:
        if rung.name not in wanted:
            continue
        print(f"{rung.name}: {rung.change}", flush=True)
        results[rung.name] = run(rung, data, dev, test, args.budget)
        rows = [results[name] for name in names if name in results]
        for row in rows:
            base = results.get(row["base"])
            for split in ("val", "dev", "test"):
                key = f"{split}_accuracy"
                known = base is not None and None not in (row[key], base[key])
                row[f"{split}_gain"] = row[key] - base[key] if known else None
        write_json(
            args.out,
            {
                "benchmark": "accuracy_study",
                "command": " ".join(["python", *sys.argv]),
                "machine": machine(),
                "budget_seconds": args.budget,
                "settings_note": "settings are changes from the defaults in workbench/config.py",
                "baseline": {
                    "model": baseline["dev"]["model"] + " on GLUE train.tsv",
                    "dev_accuracy": baseline["dev"]["accuracy"],
                    "test_accuracy": baseline["test"]["accuracy"],
                    "train_seconds": baseline["dev"]["train_seconds"],
                },
                "rows": rows,
            },
        )
    rows = [results[name] for name in names if name in results]
    print(
        f"\nTF-IDF + LR (GLUE train): dev {baseline['dev']['accuracy']:.4f}, "
        f"test {baseline['test']['accuracy']:.4f}"
    )
    print_table(
        rows,
        [
            ("rung", "rung", "s"),
            ("base", "changes", "s"),
            ("val_accuracy", "val", ".4f"),
            ("val_gain", "val gain", "+.4f"),
            ("dev_accuracy", "dev", ".4f"),
            ("dev_gain", "dev gain", "+.4f"),
            ("test_accuracy", "test", ".4f"),
            ("test_gain", "test gain", "+.4f"),
            ("train_seconds", "train s", ".0f"),
            ("train_rows", "rows", "d"),
        ],
    )


if __name__ == "__main__":
    main()
