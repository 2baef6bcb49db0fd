"""Explainer overhead: SHAP and LIME time per explanation against the model's own time.

For each of ``--n`` SST-2 dev sentences, the workbench explainers
(:func:`workbench.explain.perturbation.shap_explanation`, ``max_evals=500``, and
``lime_explanation``, ``num_samples=1000``) run on a classifier wrapped to record every
``predict_proba`` call. The recorded calls are then replayed alone, batched exactly as the
explainer sent them, so

    overhead ratio = seconds per explanation / seconds of the same model calls alone

(1.0 = the explainer costs nothing beyond the model; target <= 1.3). Named baselines in the
same run: ``shap`` / ``lime`` called directly with a naive one-text-at-a-time
``predict_proba`` (what a user writes first), and the same with the batched
``predict_proba`` (the best a user gets without the workbench).

    python benchmarks/explain_overhead.py --model runs/sst2 --n 30
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
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
    set_threads,
    start_load,
    write_record,
)

from workbench import TextClassifier, load_sst2
from workbench.explain.perturbation import lime_explanation, shap_explanation


class Recorder:
    """The classifier, with every ``predict_proba`` call's texts recorded (in order)."""

    def __init__(self, clf: TextClassifier) -> None:
        self._clf = clf
        self.calls: list[list[str]] = []

    def __getattr__(self, name):  # classes_, tokenizer_, model_ ... come from the classifier
        return getattr(self._clf, name)

    def predict_proba(self, texts, batch_size: int = 256):
        self.calls.append(list(texts))
        return self._clf.predict_proba(texts, batch_size)


def replay_seconds(clf: TextClassifier, calls: list[list[str]]) -> tuple[float, float]:
    """Wall and CPU seconds of the recorded calls, replayed alone in the same batches."""
    started, cpu = time.perf_counter(), time.process_time()
    for texts in calls:
        clf.predict_proba(texts)
    return time.perf_counter() - started, time.process_time() - cpu


def naive_proba(clf: TextClassifier):
    """One text per model call: the loop users write around a single-text predict."""

    def predict(texts):
        return np.stack([clf.predict_proba([str(t)])[0] for t in texts])

    return predict


def direct_shap(predict, classes, text: str, max_evals: int) -> None:
    import shap

    masker = shap.maskers.Text(r"\W+")  # shap's own regex tokenizer, default mask token
    explainer = shap.explainers.Partition(
        lambda batch: predict(list(batch)), masker, output_names=[str(c) for c in classes]
    )
    explainer([text], max_evals=max_evals, silent=True)


def direct_lime(predict, classes, text: str, num_samples: int) -> None:
    from lime.lime_text import LimeTextExplainer

    explainer = LimeTextExplainer(class_names=[str(c) for c in classes], random_state=0)
    explainer.explain_instance(
        text, predict, labels=range(len(classes)), num_features=10, num_samples=num_samples
    )


def measure(clf, texts, args) -> dict:
    methods = {
        "shap": (
            lambda m, t: shap_explanation(m, t, max_evals=args.max_evals),
            lambda p, t: direct_shap(p, clf.classes_, t, args.max_evals),
        ),
        "lime": (
            lambda m, t: lime_explanation(m, t, num_samples=args.num_samples),
            lambda p, t: direct_lime(p, clf.classes_, t, args.num_samples),
        ),
    }
    naive, batched = naive_proba(clf), clf.predict_proba
    out = {}
    for method, (workbench_fn, direct_fn) in methods.items():
        rows = []
        for text in texts:
            recorder = Recorder(clf)
            started, cpu = time.perf_counter(), time.process_time()
            explanation = workbench_fn(recorder, text)
            seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
            model_seconds, model_cpu_seconds = replay_seconds(clf, recorder.calls)
            started = time.perf_counter()
            direct_fn(batched, text)
            direct_batched = time.perf_counter() - started
            row = {
                "words": len(explanation.words),
                "seconds": seconds,
                "model_seconds": model_seconds,
                "ratio": seconds / model_seconds,
                "cpu_seconds": cpu_seconds,
                "model_cpu_seconds": model_cpu_seconds,
                "cpu_ratio": cpu_seconds / model_cpu_seconds,
                "calls": len(recorder.calls),
                "texts_sent": sum(len(c) for c in recorder.calls),
                "evaluations": explanation.evaluations,
                "direct_batched_seconds": direct_batched,
            }
            if len(rows) < args.naive_n:  # the naive loop is slow; a subset is enough
                started = time.perf_counter()
                direct_fn(naive, text)
                row["direct_naive_seconds"] = time.perf_counter() - started
            rows.append(row)
        total_s = sum(r["seconds"] for r in rows)
        total_model = sum(r["model_seconds"] for r in rows)
        naive_rows = [r for r in rows if "direct_naive_seconds" in r]
        summary = {
            "method": method,
            "setting": f"max_evals={args.max_evals}"
            if method == "shap"
            else f"num_samples={args.num_samples}",
            "median_seconds": statistics.median(r["seconds"] for r in rows),
            "median_model_seconds": statistics.median(r["model_seconds"] for r in rows),
            "median_ratio": statistics.median(r["ratio"] for r in rows),
            "total_ratio": total_s / total_model,
            "median_cpu_ratio": statistics.median(r["cpu_ratio"] for r in rows),
            "median_calls": statistics.median(r["calls"] for r in rows),
            "median_texts_per_call": statistics.median(r["texts_sent"] / r["calls"] for r in rows),
            "median_evaluations": statistics.median(r["evaluations"] for r in rows),
            "median_direct_batched_seconds": statistics.median(
                r["direct_batched_seconds"] for r in rows
            ),
            "median_direct_naive_seconds": statistics.median(
                r["direct_naive_seconds"] for r in naive_rows
            ),
            "naive_subset": len(naive_rows),
        }
        # Speed-up over the naive baseline on the same sentences.
        summary["speedup_vs_naive"] = statistics.median(
            r["direct_naive_seconds"] / r["seconds"] for r in naive_rows
        )
        summary["speedup_vs_direct_batched"] = statistics.median(
            r["direct_batched_seconds"] / r["seconds"] for r in rows
        )
        summary["rows"] = rows
        out[method] = summary
        print(f"[{time.strftime('%H:%M:%S')}] {method} done, load {load_average()}", flush=True)
    return out


def warm_up(clf, text: str, args) -> dict:
    """First calls pay one-off costs (shap compiles numba code): time them, then warm all paths."""
    clf.predict_proba([text])
    started = time.perf_counter()
    shap_explanation(clf, text, max_evals=args.max_evals)
    shap_first = time.perf_counter() - started
    started = time.perf_counter()
    lime_explanation(clf, text, num_samples=args.num_samples)
    lime_first = time.perf_counter() - started
    direct_shap(clf.predict_proba, clf.classes_, text, args.max_evals)
    direct_lime(clf.predict_proba, clf.classes_, text, args.num_samples)
    return {"shap_first_call_seconds": shap_first, "lime_first_call_seconds": lime_first}


def profile_one(clf, text: str, args) -> dict:
    """cProfile of one SHAP and one LIME explanation: the top functions by own time."""
    profiles = {}
    for method, fn in (
        ("shap", lambda: shap_explanation(clf, text, max_evals=args.max_evals)),
        ("lime", lambda: lime_explanation(clf, text, num_samples=args.num_samples)),
    ):
        profiler = cProfile.Profile()
        profiler.enable()
        fn()
        profiler.disable()
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(25)
        profiles[method] = stream.getvalue()
    return profiles


def parse_args() -> argparse.Namespace:
    parser = doc_parser(__doc__)
    add_model_args(parser)
    parser.add_argument("--n", type=int, default=30, help="SST-2 dev sentences to explain")
    parser.add_argument(
        "--naive-n",
        type=int,
        default=10,
        help="how many of them also run the naive one-text-at-a-time baseline",
    )
    parser.add_argument(
        "--min-words",
        type=int,
        default=8,
        help="skip dev sentences shorter than this (too few words to explain)",
    )
    parser.add_argument("--max-evals", type=int, default=500)
    parser.add_argument("--num-samples", type=int, default=1000)
    parser.add_argument("--profile", action="store_true", help="also cProfile one of each")
    add_machine_args(parser)
    parser.add_argument("--out", type=Path, default=RESULTS / "explain_overhead.json")
    return parser.parse_args()


def print_results(results: dict) -> None:
    rows = [{k: v for k, v in r.items() if k != "rows"} for r in results.values()]
    print("\nper explanation (medians); ratio = explanation / same model calls replayed alone")
    print_table(
        rows,
        [
            ("method", "method", ""),
            ("setting", "setting", ""),
            ("median_seconds", "s/expl", ".3f"),
            ("median_model_seconds", "model s", ".3f"),
            ("median_ratio", "ratio", ".2f"),
            ("total_ratio", "ratio(sum)", ".2f"),
            ("median_cpu_ratio", "cpu ratio", ".2f"),
            ("median_calls", "calls", ".0f"),
            ("median_texts_per_call", "texts/call", ".1f"),
            ("median_direct_naive_seconds", "naive s", ".3f"),
            ("speedup_vs_naive", "x naive", ".1f"),
            ("median_direct_batched_seconds", "direct s", ".3f"),
            ("speedup_vs_direct_batched", "x direct", ".2f"),
        ],
    )


def check_targets(results: dict) -> dict:
    """Overhead ratio <= 1.3 per method, printed met or MISSED."""
    targets = {
        f"{m}_overhead_ratio": {
            "target": "<= 1.3",
            "measured": r["median_ratio"],
            "met": r["median_ratio"] <= 1.3,
        }
        for m, r in results.items()
    }
    for key, t in targets.items():
        print(
            f"target {key} {t['target']}: measured {t['measured']:.2f} -> "
            f"{'met' if t['met'] else 'MISSED'}"
        )
    return targets


def main() -> None:
    args = parse_args()
    set_threads(args)
    clf = default_model(args)
    _, dev = load_sst2(args.sst2, download=False)
    long_enough = [t for t in dev.texts if len(clf.tokenizer_.words(t)) >= args.min_words]
    warmup_text, texts = long_enough[0], long_enough[1 : args.n + 1]
    load_start = start_load(args)
    words = [len(clf.tokenizer_.words(t)) for t in texts]
    print(
        f"{len(texts)} SST-2 dev sentences, {min(words)}-{max(words)} words "
        f"(median {statistics.median(words)}); load {load_start}",
        flush=True,
    )
    cold = warm_up(clf, warmup_text, args)
    print(
        "first call in this process (not in the ratios): shap "
        f"{cold['shap_first_call_seconds']:.1f} s (shap's numba JIT), "
        f"lime {cold['lime_first_call_seconds']:.2f} s",
        flush=True,
    )
    results = measure(clf, texts, args)
    print_results(results)
    targets = check_targets(results)
    profiles = profile_one(clf, texts[0], args) if args.profile else {}
    for method, text in profiles.items():
        print(f"\n--- cProfile, one {method} explanation ---\n" + "\n".join(text.splitlines()[:45]))
    write_record(
        args.out,
        "explain_overhead",
        command_line("explain_overhead.py", args),
        load_start,
        model_config=clf.model_.config.to_dict(),
        sentences=len(texts),
        first_calls=cold,
        results=results,
        targets=targets,
        profiles=profiles,
    )


if __name__ == "__main__":
    main()
