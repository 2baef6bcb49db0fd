"""Tests for workbench.artifacts: a save never loses the artifact at ``--out`` (issue 14,
cases 2-8), whatever step fails, whoever else saves at the same time, and however the
process dies."""

from __future__ import annotations

import json
import multiprocessing
import os
import resource
import shutil
import signal
import stat
import time
from pathlib import Path

import pytest

from workbench import artifacts
from workbench.artifacts import (
    atomic_write,
    check_artifact,
    check_output_directory,
    write_artifact,
)
from workbench.classifier import TextClassifier
from workbench.errors import InputError

AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _writer(version: int, payload_bytes: int = 1000):
    """A small artifact whose every file records ``version``."""

    def write(staging: Path) -> None:
        (staging / "config.json").write_text(json.dumps({"version": version, "artifact_format": 1}))
        (staging / "weights.bin").write_bytes(bytes([version % 256]) * payload_bytes)

    return write


def _version(target: Path) -> int:
    """The version of the complete artifact at ``target`` (fails on a mixed or partial one)."""
    config = json.loads((target / "config.json").read_text())
    weights = (target / "weights.bin").read_bytes()
    assert weights and set(weights) == {config["version"] % 256}
    return config["version"]


def _siblings(target: Path) -> list[str]:
    return sorted(p.name for p in target.parent.iterdir())


# Every step of a save after the staging directory is filled, as (function, module) to patch.
SAVE_STEPS = ["_share_and_sync", "_exchange", "_fsync"]


@pytest.mark.parametrize("step", SAVE_STEPS)
@pytest.mark.parametrize("failure", [OSError(28, "No space left on device"), KeyboardInterrupt])
def test_a_failure_at_any_step_keeps_a_complete_artifact(tmp_path, monkeypatch, step, failure):
    """Case 2: whatever step fails, --out holds the old or the new artifact, complete."""
    target = tmp_path / "model"
    write_artifact(target, _writer(1))
    real = getattr(artifacts, step)

    def broken(*args, **kwargs):
        if step == "_fsync" and Path(args[0]) != target.parent:
            return real(*args, **kwargs)  # fail at the last step: the directory flush
        raise failure

    monkeypatch.setattr(artifacts, step, broken)
    expected = InputError if isinstance(failure, OSError) else KeyboardInterrupt
    with pytest.raises(expected):
        write_artifact(target, _writer(2))
    assert _version(target) in (1, 2)
    assert _siblings(target) == ["model"]  # nothing hidden left behind
    monkeypatch.undo()
    write_artifact(target, _writer(3))
    assert _version(target) == 3


def test_a_failure_while_writing_keeps_the_old_artifact(tmp_path):
    """Cases 2 and 7: a full disk while writing -> exit-2 error, the old artifact intact."""
    target = tmp_path / "model"
    write_artifact(target, _writer(1))

    def full_disk(staging: Path) -> None:
        (staging / "config.json").write_text("{}")
        raise OSError(28, "No space left on device")

    with pytest.raises(InputError, match="No space left on device.*previous artifact is untouched"):
        write_artifact(target, full_disk)
    assert _version(target) == 1
    assert _siblings(target) == ["model"]


@pytest.mark.parametrize("fail_at", [1, 2])
def test_the_two_rename_fallback_puts_the_old_artifact_back(tmp_path, monkeypatch, fail_at):
    """Case 2 where no atomic exchange exists: a failed second rename restores the old one."""
    target = tmp_path / "model"
    write_artifact(target, _writer(1))
    monkeypatch.setattr(artifacts, "_exchange", lambda a, b: False)
    real_replace, calls = os.replace, []

    def replace(src, dst):
        calls.append(src)
        if len(calls) == fail_at:
            raise KeyboardInterrupt
        return real_replace(src, dst)

    monkeypatch.setattr(artifacts.os, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        write_artifact(target, _writer(2))
    monkeypatch.setattr(artifacts.os, "replace", real_replace)
    assert _version(target) == 1
    assert _siblings(target) == ["model"]


def _killed_between_renames(target: str) -> None:
    artifacts._exchange = lambda a, b: False  # the fallback swap, as without renameat2
    real = os.replace

    def replace(src, dst):
        real(src, dst)
        if ".old-" in str(dst):
            os._exit(9)  # killed after the old artifact moved aside, before the new moved in

    artifacts.os.replace = replace
    write_artifact(target, _writer(2))


def test_an_artifact_killed_between_two_renames_is_recovered(tmp_path, artifact_dir):
    """Case 2: a kill inside the fallback swap leaves the old artifact hidden; the next
    load puts it back, and the next save then works."""
    target = shutil.copytree(artifact_dir, tmp_path / "model")
    proc = multiprocessing.get_context("fork").Process(
        target=_killed_between_renames, args=(str(target),)
    )
    proc.start()
    proc.join(timeout=60)
    assert proc.exitcode == 9
    assert not target.exists()
    loaded = TextClassifier.load(target)  # recovered by load
    loaded.save(target)  # removes the killed save's staging directory
    assert _siblings(target) == ["model"]


def _save_forever(target: str, ready) -> None:
    def writer(version: int):
        def write(staging: Path) -> None:
            (staging / "config.json").write_text(
                json.dumps({"version": version, "artifact_format": 1})
            )
            time.sleep(0.002)  # widens the window between the files
            (staging / "weights.bin").write_bytes(bytes([version % 256]) * 200_000)

        return write

    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C raises, as in a shell
    ready.set()
    for version in range(2, 10**6):
        write_artifact(target, writer(version))


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_real_signals_mid_save_never_lose_the_artifact(tmp_path, sig):
    """Cases 2 and 4 with real signals: kill a process that saves in a loop at several
    moments; --out always holds one complete artifact and the next save cleans up."""
    target = tmp_path / "model"
    write_artifact(target, _writer(1))
    fork = multiprocessing.get_context("fork")
    for delay in (0.03, 0.07, 0.11, 0.19, 0.31):
        ready = fork.Event()
        proc = fork.Process(target=_save_forever, args=(str(target), ready))
        proc.start()
        assert ready.wait(timeout=60)
        time.sleep(delay)
        os.kill(proc.pid, sig)
        proc.join(timeout=60)
        assert proc.exitcode is not None and proc.exitcode != 0
        check_artifact(target, None, ["config.json"])  # recovers if needed
        assert _version(target) >= 1
    write_artifact(target, _writer(7))
    assert _version(target) == 7
    assert _siblings(target) == ["model"]


def test_leftovers_of_a_crashed_save_do_not_block_and_are_removed(tmp_path):
    """Case 3: hidden copies named after any PID (PIDs repeat in containers) are removed
    by the next save instead of making it fail."""
    target = tmp_path / "model"
    write_artifact(target, _writer(1))
    for name in (f".model.old-{os.getpid()}", ".model.tmp-abc123", ".model.old-1"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "weights.bin").write_bytes(b"x" * 100)
    write_artifact(target, _writer(2))
    assert _version(target) == 2
    assert _siblings(target) == ["model"]


def test_every_file_is_flushed_before_the_swap(tmp_path, monkeypatch):
    """Case 4: fsync on each file and directory of the new artifact, then on the parent."""
    synced = []
    real = artifacts._fsync
    monkeypatch.setattr(artifacts, "_fsync", lambda path: (synced.append(Path(path)), real(path)))
    target = write_artifact(tmp_path / "model", _writer(1))
    names = [p.name for p in synced]
    assert "config.json" in names and "weights.bin" in names
    assert synced[-1] == target.parent


def _save_many(target: str, worker: int, saves: int, errors) -> None:
    for i in range(saves):
        try:
            write_artifact(target, _writer(worker * 1000 + i, payload_bytes=20_000))
        except Exception as exc:  # counted: the test expects none
            errors.put(repr(exc))


def test_concurrent_saves_to_one_path_are_serialised(tmp_path):
    """Case 5: three processes saving to one path at once: no error, one complete artifact."""
    target = tmp_path / "model"
    errors = multiprocessing.get_context("fork").Queue()
    workers = [
        multiprocessing.get_context("fork").Process(
            target=_save_many, args=(str(target), w, 40, errors)
        )
        for w in range(1, 4)
    ]
    for proc in workers:
        proc.start()
    for proc in workers:
        proc.join(timeout=120)
        assert proc.exitcode == 0
    assert errors.empty(), errors.get()
    assert _version(target) % 1000 == 39
    assert _siblings(target) == ["model"]


def test_a_symlink_out_is_written_through(tmp_path):
    """Case 6: --out a link to an artifact: the artifact it points to is replaced and the
    link stays a link."""
    real = tmp_path / "models" / "v1"
    write_artifact(real, _writer(1))
    link = tmp_path / "current"
    link.symlink_to(real, target_is_directory=True)
    assert write_artifact(link, _writer(2)) == link
    assert link.is_symlink()
    assert _version(link) == 2 == _version(real)


def test_output_problems_are_found_before_the_work(tmp_path):
    """Case 7: a file, a foreign directory, a path under a file: InputError up front."""
    (tmp_path / "file").write_text("x")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("keep me")
    with pytest.raises(InputError, match="is a file"):
        check_output_directory(tmp_path / "file")
    with pytest.raises(InputError, match="not a workbench artifact"):
        check_output_directory(tmp_path / "notes")
    with pytest.raises(InputError, match="is a file"):
        check_output_directory(tmp_path / "file" / "model")
    assert (tmp_path / "notes" / "todo.txt").read_text() == "keep me"


@pytest.mark.skipif(AS_ROOT, reason="root may write anywhere")
def test_a_read_only_out_is_refused_before_the_work(tmp_path):
    """Case 7: no permission to write -> a one-line error naming the directory."""
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        with pytest.raises(InputError, match="permission denied"):
            check_output_directory(locked / "model")
    finally:
        locked.chmod(0o755)


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_files_follow_the_umask(tmp_path, trained_clf, umask):
    """Case 8: a saved model is readable by others unless the umask says otherwise
    (tokenizer.json came from mkstemp and model.safetensors from safetensors, both 0600)."""
    old = os.umask(umask)
    try:
        target = trained_clf.save(tmp_path / "model")
    finally:
        os.umask(old)
    for path in [target, *target.iterdir()]:
        expected = (0o777 if path.is_dir() else 0o666) & ~umask
        assert stat.S_IMODE(path.stat().st_mode) == expected, path.name


@pytest.mark.parametrize("failure", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_atomic_write_keeps_the_old_file_when_the_writer_fails(tmp_path, failure):
    """A writer that fails after writing part of the file leaves no temporary file, and the
    old file as it was."""
    target = tmp_path / "report.html"
    target.write_text("old")

    def half_written(temporary: Path) -> None:
        temporary.write_text("ne")
        raise failure

    with pytest.raises(type(failure)):
        atomic_write(target, half_written)
    assert target.read_text() == "old"
    assert _siblings(target) == ["report.html"]


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_atomic_write_replaces_the_file_with_the_modes_of_the_umask(tmp_path, umask):
    target = tmp_path / "new" / "checkpoint.bin"
    old = os.umask(umask)
    try:
        assert atomic_write(target, lambda temporary: temporary.write_bytes(b"new")) == target
    finally:
        os.umask(old)
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask  # not mkstemp's 0600
    assert _siblings(target) == ["checkpoint.bin"]


def test_an_unreadable_artifact_says_permission_denied(tmp_path, artifact_dir, monkeypatch):
    """Case 8: the cause is named, not "not a valid tokenizer.json"."""
    target = shutil.copytree(artifact_dir, tmp_path / "model")
    (target / "tokenizer.json").chmod(0)
    if AS_ROOT:  # root reads every file: let the check see what another user would
        real = os.access
        monkeypatch.setattr(
            artifacts.os,
            "access",
            lambda path, mode: Path(path).name != "tokenizer.json" and real(path, mode),
        )
    with pytest.raises(InputError, match="permission denied reading tokenizer.json"):
        TextClassifier.load(target)


def _hold_the_lock(target: Path, locked, mark: Path) -> None:
    with artifacts._save_lock(target):
        locked.set()
        time.sleep(0.5)
        mark.write_text("done")


def test_the_save_lock_waits_for_another_process(tmp_path):
    """Case 5: a save waits while another process holds the lock, instead of failing or
    racing it (the holder leaves a mark just before it lets go)."""
    target = tmp_path / "model"
    write_artifact(target, _writer(1))
    mark = tmp_path / "released"
    fork = multiprocessing.get_context("fork")
    locked = fork.Event()
    holder = fork.Process(target=_hold_the_lock, args=(target, locked, mark))
    holder.start()
    assert locked.wait(timeout=60)
    write_artifact(target, _writer(2))
    assert mark.exists()  # the save went ahead only once the holder had let go
    holder.join(timeout=30)
    assert _version(target) == 2


def _edited_copy(artifact_dir: Path, tmp_path: Path, edit) -> Path:
    target = shutil.copytree(artifact_dir, tmp_path / "model")
    config = json.loads((target / "config.json").read_text())
    edit(config)
    (target / "config.json").write_text(json.dumps(config))
    return target


HOSTILE_MODEL_SETTINGS = {
    "max_length": 10**8,
    "vocab_size": 4 * 10**7,
    "num_layers": 10**5,
    "d_model": 10**9,
    "d_model_float": 32.0,
    "vocab_size_negative": -5,
    "pad_token_id": 10**6,
    "num_labels": 3,  # two labels: "2 labels for a network with 3 outputs"
}


@pytest.mark.parametrize("case", sorted(HOSTILE_MODEL_SETTINGS))
def test_a_hostile_model_config_is_refused_before_allocating(artifact_dir, tmp_path, case):
    """Case 9 and 10: sizes that would allocate gigabytes, or grind for a minute, and
    malformed values are refused with a one-line error before the network is built."""
    setting = case.removesuffix("_float").removesuffix("_negative")
    value = HOSTILE_MODEL_SETTINGS[case]
    target = _edited_copy(artifact_dir, tmp_path, lambda c: c["model"].update({setting: value}))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(InputError, match="labels" if setting == "num_labels" else setting):
        TextClassifier.load(target)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 500_000  # no network of gigabytes was built to find out


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (["negative", "positive", "neutral"], "3 labels for a network with 2 outputs"),
        (["positive", "positive"], "repeats a name"),
        ("x", "must be a list of strings or integers"),
        ([["a"], ["b"]], "must be a list of strings or integers"),
    ],
)
def test_labels_that_do_not_fit_the_network_are_refused(artifact_dir, tmp_path, labels, message):
    """Case 10: refused at load, instead of a crash at predict or two classes collapsed."""
    target = _edited_copy(artifact_dir, tmp_path, lambda c: c.update({"labels": labels}))
    with pytest.raises(InputError, match=message):
        TextClassifier.load(target)


def test_a_tokenizer_larger_than_the_embedding_is_refused(artifact_dir, tmp_path):
    """Case 10: a tokenizer.json with more words than the network embeds would crash at
    predict (an index out of range) on the first text with a new word."""
    target = shutil.copytree(artifact_dir, tmp_path / "model")
    tokenizer = json.loads((target / "tokenizer.json").read_text())
    vocab = tokenizer["model"]["vocab"]
    vocab.update({f"extra{i}": len(vocab) + i for i in range(50)})
    (target / "tokenizer.json").write_text(json.dumps(tokenizer))
    with pytest.raises(InputError, match="tokenizer.json has .* words but the network embeds"):
        TextClassifier.load(target)
