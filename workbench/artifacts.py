"""Artifact directories: written atomically, read back without executing anything.

Every model type saves a directory of plain files (JSON and safetensors, never pickle).
:func:`write_artifact` builds it in a hidden sibling directory, flushes it to disk and
swaps it into place in one step, so neither a crash, a kill nor a full disk ever leaves
``--out`` without a complete artifact: it holds the old one or the new one. Saves to one
place are serialised by a lock on the parent directory, and what a killed save left
behind is removed by the next one. In a ``torchrun`` job only rank 0 writes.
:func:`atomic_write` gives one file (a checkpoint, a download, a report) the same promise.
:func:`check_artifact` opens one with a message for each way it can be wrong.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import glob
import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file

from workbench.distributed import is_main_process
from workbench.errors import InputError
from workbench.version import __version__

try:  # POSIX; elsewhere saves to one path are not serialised
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]  # None marks the module's absence

# Bumped when a change to the files would make older readers misread them.
ARTIFACT_FORMAT = 1


def check_output_directory(directory: str | os.PathLike) -> Path:
    """The directory an artifact for ``directory`` will be written to, once it can be.

    Call it before long work (training), so a bad ``--out`` is reported before, not
    after. A symbolic link is followed: the artifact it points to is replaced and the
    link stays. Raises :class:`InputError` for a file, a directory that holds something
    other than an artifact, and a place the user may not write.
    """
    target = Path(os.path.realpath(directory))
    if target.exists() and not target.is_dir():
        raise InputError(f"{directory} is a file; give a directory path for the artifact")
    if target.is_dir() and not (target / "config.json").is_file() and any(target.iterdir()):
        raise InputError(
            f"{directory} exists and is not a workbench artifact; refusing to overwrite it. "
            "Choose an empty or new directory"
        )
    check_can_create(target, f"the artifact to {directory}")
    return target


def check_can_create(path: Path, what: str) -> None:
    """Raise :class:`InputError` unless ``path`` can be created: the first of its parents
    that exists (where ``mkdir(parents=True)`` starts) is a directory the user may write."""
    existing = path.parent
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise InputError(f"cannot write {what}: {existing} is a file, not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(
            f"cannot write {what}: permission denied on {existing} (or a read-only file "
            "system); choose another path"
        )


def write_artifact(directory: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Call ``write(staging_dir)``, then swap the finished directory in at ``directory``.

    An existing artifact (a directory with ``config.json``) is replaced only once the new
    one is complete and on disk; any other non-empty directory is left alone with an
    error. File modes follow the umask (an artifact is meant to be shared). A failure
    to write (a full disk, no permission) raises :class:`InputError` and leaves the old
    artifact as it was.
    """
    target = check_output_directory(directory)
    if not is_main_process():
        return Path(directory)  # in a torchrun job every rank holds the same model
    existed = (target / "config.json").is_file()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with _save_lock(target):
            _recover(target)
            _remove_leftovers(target)
            staging = target.with_name(f".{target.name}.tmp-{secrets.token_hex(4)}")
            staging.mkdir()
            try:
                write(staging)
                _share_and_sync(staging)
                _swap_in(staging, target)
                _fsync(target.parent)
            finally:
                shutil.rmtree(staging, ignore_errors=True)  # on success: the old artifact
    except (OSError, SafetensorError) as exc:
        kept = "the previous artifact is untouched" if existed else "nothing was written"
        raise InputError(f"could not write the artifact to {directory}: {exc}; {kept}") from exc
    return Path(directory)


@contextlib.contextmanager
def _save_lock(target: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``target``'s parent directory while saving.

    Locking the directory itself leaves no lock file behind; the lock is released by the
    kernel when a killed process dies, so a crash never blocks later saves.
    """
    if fcntl is None:  # pragma: no cover - Windows
        yield
        return
    fd = os.open(target.parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _hidden(target: Path, kind: str) -> list[Path]:
    return [
        Path(p)
        for p in glob.glob(
            f"{glob.escape(str(target.parent))}/.{glob.escape(target.name)}.{kind}-*"
        )
    ]


def _recover(target: Path) -> None:
    """Put back an artifact that a process killed between the two renames of the
    fallback swap left under a hidden name (only where one step is not available)."""
    if target.exists():
        return
    retired = [p for p in _hidden(target, "old") if (p / "config.json").is_file()]
    if retired:
        os.replace(max(retired, key=lambda p: p.stat().st_mtime), target)


def _remove_leftovers(target: Path) -> None:
    # Under the lock no other save is running, so every hidden copy is a killed one's.
    for path in _hidden(target, "tmp") + _hidden(target, "old"):
        shutil.rmtree(path, ignore_errors=True)


def _swap_in(staging: Path, target: Path) -> None:
    """Move ``staging`` to ``target``; an existing ``target`` ends up at ``staging``."""
    if not target.exists():
        os.replace(staging, target)
    elif not _exchange(staging, target):
        # No atomic exchange (not Linux, or a file system without it): two renames, and
        # the old artifact is put back if the second fails; _recover covers a kill.
        retired = target.with_name(f".{target.name}.old-{secrets.token_hex(4)}")
        os.replace(target, retired)
        try:
            os.replace(staging, target)
        except BaseException:
            os.replace(retired, target)
            raise
        os.replace(retired, staging)  # the caller removes it with the staging directory


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``); ``False``
    where the system or the file system cannot."""
    renameat2 = getattr(_libc(), "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


@functools.cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def atomic_write(path: str | os.PathLike, write: Callable[[Path], object]) -> Path:
    """Call ``write(temporary)`` on a new file beside ``path``, then rename it to ``path``.

    A reader sees the old file or the complete new one, never part of one: whatever stops
    ``write`` (an error, a full disk, Ctrl-C) removes the temporary file and leaves ``path``
    as it was. The new file is flushed to disk before the rename, so a crash cannot expose
    an empty one, and it gets the modes the umask allows (``mkstemp`` makes it private).
    Missing parent directories are created.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    temporary = Path(name)
    try:
        write(temporary)
        temporary.chmod(0o666 & ~_umask())
        _fsync(temporary)
        os.replace(temporary, path)
        _fsync(path.parent)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def _share_and_sync(staging: Path) -> None:
    """Give every file the modes the umask allows (``mkstemp`` and safetensors make them
    private) and flush it to disk, so the swap never exposes an empty file after a crash."""
    mask = _umask()
    for path in [staging, *staging.rglob("*")]:
        path.chmod((0o777 if path.is_dir() else 0o666) & ~mask)
        _fsync(path)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _umask() -> int:
    # /proc reads it without changing it; os.umask would, for a moment, in every thread.
    with contextlib.suppress(OSError, ValueError, StopIteration):
        status = Path("/proc/self/status").read_text().splitlines()
        return int(next(line for line in status if line.startswith("Umask:")).split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def check_artifact(
    directory: str | os.PathLike, model_type: str | None, files: Sequence[str]
) -> Path:
    """The artifact path, once it is a directory holding ``files``, of ``model_type``
    (``None``: a ``TextClassifier``, whose config names no type), in a readable format."""
    path = Path(directory)
    kind = model_type or "TextClassifier"
    if not path.is_dir():
        _recover_for_reading(path)
    if not path.is_dir():
        raise InputError(f"{path}: artifact directory not found; check the path (--model)")
    unreadable = [
        name for name in files if (path / name).is_file() and not os.access(path / name, os.R_OK)
    ]
    if unreadable:
        raise InputError(
            f"{path}: permission denied reading {', '.join(unreadable)}; ask the owner to make "
            f"the artifact readable (chmod -R a+rX {path})"
        )
    config = read_json(path / "config.json") if (path / "config.json").is_file() else {}
    found = config.get("model_type")
    if config and found != model_type:
        raise InputError(
            f"{path}: holds a {found or 'TextClassifier'!r} artifact, not {kind!r}; "
            "load it with workbench.load_model, which picks the right class"
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


def _recover_for_reading(path: Path) -> None:
    """A save killed mid-swap (fallback path only) left the artifact under a hidden name:
    put it back, under the save lock so no running save is disturbed."""
    target = Path(os.path.realpath(path))
    if not target.parent.is_dir() or not _hidden(target, "old"):
        return
    with contextlib.suppress(OSError), _save_lock(target):
        _recover(target)


def check_labels(labels: object, outputs: int | None, where: str) -> list:
    """``labels`` from a config file, once they are a list of distinct strings or integers,
    one per network output (``outputs``; ``None``: not known here)."""
    if not isinstance(labels, list) or not all(
        isinstance(y, (str, int)) and not isinstance(y, bool) for y in labels
    ):
        raise InputError(f"{where}: 'labels' must be a list of strings or integers, got {labels!r}")
    if len(set(labels)) != len(labels):
        raise InputError(f"{where}: 'labels' repeats a name ({labels!r}); each class needs its own")
    if outputs is not None and len(labels) != outputs:
        raise InputError(
            f"{where}: {len(labels)} labels for a network with {outputs} outputs; "
            "the config and the weights do not belong together: save the model again"
        )
    return labels


def check_tensor_shapes(path: Path, expected: dict[str, tuple[int, ...]]) -> None:
    """Compare a safetensors file's header with the tensors a config promises, before
    anything is allocated: a damaged or hostile config cannot make a load build a
    network of gigabytes only to find it does not fit the weights."""
    try:
        with safe_open(str(path), framework="pt") as weights:
            names = weights.keys()  # safe_open is not iterable
            found = {name: tuple(weights.get_slice(name).get_shape()) for name in names}
    except (SafetensorError, OSError) as exc:
        raise InputError(f"{path}: corrupt safetensors file ({exc}); save the model again") from exc
    wrong = sorted(
        f"{name} {found.get(name, 'missing')} (config.json: {shape})"
        for name, shape in expected.items()
        if found.get(name) != shape
    )
    extra = sorted(set(found) - set(expected))
    if wrong or extra:
        listed = "; ".join(wrong[:3] + [f"{name} (not in the network)" for name in extra[:3]])
        raise InputError(
            f"{path} does not match config.json: {listed}; "
            "the two files do not belong together: save the model again"
        )


def load_network(path: Path, build: Callable[[], Any]) -> Any:
    """The network ``build()`` makes, holding the weights of ``path/model.safetensors``.

    The shapes ``build()`` promises are compared with the file's header first, on the meta
    device (see :func:`check_tensor_shapes`), so nothing is allocated for weights that do
    not belong to the config; a corrupt or mismatched file is an :class:`InputError`.
    """
    weights = path / "model.safetensors"
    with torch.device("meta"):  # shapes only: nothing is allocated until they match
        promised = build().state_dict()
    check_tensor_shapes(weights, {name: tuple(t.shape) for name, t in promised.items()})
    network = build()
    try:
        network.load_state_dict(load_file(weights))
    except (SafetensorError, RuntimeError, OSError) as exc:
        raise InputError(f"{weights}: corrupt or does not match config.json ({exc})") from exc
    return network


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


def load_model(directory: str | os.PathLike, **kwargs: Any) -> Any:
    """Load any model directory: a workbench artifact (TextClassifier, TF-IDF, pretrained
    encoder, seq2seq Translator) or a Hugging Face ``AutoModelForSequenceClassification``
    directory."""
    # The model classes import this module to save and check artifacts: import them here.
    from workbench.baselines import TfidfLogisticRegression
    from workbench.classifier import TextClassifier
    from workbench.pretrained import (
        HFSequenceClassifier,
        PretrainedEncoderClassifier,
        is_hf_model_directory,
    )

    path = Path(directory)
    if is_hf_model_directory(path):
        return HFSequenceClassifier.load(path, **kwargs)
    config_file = path / "config.json"
    model_type = read_json(config_file).get("model_type") if config_file.is_file() else None
    if model_type == "tfidf-logreg":
        return TfidfLogisticRegression.load(path)
    if model_type == "pretrained-encoder":
        return PretrainedEncoderClassifier.load(path, **kwargs)
    if model_type == "seq2seq-translator":
        from workbench.seq2seq import Translator

        return Translator.load(path, **kwargs)
    return TextClassifier.load(path, **kwargs)
