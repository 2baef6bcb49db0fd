"""``workbench`` / ``python -m workbench``: train, evaluate, predict, explain, analyze, compare
and serve.

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

One module per concern: ``common`` (table options, loading a model, output files),
``interrupts`` (Ctrl-C and SIGTERM), ``train``, ``score`` (evaluate and predict),
``explain``, ``analyze``, ``compare``, ``train_seq2seq`` and ``translate`` (sequence to
sequence); this one builds the parser and runs a command.

Starting is cheap: ``workbench --help`` imports none of the command modules, a command's
module is imported (and its options added) only once the command is chosen, and those
modules build their options without torch, scikit-learn, shap or plotly, which load when
the command runs (``tests/test_cli_startup.py`` checks it; ``benchmarks/cli_startup.py``
times it).
"""

from __future__ import annotations

import argparse
import functools
import importlib
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from workbench.cli.common import _flag
from workbench.cli.interrupts import (
    _interrupted_exit_code,
    _on_sigterm,
    _print_interrupted,
    _received,
)
from workbench.errors import InputError
from workbench.version import __version__

__all__ = ["COMMAND_HELP", "build_parser", "main"]

# Each command's line in `workbench --help`, in that order.
COMMAND_HELP = {
    "train": "train a model on a labelled table and save the artifact",
    "evaluate": "score a saved model on a labelled table",
    "predict": "predict labels for texts; one JSON object per line",
    "explain": "explain predictions word by word; JSON, HTML or JSON Lines out",
    "analyze": "a model across a table: slices, error words, global attributions, tests",
    "compare": "train several models on one split and print a leaderboard",
    "serve": "serve a saved model's predictions and explanations over HTTP",
    "train-seq2seq": "train a sequence-to-sequence translator and save the artifact",
    "translate": "translate a sentence with a seq2seq model; explain each generated word",
}
# Each command's module, the function there that adds its options to its parser, and the
# one that runs it; imported only when the command is chosen.
_COMMANDS = {
    "train": ("workbench.cli.train", "_add_train_arguments", "_train"),
    "evaluate": ("workbench.cli.score", "_add_evaluate_arguments", "_evaluate"),
    "predict": ("workbench.cli.score", "_add_predict_arguments", "_predict"),
    "explain": ("workbench.cli.explain", "_add_explain_arguments", "_explain"),
    "analyze": ("workbench.cli.analyze", "_add_analyze_arguments", "_analyze"),
    "compare": ("workbench.cli.compare", "_add_compare_arguments", "_compare"),
    "serve": ("workbench.serve.cli", "add_serve_arguments", "serve_command"),
    "train-seq2seq": (
        "workbench.cli.train_seq2seq",
        "_add_train_seq2seq_arguments",
        "_train_seq2seq",
    ),
    "translate": ("workbench.cli.translate", "_add_translate_arguments", "_translate"),
}


def _command_function(command: str, which: int) -> Callable[..., Any]:
    module, *functions = _COMMANDS[command]
    return getattr(importlib.import_module(module), functions[which])


class _Commands(argparse._SubParsersAction):
    """The subcommands, each of which gets its options only when it is chosen: the parser
    of ``workbench --help`` lists them without importing their modules."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        name = values[0]
        command = self._name_parser_map.get(name)
        if command is not None and not getattr(command, "_options_added", False):
            _command_function(name, 0)(command)
            command._options_added = True
        super().__call__(parser, namespace, values, option_string)


def build_parser() -> argparse.ArgumentParser:
    """The CLI's parser; a command's options are added when its name is parsed."""
    parser = argparse.ArgumentParser(
        prog="workbench",
        description="Train, evaluate and run transformer text classifiers.",
        epilog="Run `workbench COMMAND --help` for the options of each command.",
    )
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", action=_Commands
    )
    for name, help_text in COMMAND_HELP.items():
        commands.add_parser(name, help=help_text)
    return parser


def __getattr__(name: str) -> Any:
    """``_classifier`` and ``_CONFIG_FIELDS`` of the train command, as they were here."""
    if name in ("_classifier", "_CONFIG_FIELDS"):
        return getattr(importlib.import_module("workbench.cli.train"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _show_warning(python_way, message, category, filename, lineno, file=None, line=None):
    """The library's own warnings as one line; anyone else's the way Python shows them."""
    # parents[1]: the workbench package, of which this CLI is one part.
    if Path(filename).resolve().is_relative_to(Path(__file__).resolve().parents[1]):
        print(f"workbench: warning: {message}", file=sys.stderr)
    else:
        python_way(message, category, filename, lineno, file, line)


def _check_utf8_arguments(args: argparse.Namespace) -> None:
    """Undecodable bytes in an argument (``$'bad \\xff'``) arrive as lone surrogates."""
    from workbench.data import check_utf8

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
            return _command_function(args.command, 1)(args) or 0
    except InputError as exc:
        print(f"workbench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        _print_interrupted()
        return _interrupted_exit_code()
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
