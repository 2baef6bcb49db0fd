"""Explanation quality and cost: every method on SST-2 dev sentences, plausibility on ERASER.

For a model trained on SST-2 (``--model DIR``: any model directory, e.g. the transformer
that ``benchmarks/accuracy.py --dataset sst2`` writes to runs/sst2, or the fine-tuned
encoder ``benchmarks/encoder_sst2.py`` writes), each method explains ``--n`` dev sentences;
each explanation is scored for comprehensiveness, sufficiency and AOPC, each beside the same
metric for random word rankings (the named baseline, computed in the same run), plus mean
pairwise rank agreement, median seconds per sentence and, beside them, the model's own
median seconds for one sentence. With ``--eraser-docs N`` a model is trained on the ERASER
movie-review training documents (or ``--eraser-model DIR`` is used as it is) and the
methods that can afford ~800-word documents are scored against the human rationales of N
test documents (token F1 and AUPRC), beside a random ranking.

    python benchmarks/explanations.py --model runs/sst2 --n 200 --eraser-docs 30
    python benchmarks/explanations.py --model runs/bench/minilm-sst2 \\
        --eraser-model runs/bench/minilm-sst2 --eraser-max-length 256 \\
        --out benchmarks/results/explanations_encoder.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from workbench import ModelConfig, TextClassifier, TrainConfig, load_model, load_sst2
from workbench.data import load_eraser_movies
from workbench.explain import explain, plausibility, rationale_mask, scorecard

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
METHODS = ["shap", "lime", "integrated-gradients", "gradient-x-input", "attention"]
SETTINGS = {"shap": {"max_evals": 500}, "lime": {"num_samples": 1000}}
LONG_DOCUMENT_METHODS = ["lime", "integrated-gradients", "gradient-x-input", "attention"]


def sst2_scorecard(model_dir: Path, n: int, sst2_dir: Path) -> dict:
    model = load_model(model_dir)
    _, dev = load_sst2(sst2_dir, download=False)
    texts = dev.texts[:n]
    card = scorecard(model, texts, METHODS, settings=SETTINGS, random_repeats=5)
    summary = card.summary()
    summary["model_seconds"] = model_seconds(model, texts)
    print(f"\nSST-2 dev, {len(texts)} sentences, model {model_dir}")
    print(summary.round(3).to_string())
    print("\nmean pairwise Spearman agreement")
    print(card.agreement().round(2).to_string())
    print("\nmean top-5 overlap")
    print(card.top_k_overlap().round(2).to_string())
    return {
        "sentences": len(texts),
        "summary": summary.reset_index().to_dict(orient="records"),
        "agreement_spearman": card.agreement().to_dict(),
        "top_5_overlap": card.top_k_overlap().to_dict(),
    }


def model_seconds(model, texts) -> float:
    """The model's own median seconds for one text: what an explanation's cost compares to."""
    model.predict_proba([texts[0]])  # warm-up
    times = []
    for text in texts:
        started = time.perf_counter()
        model.predict_proba([text])
        times.append(time.perf_counter() - started)
    return float(np.median(times))


def eraser_model(eraser_dir: Path, max_length: int, model_dir: Path | None):
    """``model_dir`` read up to ``max_length`` word pieces, or a small transformer trained
    on the ERASER training reviews."""
    if model_dir is not None:
        model = load_model(model_dir)
        model.max_length = max_length  # an encoder reads up to its position limit (512)
        return model
    train = load_eraser_movies(eraser_dir, "train")
    return TextClassifier(
        ModelConfig(d_model=64, d_ff=128, num_layers=1, max_length=max_length, dropout=0.3),
        TrainConfig(num_epochs=6, batch_size=16, learning_rate=2e-3, seed=0),
    ).fit([d.text for d in train], [d.label for d in train])


def eraser_plausibility(
    num_docs: int,
    eraser_dir: Path,
    max_length: int,
    model_dir: Path | None,
    ig_steps: int,
    methods: list[str],
) -> dict:
    model = eraser_model(eraser_dir, max_length, model_dir)
    test = load_eraser_movies(eraser_dir, "test")
    # ERASER's labels are NEG/POS; an SST-2 model's are 0/1.
    names = {"NEG": 0, "POS": 1} if set(map(str, model.classes_)) == {"0", "1"} else None
    labels = [names[d.label] if names else d.label for d in test]
    accuracy = float(np.mean(model.predict([d.text for d in test]) == np.array(labels)))
    settings = {**SETTINGS, "integrated-gradients": {"n_steps": ig_steps}}
    rows = []
    for doc, label in zip(test[:num_docs], labels, strict=False):
        for method in methods:
            result = explain(model, doc.text, method, **settings.get(method, {}))
            human = rationale_mask(result.words, doc.rationale_spans)
            seen = human[: result.settings["visible_words"]]
            if not seen.any():
                continue  # every rationale lies past max_length: nothing to score
            # A random ranking's expected token F1 and average precision: the share of
            # rationale words among the words read.
            rows.append(
                {
                    "method": method,
                    **plausibility(result, human, label=label),
                    "random": float(seen.mean()),
                }
            )
    table = pd.DataFrame(rows).groupby("method", sort=False).mean()
    print(f"\nERASER movies: {num_docs} test documents, model test accuracy {accuracy:.3f}")
    print(table.round(3).to_string())
    return {
        "documents": num_docs,
        "model_test_accuracy": accuracy,
        "max_length": max_length,
        "plausibility": table.reset_index().to_dict(orient="records"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=REPO / "runs" / "sst2", help="SST-2 model")
    parser.add_argument("--n", type=int, default=200, help="dev sentences to explain (200)")
    parser.add_argument("--sst2", type=Path, default=SHARED / "sst2")
    parser.add_argument("--eraser", type=Path, default=SHARED / "eraser_movies")
    parser.add_argument("--eraser-docs", type=int, default=30, help="0 skips ERASER (30)")
    parser.add_argument("--eraser-max-length", type=int, default=1024)
    parser.add_argument(
        "--eraser-model", type=Path, help="explain this model on ERASER instead of training one"
    )
    parser.add_argument("--ig-steps", type=int, default=50, help="IG steps on ERASER (50)")
    parser.add_argument(
        "--eraser-methods",
        default=",".join(LONG_DOCUMENT_METHODS),
        help=f"comma-separated methods for ERASER ({','.join(LONG_DOCUMENT_METHODS)})",
    )
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks/results/explanations.json")
    args = parser.parse_args()

    results = {
        "machine": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "cpu_count": os.cpu_count(),
        },
        "settings": SETTINGS,
        "sst2": sst2_scorecard(args.model, args.n, args.sst2),
    }
    if args.eraser_docs:
        results["eraser"] = eraser_plausibility(
            args.eraser_docs,
            args.eraser,
            args.eraser_max_length,
            args.eraser_model,
            args.ig_steps,
            args.eraser_methods.split(","),
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=_json_default) + "\n")
    print(f"written to {args.out}")


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot serialise {type(value).__name__}")


if __name__ == "__main__":
    main()
