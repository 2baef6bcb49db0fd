"""``workbench serve`` on the command line: its options, checked, handed to :func:`run`.

The options need only :class:`ServeLimits`; the server (and the model) load when it runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from workbench.errors import InputError
from workbench.serve.limits import ServeLimits

# (flag, ServeLimits field, type, help)
_LIMIT_OPTIONS = [
    ("--max-text-chars", "max_text_chars", int, "longest text accepted, in characters"),
    ("--max-texts", "max_texts", int, "most texts in one /predict list"),
    ("--max-body-bytes", "max_body_bytes", int, "largest request body, in bytes"),
    ("--max-batch", "max_batch", int, "most texts scored in one model call"),
    ("--batch-wait-ms", "batch_wait_ms", float, "how long a text waits for others to batch"),
    ("--explain-queue", "explain_queue", int, "explanations running or waiting at once"),
    ("--max-evals", "max_evals", int, "highest SHAP max_evals a request may ask for"),
    ("--max-num-samples", "max_num_samples", int, "highest LIME num_samples"),
    ("--max-steps", "max_steps", int, "highest integrated-gradients steps"),
]


def add_serve_parser(commands: argparse._SubParsersAction) -> None:
    """Add ``workbench serve`` to the CLI's subcommands."""
    from workbench.cli import COMMAND_HELP

    add_serve_arguments(commands.add_parser("serve", help=COMMAND_HELP["serve"]))


def add_serve_arguments(serve: argparse.ArgumentParser) -> None:
    """The options of ``workbench serve``, added to its parser."""
    serve.description = (
        'Serve a saved model over HTTP: POST /predict ({"text": ...} or {"texts": [...]}), '
        'POST /explain ({"text": ..., "method": ...}; the JSON of `workbench explain '
        "--json`), GET /health and GET /model. Concurrent predictions are batched into one "
        "model call; explanations run one at a time beside them. Needs the serve extra "
        "(pip install -e '.[serve]')."
    )
    serve.add_argument("--model", required=True, type=Path, help="model directory to serve")
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (127.0.0.1: this machine only; 0.0.0.0 exposes it)",
    )
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (8000)")
    serve.add_argument("--device", default="cpu", help="cpu, cuda, mps or auto (cpu)")
    serve.add_argument(
        "--threads",
        type=int,
        help="torch threads for the model (default: torch's choice, one per core)",
    )
    defaults = ServeLimits()
    for flag, name, kind, help_text in _LIMIT_OPTIONS:
        default = getattr(defaults, name)
        serve.add_argument(flag, type=kind, default=default, help=f"{help_text} ({default})")
    serve.add_argument("--access-log", action="store_true", help="log every request")


def serve_command(args: argparse.Namespace) -> None:
    """``workbench serve``: check the options, load the model, serve until Ctrl-C."""
    if not 0 <= args.port <= 65535:
        raise InputError(f"--port must be between 0 and 65535, got {args.port}")
    if args.threads is not None and args.threads < 1:
        raise InputError(f"--threads must be at least 1, got {args.threads}")
    limits = {name: getattr(args, name) for _, name, _, _ in _LIMIT_OPTIONS}
    for flag, name, _, _ in _LIMIT_OPTIONS:
        if name == "batch_wait_ms" and not limits[name] >= 0:
            raise InputError(f"{flag} must be 0 or more, got {limits[name]}")
        if name != "batch_wait_ms" and not limits[name] > 0:
            raise InputError(f"{flag} must be positive, got {limits[name]}")
    from workbench.serve.server import run

    run(
        args.model,
        host=args.host,
        port=args.port,
        device=args.device,
        threads=args.threads,
        access_log=args.access_log,
        **limits,
    )
