"""``workbench compare``: several models on one split, a leaderboard and pairwise tests."""

from __future__ import annotations

import argparse
from pathlib import Path

from workbench.cli.common import _check_output_file, _data_args, _write_output
from workbench.errors import InputError

DEFAULT_COMPARE_MODELS = "tfidf-logreg,bag-of-embeddings,transformer-small,transformer-base"


def _add_compare_arguments(compare: argparse.ArgumentParser) -> None:
    compare.description = (
        "Train several models on the same data with the same seed, score them on the same "
        "test set and print a leaderboard (accuracy and macro-F1 with bootstrap 95% "
        "intervals, ECE, training time, latency, throughput, parameters, artifact size) and "
        "McNemar's exact test for every pair (Holm-corrected)."
    )
    compare.add_argument("--data", required=True, type=Path, help="training table")
    compare.add_argument(
        "--test", type=Path, help="test table (default: a stratified 20%% of --data)"
    )
    _data_args(compare)
    compare.add_argument(
        "--models",
        default=DEFAULT_COMPARE_MODELS,
        help=f"comma-separated registered model names ({DEFAULT_COMPARE_MODELS})",
    )
    compare.add_argument("--seed", type=int, default=0, help="random seed (0)")
    compare.add_argument(
        "--epochs", type=int, help="maximum epochs of the torch models (default: their own)"
    )
    compare.add_argument("--json", type=Path, help="write the full comparison to this JSON file")
    compare.add_argument("--html", type=Path, help="write a report page with figures here")
    compare.add_argument("--quiet", action="store_true", help="no progress bar")


def _compare(args: argparse.Namespace) -> None:
    from workbench.compare import compare, format_significance, registered_models, resolve_models
    from workbench.data import load_table, stratified_split

    names = [name.strip() for name in args.models.split(",") if name.strip()]
    if not names:
        raise InputError(
            f"--models names no model; registered models are: {', '.join(registered_models())}"
        )
    if args.epochs is not None and args.epochs < 1:
        raise InputError(f"--epochs must be at least 1, got {args.epochs}")
    # Unknown names fail here, before the data is read.
    models = resolve_models(names, args.seed, {"num_epochs": args.epochs})
    _check_output_file(args.json, "--json")
    _check_output_file(args.html, "--html")
    data = load_table(args.data, args.text_col, args.label_col, encoding=args.encoding)
    if args.test is not None:
        train = data
        test = load_table(args.test, args.text_col, args.label_col, encoding=args.encoding)
    else:
        # stratified_split's "validation" part is the held-out 20% used as the test set.
        train, test, _ = stratified_split(data, val_size=0.2, seed=args.seed)
    result = compare(models, train, test, seed=args.seed, progress=not args.quiet)
    print(f"trained on {len(train)} texts, tested on {len(test)} ({test.source})")
    print(result.summary())
    print()
    print("pairwise: McNemar exact test (Holm-corrected), paired bootstrap 95% CI of acc_diff")
    print(format_significance(result.significance()))
    if args.json is not None:
        print(f"JSON written to {_write_output(args.json, '--json', result.to_json)}")
    if args.html is not None:
        print(f"HTML report written to {_write_output(args.html, '--html', result.to_html)}")
