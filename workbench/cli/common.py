"""What the commands share: the table options, loading a model, and output files that are
checked before the work and written atomically.

The parsers are built from this module without importing torch: the storage layer loads
inside the functions that run a command.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from workbench.errors import InputError


def _data_args(parser: argparse.ArgumentParser, *, labels: bool = True) -> None:
    parser.add_argument("--text-col", default="text", help="column holding the texts (text)")
    if labels:
        parser.add_argument("--label-col", default="label", help="column holding the labels")
    parser.add_argument("--encoding", default="utf-8", help="file encoding, e.g. latin-1")


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


MODEL_HELP = "artifact directory, or a Hugging Face classifier directory (safetensors)"


def _load(args: argparse.Namespace, device: str | None = None):
    """Any model directory: a workbench artifact or a Hugging Face classifier."""
    from workbench.artifacts import load_model

    return load_model(args.model, device=device or args.device)


def _check_output_file(path: Path | None, flag: str) -> None:
    """Before the work: ``path`` (if given) is a file that can be written, in a folder that
    exists or can be made, or one line says which and why."""
    if path is None:
        return
    if path.is_dir():
        raise InputError(f"{flag} {path} is a directory; give a file name")
    from workbench.artifacts import check_can_create

    check_can_create(path, f"{flag} {path}")


def _write_output(path: Path, flag: str, write: Callable[[Path], object]) -> Path:
    """``write`` the file atomically (neither a failure nor a signal leaves half a file);
    an OSError is one line naming the file."""
    from workbench.artifacts import atomic_write

    try:
        return atomic_write(path, write)
    except OSError as exc:
        raise InputError(f"cannot write {flag} {path}: {exc.strerror or exc}") from exc
