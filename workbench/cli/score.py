"""``workbench evaluate`` (metrics on a labelled table) and ``workbench predict`` (labels
and probabilities, one JSON object per line)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from workbench.cli.common import MODEL_HELP, _check_output_file, _data_args, _load, _write_output
from workbench.errors import InputError


def _add_evaluate_arguments(evaluate: argparse.ArgumentParser) -> None:
    evaluate.description = (
        "Score a saved model on a labelled table: accuracy and macro-F1 with bootstrap 95% "
        "intervals, per-class scores, ECE and ROC-AUC."
    )
    evaluate.add_argument("--model", required=True, type=Path, help=MODEL_HELP)
    evaluate.add_argument("--data", required=True, type=Path, help="labelled table")
    _data_args(evaluate)
    evaluate.add_argument("--json", type=Path, help="also write the metrics to this JSON file")
    evaluate.add_argument("--device", default="cpu", help="cpu, cuda, mps or auto (cpu)")


def _add_predict_arguments(predict: argparse.ArgumentParser) -> None:
    predict.description = (
        "Predict labels for the TEXT arguments or the texts of --data; prints one JSON object "
        "per line with the text, the label and the class probabilities."
    )
    predict.add_argument("--model", required=True, type=Path, help=MODEL_HELP)
    predict.add_argument("texts", nargs="*", metavar="TEXT", help="texts to classify")
    predict.add_argument("--data", type=Path, help="table of texts to classify")
    _data_args(predict, labels=False)
    predict.add_argument("--device", default="cpu", help="cpu, cuda, mps or auto (cpu)")
    predict.add_argument(
        "--precision",
        choices=("float32", "bfloat16"),
        default="float32",
        help="bfloat16: faster on large batches (AMX/AVX-512 CPUs, GPUs); "
        "probabilities differ in the third decimal (float32)",
    )


def _evaluate(args: argparse.Namespace) -> None:
    from workbench.data import load_table
    from workbench.evaluate import evaluate

    _check_output_file(args.json, "--json")
    clf = _load(args)
    # One class is a legitimate test set (only positive reviews): accuracy still means
    # something, and the evaluation notes what does not.
    data = load_table(
        args.data, args.text_col, args.label_col, encoding=args.encoding, min_classes=1
    )
    gold = data.require_labels()
    proba = clf.predict_proba(data.texts)
    known = set(clf.classes_.tolist())
    unseen = sorted({y for y in gold if y not in known}, key=str)
    if unseen:
        raise InputError(
            f"{args.data}: labels {unseen} are unknown to the model (it knows "
            f"{clf.classes_.tolist()}); check --label-col or the label spelling"
        )
    predicted = clf.classes_[proba.argmax(axis=1)].tolist()
    result = evaluate(gold, predicted, proba, labels=clf.classes_.tolist())
    print(result.summary())
    if args.json is not None:
        text = json.dumps(result.to_dict(), indent=2) + "\n"
        _write_output(args.json, "--json", lambda path: path.write_text(text, encoding="utf-8"))


def _predict(args: argparse.Namespace) -> None:
    from workbench.classifier import TextClassifier
    from workbench.data import load_table

    texts = list(args.texts)
    if args.data is not None:
        texts += load_table(args.data, args.text_col, None, encoding=args.encoding).texts
    if not texts:
        raise InputError("nothing to predict: give TEXT arguments or --data FILE")
    clf = _load(args)
    if args.precision == "bfloat16" and not isinstance(clf, TextClassifier):
        raise InputError(
            f"--precision bfloat16 is for workbench transformers; {args.model} holds a "
            f"{type(clf).__name__}: drop --precision"
        )
    options = {"precision": args.precision} if isinstance(clf, TextClassifier) else {}
    labels = clf.classes_.tolist()
    for text, row in zip(texts, clf.predict_proba(texts, **options), strict=True):
        record = {
            "text": text,
            "label": labels[int(row.argmax())],
            "probabilities": {
                str(label): round(float(p), 6) for label, p in zip(labels, row, strict=True)
            },
        }
        print(json.dumps(record, ensure_ascii=False))
