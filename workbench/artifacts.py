"""Artifact directories: written atomically, read back without executing anything.

Every model type saves a directory of plain files (JSON and safetensors, never pickle).
:func:`write_artifact` builds it in a temporary sibling directory and renames it into
place, so a crash never leaves half an artifact and an existing one is replaced only by
a complete one; in a ``torchrun`` job only rank 0 writes. :func:`check_artifact` opens
one with a message for each way it can be wrong.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from workbench.distributed import is_main_process
from workbench.errors import InputError
from workbench.version import __version__

# Bumped when a change to the files would make older readers misread them.
ARTIFACT_FORMAT = 1


def write_artifact(directory: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Call ``write(staging_dir)``, then move the finished directory to ``directory``.

    An existing artifact (a directory with ``config.json``) is replaced only once the new
    one is complete; any other non-empty directory is left alone with an error.
    """
    target = Path(directory)
    if not is_main_process():
        return target  # in a torchrun job every rank holds the same model: rank 0 writes
    if target.exists() and not target.is_dir():
        raise InputError(f"{target} is a file; give a directory path for the artifact")
    if target.exists() and not (target / "config.json").is_file() and any(target.iterdir()):
        raise InputError(
            f"{target} exists and is not a workbench artifact; refusing to overwrite it. "
            "Choose an empty or new directory"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.tmp-"))
    try:
        staging.chmod(0o755)  # mkdtemp makes it private; an artifact is meant to be shared
        write(staging)
        if target.exists():
            retired = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, retired)
            os.replace(staging, target)
            shutil.rmtree(retired)
        else:
            os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def check_artifact(
    directory: str | os.PathLike, model_type: str | None, files: Sequence[str]
) -> Path:
    """The artifact path, once it is a directory holding ``files``, of ``model_type``
    (``None``: a ``TextClassifier``, whose config names no type), in a readable format."""
    path = Path(directory)
    kind = model_type or "TextClassifier"
    if not path.is_dir():
        raise InputError(f"{path}: artifact directory not found; check the path (--model)")
    config = read_json(path / "config.json") if (path / "config.json").is_file() else {}
    found = config.get("model_type")
    if config and found != model_type:
        raise InputError(
            f"{path}: holds a {found or 'TextClassifier'!r} artifact, not {kind!r}; "
            "load it with workbench.compare.load_model, which picks the right class"
        )
    missing = [name for name in files if not (path / name).is_file()]
    if missing:
        raise InputError(
            f"{path}: not a complete {kind} artifact (missing {', '.join(missing)}); "
            "save the model again (e.g. `workbench train --out`)"
        )
    written = config.get("artifact_format")
    if not isinstance(written, int) or written > ARTIFACT_FORMAT:
        raise InputError(
            f"{path}: written by workbench {config.get('workbench_version', '?')} in artifact "
            f"format {written!r}; this workbench {__version__} reads format {ARTIFACT_FORMAT} "
            "at most. Upgrade workbench or retrain the model"
        )
    return path


def write_json(path: Path, payload: dict) -> None:
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def read_json(path: Path) -> dict:
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: corrupt JSON ({exc}); save the model again") from exc
    if not isinstance(payload, dict):
        raise InputError(f"{path}: expected a JSON object; save the model again")
    return payload
