"""``workbench explain``: one text (top words, ``--json``, ``--html``) or a table of texts
(``--data``, one explanation per line in ``--jsonl``)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from workbench.cli.common import MODEL_HELP, _check_output_file, _data_args, _load, _write_output
from workbench.errors import InputError

# What --method and --shap-algorithm offer, and the exact algorithm's limit, as
# workbench.explain defines them (METHODS, SHAP_ALGORITHMS, MAX_EXACT_WORDS; a test checks
# that they agree), written out so that `workbench explain --help` imports neither torch
# nor shap to list them.
METHOD_NAMES = ("shap", "lime", "integrated-gradients", "gradient-x-input", "attention")
SHAP_ALGORITHMS = ("partition", "exact")
MAX_EXACT_WORDS = 12


def _add_explain_arguments(explain: argparse.ArgumentParser) -> None:
    explain.description = (
        "Explain the model's prediction for TEXT: one attribution per word per class, by "
        "SHAP, LIME, integrated gradients, gradient x input or attention. Prints the top "
        "words; --json and --html write the full result. With --data FILE every text of the "
        "table is explained and --jsonl writes one explanation per line; under torchrun the "
        "texts are shared out between the processes."
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
        choices=METHOD_NAMES,
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


def _explain(args: argparse.Namespace) -> None:
    from workbench.explain import explain

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
    print(
        base
        if base is not None
        else "no base value: these values do not add up to the prediction; compare their sizes"
    )
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
    from workbench.data import load_table
    from workbench.distributed import is_main_process
    from workbench.explain import FailedExplanation, explain

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
