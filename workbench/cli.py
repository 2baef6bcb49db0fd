"""``workbench`` / ``python -m workbench``: train, evaluate, predict, explain, compare and serve.

Every subcommand has ``--help``, reads plain files (CSV, TSV, JSONL, Parquet) and writes
plain files (an artifact directory, JSON). Exit codes:

- 0 on success; ``explain --data`` also when some texts could not be explained (their
  lines in ``--jsonl`` hold the error, and a warning line says how many);
- 2 with a one-line ``workbench: error: ...`` message on bad input (including an output
  path that cannot be written, checked before the work starts), never a traceback for a
  user mistake;
- 130 after Ctrl-C, 143 after SIGTERM (which is handled like Ctrl-C, so temporary files
  are removed): ``train`` saves the best weights so far once an epoch has been validated,
  and writes nothing before that.

Output files are written to a temporary name and renamed, so an interruption never leaves
half a file.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import signal
import sys
import threading
import typing
import warnings
from collections.abc import Callable, Sequence
from dataclasses import Field, fields
from pathlib import Path
from typing import Any

from workbench.artifacts import atomic_write, check_can_create, check_output_directory, load_model
from workbench.classifier import TextClassifier
from workbench.config import ModelConfig, TokenizerConfig, TrainConfig
from workbench.data import check_utf8, load_table, stratified_split
from workbench.distributed import is_main_process
from workbench.errors import InputError
from workbench.evaluate import evaluate
from workbench.explain import METHODS, FailedExplanation, explain
from workbench.explain.perturbation import MAX_EXACT_WORDS, SHAP_ALGORITHMS
from workbench.pretrained import finetuned_encoder
from workbench.serve import add_serve_parser, serve_command
from workbench.train import Callback, TrainState
from workbench.version import __version__


def _data_args(parser: argparse.ArgumentParser, *, labels: bool = True) -> None:
    parser.add_argument("--text-col", default="text", help="column holding the texts (text)")
    if labels:
        parser.add_argument("--label-col", default="label", help="column holding the labels")
    parser.add_argument("--encoding", default="utf-8", help="file encoding, e.g. latin-1")


# The config fields `workbench train` offers: each flag is named after its field
# (--num-layers) and takes its type, default and help from it. Those a pretrained encoder
# takes too (its parameters have the same names) also apply to --encoder, with the
# encoder recipe's defaults; the rest shape the from-scratch transformer only.
TRAIN_FIELDS = (
    "num_epochs", "batch_size", "learning_rate", "max_length", "weight_decay",
    "label_smoothing", "max_steps", "d_model", "num_layers", "num_heads", "dropout",
    "min_frequency", "seed", "device",
)  # fmt: skip
# The shorter spellings these flags had before they were named after the fields.
FLAG_ALIASES = {"num_epochs": "--epochs", "num_layers": "--layers", "num_heads": "--heads"}
# Each field by name, with the config that holds it (no name is in two of them).
_CONFIG_FIELDS = {
    f.name: (kind, f) for kind in (TokenizerConfig, ModelConfig, TrainConfig) for f in fields(kind)
}
# Said after the encoder's default where its unit differs: it counts word pieces.
_ENCODER_UNITS = {"max_length": " word pieces"}


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _encoder_recipe() -> dict:
    """The settings ``--encoder`` trains with unless a flag says otherwise."""
    return finetuned_encoder().get_params()


def _add_config_flags(parser: argparse.ArgumentParser) -> None:
    """A flag for each of ``TRAIN_FIELDS``, with default ``None``: only a flag given changes
    a setting, since the encoder and the transformer default differently."""
    encoder_recipe = _encoder_recipe()
    for name in TRAIN_FIELDS:
        kind, field = _CONFIG_FIELDS[name]
        value_type = _flag_type(kind, name)
        parser.add_argument(
            _flag(name),
            *([FLAG_ALIASES[name]] if name in FLAG_ALIASES else []),
            dest=name,
            type=value_type,
            metavar={int: "INT", float: "FLOAT"}.get(value_type, name.upper()),
            help=_flag_help(field, encoder_recipe),
        )


def _flag_type(kind: type, name: str) -> type:
    """The field's type, ``None`` aside: int, float or str (any other needs its own flag)."""
    hint = typing.get_type_hints(kind)[name]
    types = [t for t in typing.get_args(hint) or [hint] if t is not type(None)]
    if types not in ([int], [float], [str]):
        raise TypeError(f"{kind.__name__}.{name} is {hint}: add its flag by hand")
    return types[0]


def _flag_help(field: Field, encoder_recipe: dict) -> str:
    """The field's help, its default, the encoder's default where it differs (or counts
    otherwise), or that the flag does not go with --encoder."""
    defaults = [] if field.default is None else [str(field.default)]
    encoder_default = encoder_recipe.get(field.name, field.default)
    if encoder_default != field.default or field.name in _ENCODER_UNITS:
        units = _ENCODER_UNITS.get(field.name, "")
        defaults.append(f"{encoder_default}{units} with --encoder")
    text = field.metadata["help"] + (f" ({'; '.join(defaults)})" if defaults else "")
    return text if field.name in encoder_recipe else f"{text}; not with --encoder"


MODEL_HELP = "artifact directory, or a Hugging Face classifier directory (safetensors)"


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "workbench" / "teacher-probabilities"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workbench",
        description="Train, evaluate and run transformer text classifiers.",
        epilog="Run `workbench COMMAND --help` for the options of each command.",
    )
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_train_parser(commands)
    _add_evaluate_parser(commands)
    _add_predict_parser(commands)
    _add_explain_parser(commands)
    _add_compare_parser(commands)
    add_serve_parser(commands)
    return parser


def _add_train_parser(commands) -> None:
    train = commands.add_parser(
        "train",
        help="train a model on a labelled table and save the artifact",
        description="Train a from-scratch transformer classifier on a labelled table, or "
        "fine-tune a pretrained encoder with --encoder, and save the artifact directory "
        "(weights, configs, tokenizer, metrics).",
    )
    train.add_argument(
        "--data", required=True, type=Path, help="training table (CSV/TSV/JSONL/Parquet)"
    )
    train.add_argument(
        "--val", type=Path, help="validation table (default: 10%% of --data, stratified)"
    )
    _data_args(train)
    train.add_argument(
        "--out", type=Path, default=Path("runs/model"), help="artifact directory (runs/model)"
    )
    train.add_argument(
        "--encoder",
        metavar="minilm|PATH",
        help="fine-tune a pretrained encoder instead: 'minilm' (the bundled "
        "all-MiniLM-L6-v2) or a local Hugging Face model directory",
    )
    train.add_argument(
        "--teacher",
        type=Path,
        metavar="DIR",
        help="distil the transformer from this trained model's probabilities (any model "
        "directory, e.g. one written by --encoder)",
    )
    train.add_argument(
        "--augment",
        type=int,
        default=8,
        help="with --teacher: augmented copies of each text, labelled by the teacher (8)",
    )
    train.add_argument(
        "--cache-dir",
        type=Path,
        default=_default_cache_dir(),
        help="with --teacher: where the teacher's probabilities are cached, so a second "
        "student run does not run the teacher again (%(default)s)",
    )
    _add_config_flags(train)
    train.add_argument("--quiet", action="store_true", help="no progress bar")


def _add_evaluate_parser(commands) -> None:
    evaluate = commands.add_parser(
        "evaluate",
        help="score a saved model on a labelled table",
        description="Score a saved model on a labelled table: accuracy and macro-F1 with "
        "bootstrap 95% intervals, per-class scores, ECE and ROC-AUC.",
    )
    evaluate.add_argument("--model", required=True, type=Path, help=MODEL_HELP)
    evaluate.add_argument("--data", required=True, type=Path, help="labelled table")
    _data_args(evaluate)
    evaluate.add_argument("--json", type=Path, help="also write the metrics to this JSON file")
    evaluate.add_argument("--device", default="cpu", help="cpu, cuda, mps or auto (cpu)")


def _add_predict_parser(commands) -> None:
    predict = commands.add_parser(
        "predict",
        help="predict labels for texts; one JSON object per line",
        description="Predict labels for the TEXT arguments or the texts of --data; prints one "
        "JSON object per line with the text, the label and the class probabilities.",
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


def _add_explain_parser(commands) -> None:
    explain = commands.add_parser(
        "explain",
        help="explain predictions word by word; JSON, HTML or JSON Lines out",
        description="Explain the model's prediction for TEXT: one attribution per word per "
        "class, by SHAP, LIME, integrated gradients, gradient x input or attention. Prints "
        "the top words; --json and --html write the full result. With --data FILE every "
        "text of the table is explained and --jsonl writes one explanation per line; under "
        "torchrun the texts are shared out between the processes.",
    )
    explain.add_argument("--model", required=True, type=Path, help=MODEL_HELP)
    explain.add_argument("text", nargs="?", metavar="TEXT", help="the text to explain")
    explain.add_argument("--data", type=Path, help="table of texts to explain (instead of TEXT)")
    _data_args(explain, labels=False)
    explain.add_argument(
        "--jsonl",
        type=Path,
        help="with --data: one explanation per line; a text that cannot be explained gets "
        'a line {"row", "text", "error"} instead (exit code 2 only when none could be)',
    )
    explain.add_argument(
        "--method",
        default="shap",
        choices=list(METHODS),
        help="explanation method (shap)",
    )
    budget = explain.add_mutually_exclusive_group()
    budget.add_argument(
        "--max-evals", type=int, default=500, help="SHAP partition model evaluations (500)"
    )
    budget.add_argument("--num-samples", type=int, default=1000, help="LIME samples (1000)")
    explain.add_argument(
        "--shap-algorithm",
        choices=SHAP_ALGORITHMS,
        default="partition",
        help="partition: Owen values over shap's word clustering, any length; exact: "
        f"Shapley values by enumeration, texts of up to {MAX_EXACT_WORDS} words (partition)",
    )
    explain.add_argument("--steps", type=int, default=50, help="integrated-gradients steps (50)")
    explain.add_argument("--seed", type=int, default=0, help="LIME sampling seed (0)")
    explain.add_argument("--json", type=Path, help="write the explanation as JSON")
    explain.add_argument("--html", type=Path, help="write a self-contained HTML page")
    explain.add_argument("--device", default="cpu", help="cpu, cuda, mps or auto (cpu)")


class PrintEpochs(Callback):
    """One line per epoch: the mean training loss and the validation metrics."""

    def on_epoch_end(self, state: TrainState) -> None:
        if not is_main_process():  # under torchrun, one line per epoch, not one per rank
            return
        metrics = "  ".join(f"val_{k}={v:.4f}" for k, v in state.metrics.items())
        print(f"epoch {state.epoch + 1}: train_loss={state.epoch_loss:.4f}  {metrics}", flush=True)


def _classifier(args: argparse.Namespace):
    """The unfitted model the train options describe: an encoder or the transformer.

    Only the flags given change a setting; the rest keep the encoder recipe's defaults
    (:func:`~workbench.pretrained.finetuned_encoder`) or the config fields' defaults.
    """
    given = {name: getattr(args, name) for name in TRAIN_FIELDS}
    given = {name: value for name, value in given.items() if value is not None}
    if args.encoder is not None:
        encoder_recipe = _encoder_recipe()
        misplaced = [_flag(name) for name in given if name not in encoder_recipe]
        if misplaced:
            raise InputError(
                f"{', '.join(misplaced)} do(es) not apply to --encoder (a pretrained encoder "
                "brings its own architecture); drop it or train without --encoder"
            )
        return finetuned_encoder(args.encoder, **given)
    settings: dict[type, dict[str, Any]] = {
        kind: {} for kind in (TokenizerConfig, ModelConfig, TrainConfig)
    }
    for name, value in given.items():
        settings[_CONFIG_FIELDS[name][0]][name] = value
    if "d_model" in given:  # the MLP stays twice as wide as the model
        settings[ModelConfig]["d_ff"] = 2 * given["d_model"]
    return TextClassifier(
        model_config=ModelConfig(**settings[ModelConfig]),
        train_config=TrainConfig(**settings[TrainConfig]),
        tokenizer_config=TokenizerConfig(**settings[TokenizerConfig]),
    )


def _train(args: argparse.Namespace) -> int:
    check_output_directory(args.out)  # before the work, not after it
    train = load_table(args.data, args.text_col, args.label_col, encoding=args.encoding)
    validation = None
    if args.val is not None:
        val = load_table(args.val, args.text_col, args.label_col, encoding=args.encoding)
        validation = (val.texts, val.require_labels())
    clf = _classifier(args)
    fit_options: dict[str, Any] = {
        "validation": validation,
        "callbacks": [PrintEpochs()],
        "progress": not args.quiet,
    }
    if args.teacher is not None:
        if args.encoder is not None:
            raise InputError("--teacher distils the transformer; it does not go with --encoder")
        if args.augment < 0:
            raise InputError(f"--augment must be 0 or more, got {args.augment}")
        from workbench.distill import distill

        distill(
            args.teacher,
            train.texts,
            train.require_labels(),
            student=clf,
            augment_per_text=args.augment,
            cache_dir=args.cache_dir,
            **fit_options,
        )
    else:
        clf.fit(train.texts, train.require_labels(), **fit_options)
    history = clf.history_
    if history.interrupted and not history.epochs:
        # An untrained model must never replace a good artifact at --out.
        _print_interrupted(
            f"before the first epoch was validated; nothing written ({args.out} is as it was)"
        )
        return _interrupted_exit_code()
    out = clf.save(args.out)
    if not is_main_process():
        return 0
    best = next((e for e in history.epochs if e["epoch"] == history.best_epoch), None)
    print(f"trained {history.steps} steps in {history.seconds:.1f}s on {history.device}")
    if best is not None:
        print(
            f"best epoch {best['epoch']}: val_accuracy={best['val_accuracy']:.4f}  "
            f"val_macro_f1={best['val_macro_f1']:.4f}"
        )
    print(f"artifact written to {out}")
    if history.interrupted:
        kept = "the last weights" if best is None else f"the best weights (epoch {best['epoch']})"
        _print_interrupted(f"after {len(history.epochs)} epoch(s); {kept} were saved to {out}")
        return _interrupted_exit_code()
    return 0


def _load(args: argparse.Namespace, device: str | None = None):
    """Any model directory: a workbench artifact or a Hugging Face classifier."""
    return load_model(args.model, device=device or args.device)


def _evaluate(args: argparse.Namespace) -> None:
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


def _explain(args: argparse.Namespace) -> None:
    settings = {
        "shap": {"max_evals": args.max_evals, "algorithm": args.shap_algorithm},
        "lime": {"num_samples": args.num_samples, "seed": args.seed},
        "integrated-gradients": {"n_steps": args.steps},
    }.get(args.method, {})
    if (args.text is None) == (args.data is None):
        raise InputError("give either TEXT or --data FILE (a table of texts) to explain")
    if args.data is not None:
        _explain_table(args, settings)
        return
    if args.jsonl is not None:
        raise InputError("--jsonl goes with --data; for one TEXT use --json or --html")
    _check_output_file(args.json, "--json")
    _check_output_file(args.html, "--html")
    clf = _load(args)
    result = explain(clf, args.text, args.method, **settings)
    print(
        f"{result.method}: predicted {result.predicted_label!r} "
        f"(p={result.probabilities[result.predicted_index]:.3f}); "
        f"{result.evaluations} model evaluations"
    )
    base = result.base_value_line()
    if base is not None:
        print(base)
    print(_strongest_words(result))
    for note in result.notes:
        print(f"note: {note}")
    for path, flag, write in (
        (args.json, "--json", result.to_json),
        (args.html, "--html", result.to_html),
    ):
        if path is not None:
            _write_output(path, flag, write)


def _strongest_words(result, k: int = 5) -> str:
    """The ``k`` words with the largest share in either direction, strongest first; the
    attention weights, which have no direction, without a sign."""
    scores = result.for_class(result.predicted_label)
    order = sorted(range(len(scores)), key=lambda i: -abs(scores[i]))[:k]
    if result.kind == "attention":
        lines = [f"  {scores[i]:.4f}  {result.words[i].text}" for i in order]
        return f"the {len(order)} words with the most attention:\n" + "\n".join(lines)
    lines = [f"  {scores[i]:+.4f}  {result.words[i].text}" for i in order]
    return (
        f"the {len(order)} strongest words (+ towards {result.predicted_label!r}, - against):\n"
        + "\n".join(lines)
    )


def _explain_table(args: argparse.Namespace, settings: dict) -> None:
    if args.jsonl is None:
        raise InputError("--data explains many texts: say where to write them with --jsonl OUT")
    if args.json is not None or args.html is not None:
        raise InputError("--json and --html hold one explanation; with --data use --jsonl")
    _check_output_file(args.jsonl, "--jsonl")
    texts = load_table(args.data, args.text_col, None, encoding=args.encoding).texts
    device = args.device
    if device == "cuda" and "LOCAL_RANK" in os.environ:  # torchrun: one GPU per process
        device = f"cuda:{os.environ['LOCAL_RANK']}"
    clf = _load(args, device)
    results = explain(clf, texts, args.method, errors="record", **settings)
    if not is_main_process():
        return
    failed = [row for row, r in enumerate(results, start=1) if isinstance(r, FailedExplanation)]
    if len(failed) == len(results):  # e.g. a setting every text trips on: say it once
        first = results[0]
        assert isinstance(first, FailedExplanation)  # every one failed
        raise InputError(
            f"{args.data}: none of the {len(results)} texts could be explained; data row 1: "
            f"{first.error}"
        )

    def write(path: Path) -> None:
        with open(path, "w", encoding="utf-8") as out:
            for row, result in enumerate(results, start=1):
                record = result.to_dict()
                if isinstance(result, FailedExplanation):
                    record = {"row": row, **record}
                out.write(json.dumps(record, ensure_ascii=False) + "\n")

    _write_output(args.jsonl, "--jsonl", write)
    print(f"{len(results) - len(failed)} {args.method} explanations written to {args.jsonl}")
    if failed:
        rows = ", ".join(map(str, failed[:5])) + (", ..." if len(failed) > 5 else "")
        print(
            f"workbench: warning: {len(failed)} of {len(results)} texts could not be explained "
            f"(data rows {rows}); their lines in {args.jsonl} hold the error",
            file=sys.stderr,
        )


DEFAULT_COMPARE_MODELS = "tfidf-logreg,bag-of-embeddings,transformer-small,transformer-base"


def _add_compare_parser(commands) -> None:
    compare = commands.add_parser(
        "compare",
        help="train several models on one split and print a leaderboard",
        description="Train several models on the same data with the same seed, score them on "
        "the same test set and print a leaderboard (accuracy and macro-F1 with bootstrap 95% "
        "intervals, ECE, training time, latency, throughput, parameters, artifact size) and "
        "McNemar's exact test for every pair (Holm-corrected).",
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


def _check_output_file(path: Path | None, flag: str) -> None:
    """Before the work: ``path`` (if given) is a file that can be written, in a folder that
    exists or can be made, or one line says which and why."""
    if path is None:
        return
    if path.is_dir():
        raise InputError(f"{flag} {path} is a directory; give a file name")
    check_can_create(path, f"{flag} {path}")


def _write_output(path: Path, flag: str, write: Callable[[Path], object]) -> Path:
    """``write`` the file atomically (neither a failure nor a signal leaves half a file);
    an OSError is one line naming the file."""
    try:
        return atomic_write(path, write)
    except OSError as exc:
        raise InputError(f"cannot write {flag} {path}: {exc.strerror or exc}") from exc


_COMMANDS = {
    "train": _train,
    "evaluate": _evaluate,
    "predict": _predict,
    "explain": _explain,
    "compare": _compare,
    "serve": serve_command,
}


# The signal that interrupted this run (SIGTERM; Ctrl-C needs no record), for the exit code.
_received: list[int] = []


def _on_sigterm(signum: int, frame) -> None:
    # Raised where the process is, as Ctrl-C's KeyboardInterrupt is: the fit loop stops
    # cleanly, and every `finally` removes its temporary files.
    _received.append(signum)
    raise KeyboardInterrupt


def _interrupted_exit_code() -> int:
    return 128 + (_received[-1] if _received else signal.SIGINT)


def _print_interrupted(detail: str = "") -> None:
    print(f"workbench: interrupted {detail}".rstrip(), file=sys.stderr)


def _show_warning(python_way, message, category, filename, lineno, file=None, line=None):
    """The library's own warnings as one line; anyone else's the way Python shows them."""
    if Path(filename).resolve().is_relative_to(Path(__file__).resolve().parent):
        print(f"workbench: warning: {message}", file=sys.stderr)
    else:
        python_way(message, category, filename, lineno, file, line)


def _check_utf8_arguments(args: argparse.Namespace) -> None:
    """Undecodable bytes in an argument (``$'bad \\xff'``) arrive as lone surrogates."""
    for name, value in vars(args).items():
        items = value if isinstance(value, list) else [value]
        for i, item in enumerate(items):
            if isinstance(item, str):
                where = {"texts": f"TEXT argument {i + 1}", "text": "TEXT"}
                check_utf8([item], where.get(name, _flag(name)), row="")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _received.clear()
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if in_main_thread else None
    try:
        with warnings.catch_warnings():
            warnings.showwarning = functools.partial(_show_warning, warnings.showwarning)
            _check_utf8_arguments(args)
            return _COMMANDS[args.command](args) or 0
    except InputError as exc:
        print(f"workbench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        _print_interrupted()
        return _interrupted_exit_code()
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
