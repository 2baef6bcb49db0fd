"""``workbench analyze``: a model across a table of texts: slices, the words that go with
its errors, global word attributions and behavioural tests, as JSON and an HTML report
(:func:`workbench.analysis.report.analyze` behind a command line)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from workbench.cli.common import MODEL_HELP, _check_output_file, _load, _write_output
from workbench.errors import InputError

# Rows from which predicting prints an estimate first (report.PREDICT_ESTIMATE_FROM).
PREDICT_ESTIMATE_FROM = 2_000
# The methods global attributions take (workbench.analysis.report.ATTRIBUTION_METHODS; a
# test checks that they agree), written out so that --help imports neither torch nor shap.
ATTRIBUTION_METHODS = ("shap", "lime", "integrated-gradients", "gradient-x-input")
# The label column looked for when --label-col is not given.
DEFAULT_LABEL_COL = "label"
# The two sentiment classes the behavioural tests need told apart.
SIDES = ("positive", "negative")


def _add_analyze_arguments(analyze: argparse.ArgumentParser) -> None:
    analyze.description = (
        "Analyse a saved model on a table of texts: accuracy per slice (length thirds, each "
        "value of a column of categories, the least confident quarter, and any --slice-word, "
        "--slice-regex or --slice-col) with bootstrap intervals and Holm-corrected tests "
        "against the rest; the words whose presence goes with errors; the words the model "
        "relies on across the data (global attributions); and behavioural tests. Prints a "
        "summary; --json and --html write the full report. Without labels the slices give "
        "their sizes only and discovery is skipped; global attributions and behavioural "
        "tests that need no label still run."
    )
    analyze.epilog = (
        f"Large files: predicting reads every row (an estimate is printed first on "
        f"{PREDICT_ESTIMATE_FROM:,} rows or more; --max-rows samples the table); "
        "explaining costs tens to hundreds of model calls per text, so global attributions, "
        "behavioural tests and the map use at most --max-texts texts (a random sample), and "
        "global attributions print an estimate before a long run."
    )
    analyze.add_argument("--model", required=True, type=Path, metavar="DIR", help=MODEL_HELP)
    analyze.add_argument(
        "--data",
        required=True,
        type=Path,
        metavar="FILE",
        help="table of texts (CSV, TSV, JSONL, Parquet)",
    )
    analyze.add_argument(
        "--text-col", default="text", metavar="COLUMN", help="column holding the texts (text)"
    )
    analyze.add_argument(
        "--label-col",
        metavar="COLUMN",
        help=f"column holding the true labels (default: {DEFAULT_LABEL_COL!r} when the table "
        "has it; a table without labels is analysed without them)",
    )
    analyze.add_argument("--encoding", default="utf-8", help="file encoding, e.g. latin-1")
    analyze.add_argument("--json", type=Path, metavar="OUT", help="write the report as JSON")
    analyze.add_argument(
        "--html", type=Path, metavar="OUT", help="write the report as a self-contained page"
    )

    slices = analyze.add_argument_group("slices")
    slices.add_argument(
        "--slice-word",
        action="append",
        default=[],
        metavar="WORD",
        help="also measure the texts holding WORD (a word or phrase, any case); repeatable",
    )
    slices.add_argument(
        "--slice-regex",
        action="append",
        default=[],
        metavar="PATTERN",
        help="also measure the texts a regular expression matches (any case); repeatable",
    )
    slices.add_argument(
        "--slice-col",
        action="append",
        default=[],
        metavar="COLUMN",
        help="also measure one slice per value of COLUMN (a column of categories); "
        "repeatable (columns with 2 to 30 distinct values get these slices without asking)",
    )
    slices.add_argument(
        "--no-discovery", action="store_true", help="skip the search for error-prone words"
    )
    slices.add_argument(
        "--min-support",
        type=int,
        metavar="N",
        default=20,
        help="discovery: a word must be in at least this many texts (20)",
    )
    slices.add_argument(
        "--top",
        type=int,
        default=20,
        metavar="N",
        help="discovery: words reported, largest drop first (20)",
    )

    words = analyze.add_argument_group("global attributions")
    words.add_argument(
        "--method",
        default="auto",
        choices=("auto", *ATTRIBUTION_METHODS),
        help="auto: integrated-gradients for a model with a torch network (the fastest), "
        "shap for any other (TF-IDF, scikit-learn); gradient methods need a torch network",
    )
    words.add_argument(
        "--no-attributions", action="store_true", help="skip the global attributions"
    )
    budget = words.add_mutually_exclusive_group()
    budget.add_argument(
        "--max-evals",
        type=int,
        default=500,
        metavar="N",
        help="SHAP model evaluations per text (500)",
    )
    budget.add_argument(
        "--num-samples", type=int, default=1000, metavar="N", help="LIME samples per text (1000)"
    )
    words.add_argument(
        "--steps", type=int, default=50, metavar="N", help="integrated-gradients steps (50)"
    )

    behaviour = analyze.add_argument_group("behavioural tests")
    behaviour.add_argument(
        "--no-behaviour", action="store_true", help="skip the behavioural test suite"
    )
    for side, example in zip(SIDES, ("1", "0"), strict=True):
        behaviour.add_argument(
            f"--{side}",
            metavar="CLASS",
            help=f"the model's class for {side} sentiment, when its class names do not say "
            f"(e.g. {example} for 0/1 labels)",
        )

    analyze.add_argument(
        "--map",
        action="store_true",
        help="also draw the explained texts on a PCA map of the model's representations "
        "(the HTML report; right and wrong predictions coloured)",
    )

    cost = analyze.add_argument_group("cost")
    cost.add_argument(
        "--max-texts",
        type=int,
        metavar="N",
        default=500,
        help="the most texts explained and perturbed; a random sample when there are more (500)",
    )
    cost.add_argument(
        "--max-rows",
        type=int,
        metavar="N",
        help="analyse a random sample of this many rows of the table (default: every row)",
    )
    cost.add_argument(
        "--bootstrap",
        type=int,
        default=1000,
        metavar="N",
        help="bootstrap resamples per interval (1000)",
    )
    cost.add_argument("--seed", type=int, default=0, metavar="N", help="seed of the samples (0)")
    cost.add_argument("--device", default="cpu", help="cpu, cuda, mps or auto (cpu)")


def _analyze(args: argparse.Namespace) -> None:
    from workbench.analysis.report import analyze, choose_attribution_method, score_examples
    from workbench.analysis.slices import Slice, slices_by_column, suggested_slices
    from workbench.data import plain_labels

    _check_output_file(args.json, "--json")
    _check_output_file(args.html, "--html")
    for flag, value, minimum in (
        ("--max-texts", args.max_texts, 1),
        ("--max-rows", args.max_rows, 1),
        ("--min-support", args.min_support, 1),
        ("--top", args.top, 1),
        ("--bootstrap", args.bootstrap, 1),
        ("--max-evals", args.max_evals, 1),
        ("--num-samples", args.num_samples, 1),
        ("--steps", args.steps, 1),
    ):
        if value is not None and value < minimum:
            raise InputError(f"{flag} must be at least {minimum}, got {value}")
    texts, labels, columns, label_col, rows = _read(args)
    clf = _load(args)
    # Refused before the texts are scored: a gradient method for a model without a network.
    method = None if args.no_attributions else choose_attribution_method(clf, args.method)
    classes = plain_labels(clf.classes_)
    sides = {side: _class_named(getattr(args, side), side, classes) for side in SIDES}
    if labels is not None:
        unknown = sorted({y for y in labels if y not in classes}, key=str)
        if unknown:
            raise InputError(
                f"{args.data}: labels {unknown[:10]} in column {label_col!r} are unknown to the "
                f"model (it knows {classes}); check --label-col or the label spelling"
            )
    examples = score_examples(clf, texts, labels, columns=columns, source=str(args.data))
    slices = suggested_slices(examples)
    named = {item.name for item in slices}
    extra = [Slice.contains_word(word) for word in args.slice_word]
    extra += [Slice.regex(pattern) for pattern in args.slice_regex]
    for column in args.slice_col:
        extra += slices_by_column(examples, column)
    slices += [item for item in extra if item.name not in named]
    settings = {
        "shap": {"max_evals": args.max_evals},
        "lime": {"num_samples": args.num_samples},
        "integrated-gradients": {"n_steps": args.steps},
    }
    report = analyze(
        clf,
        examples,
        slices=slices,
        discover=not args.no_discovery,
        attributions=not args.no_attributions,
        method=method,
        max_texts=args.max_texts,
        behaviour=not args.no_behaviour,
        embedding_map=args.map,
        **sides,
        min_support=args.min_support,
        top=args.top,
        n_bootstrap=args.bootstrap,
        seed=args.seed,
        name=str(args.model),
        **settings.get(method or "", {}),
    )
    report.data |= {
        "text_col": args.text_col,
        "label_col": label_col,
        "rows": rows,
    }
    print(report.summary())
    for path, flag, write, what in (
        (args.json, "--json", report.to_json, "JSON report"),
        (args.html, "--html", report.to_html, "HTML report"),
    ):
        if path is not None:
            print(f"{what} written to {_write_output(path, flag, write)}")
    for note in report.notes:
        if "could not be" in note:
            hint = " (CLI: --positive CLASS --negative CLASS)" if "positive=" in note else ""
            print(f"workbench: warning: {note}{hint}", file=sys.stderr)


def _class_named(name: str | None, side: str, classes: list):
    """The model's class written as ``name`` on the command line (``1`` is the class 1)."""
    if name is None:
        return None
    for label in classes:
        if str(label) == name:
            return label
    raise InputError(f"--{side} {name!r} is not one of the model's classes {classes}")


def _read(args: argparse.Namespace):
    """The texts, the labels (None without a label column), every other column for
    slices, and the label column used."""
    import numpy as np
    import pandas as pd

    from workbench.data.tables import labeled_from_columns, read_columns

    columns = read_columns(args.data, encoding=args.encoding)
    label_col = args.label_col
    if label_col is None and DEFAULT_LABEL_COL in columns:
        label_col = DEFAULT_LABEL_COL
    data = labeled_from_columns(args.data, columns, args.text_col, label_col, min_classes=1)
    if label_col is None:
        print(
            f"note: {args.data} has no {DEFAULT_LABEL_COL!r} column, so it is analysed without "
            "labels (name the label column with --label-col)",
            file=sys.stderr,
        )
    others = pd.DataFrame(
        {
            name: values
            for name, values in columns.items()
            if name not in (args.text_col, label_col)
        },
        index=pd.RangeIndex(len(data.texts)),
    )
    for name in args.slice_col:
        if name not in others.columns:
            listed = ", ".join(repr(c) for c in columns)
            raise InputError(
                f"{args.data}: --slice-col {name!r} is not a column; the columns are {listed}"
            )
    texts, labels, rows = data.texts, data.labels, len(data.texts)
    if args.max_rows is not None and args.max_rows < rows:
        chosen = np.sort(
            np.random.default_rng(args.seed).choice(rows, args.max_rows, replace=False)
        )
        texts = [texts[i] for i in chosen]
        labels = None if labels is None else [labels[i] for i in chosen]
        others = others.iloc[chosen].reset_index(drop=True)
        print(
            f"note: analysing a random sample of {args.max_rows} of the {rows} "
            f"rows (--max-rows, --seed {args.seed})",
            file=sys.stderr,
        )
    return texts, labels, others, label_col, rows
