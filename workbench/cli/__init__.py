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

One module per concern: ``common`` (table options, loading a model, output files),
``interrupts`` (Ctrl-C and SIGTERM), ``train``, ``score`` (evaluate and predict),
``explain`` and ``compare``; this one builds the parser and runs a command.
"""

from __future__ import annotations

import argparse
import functools
import signal
import sys
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path

from workbench.cli.common import _flag
from workbench.cli.compare import _add_compare_parser, _compare
from workbench.cli.explain import _add_explain_parser, _explain
from workbench.cli.interrupts import (
    _interrupted_exit_code,
    _on_sigterm,
    _print_interrupted,
    _received,
)
from workbench.cli.score import _add_evaluate_parser, _add_predict_parser, _evaluate, _predict
from workbench.cli.train import _CONFIG_FIELDS as _CONFIG_FIELDS
from workbench.cli.train import _add_train_parser, _train
from workbench.cli.train import _classifier as _classifier
from workbench.data import check_utf8
from workbench.errors import InputError
from workbench.serve import add_serve_parser, serve_command
from workbench.version import __version__

__all__ = ["build_parser", "main"]


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


_COMMANDS = {
    "train": _train,
    "evaluate": _evaluate,
    "predict": _predict,
    "explain": _explain,
    "compare": _compare,
    "serve": serve_command,
}


def _show_warning(python_way, message, category, filename, lineno, file=None, line=None):
    """The library's own warnings as one line; anyone else's the way Python shows them."""
    # parents[1]: the workbench package, of which this CLI is one part.
    if Path(filename).resolve().is_relative_to(Path(__file__).resolve().parents[1]):
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
