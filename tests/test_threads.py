"""The training's CPU thread count follows the cores other processes leave free."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import torch

from workbench import ModelConfig, TextClassifier, TrainConfig
from workbench.errors import InputError
from workbench.threads import CpuThreads, available_cpus, other_runnable_threads
from workbench.train import Callback

needs_proc = pytest.mark.skipif(not os.path.exists("/proc/stat"), reason="needs Linux /proc")


@pytest.fixture
def initial_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(4)
    yield 4
    torch.set_num_threads(before)


def test_available_cpus_is_within_what_the_machine_has() -> None:
    assert 1 <= available_cpus() <= (os.cpu_count() or 1)


@needs_proc
def test_busy_processes_are_counted_as_other_runnable_threads() -> None:
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        time.sleep(0.3)
        # a busy loop is always running or waiting for a CPU: both count
        assert min(other_runnable_threads() or 0 for _ in range(5)) >= 2
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()


def scripted(monkeypatch, counts: list[int | None]) -> None:
    """Make the machine report ``counts`` other runnable threads, one per look."""
    looks = iter(counts)
    monkeypatch.setattr("workbench.threads.other_runnable_threads", lambda: next(looks))
    monkeypatch.setattr("workbench.threads.available_cpus", lambda: 4)


def test_threads_follow_the_free_cores_and_come_back(monkeypatch, initial_threads) -> None:
    scripted(monkeypatch, [0, 3, 3, 3, 9, 0])
    threads = CpuThreads(interval_s=0, window=3)
    seen = [threads.adjust() for _ in range(6)]
    # the smallest of the last three counts decides: one look at a busy machine is not
    # enough to give cores away, one look at a free one is enough to take them back
    assert seen == [4, 4, 4, 1, 1, 4]
    assert torch.get_num_threads() == 4
    scripted(monkeypatch, [2, 2])
    threads = CpuThreads(interval_s=0, window=1)
    assert threads.adjust() == 2 and torch.get_num_threads() == 2
    threads.restore()
    assert torch.get_num_threads() == initial_threads


def test_a_busy_machine_leaves_at_least_one_thread(monkeypatch, initial_threads) -> None:
    scripted(monkeypatch, [50])
    assert CpuThreads(interval_s=0, window=1).adjust() == 1


def test_looks_are_spaced_by_the_interval(monkeypatch, initial_threads) -> None:
    scripted(monkeypatch, [3])  # a second look would exhaust the script and fail
    threads = CpuThreads(interval_s=3600, window=1)
    assert [threads.adjust() for _ in range(10)] == [1] * 10


def test_without_proc_the_count_is_left_alone(monkeypatch, initial_threads) -> None:
    scripted(monkeypatch, [None, None])
    threads = CpuThreads(interval_s=0)
    assert threads.adjust() == threads.adjust() == initial_threads


def test_a_fixed_count_never_looks_at_the_machine(monkeypatch, initial_threads) -> None:
    scripted(monkeypatch, [])
    threads = CpuThreads(fixed=2, interval_s=0)
    assert threads.adjust() == 2 and torch.get_num_threads() == 2
    threads.restore()
    assert torch.get_num_threads() == initial_threads


class ThreadsSeen(Callback):
    def __init__(self) -> None:
        self.seen: set[int] = set()

    def on_batch_end(self, state) -> None:
        self.seen.add(torch.get_num_threads())


@pytest.mark.parametrize("cpu_threads", [1, 3])
def test_fit_trains_with_the_configured_threads_and_restores_them(
    cpu_threads, initial_threads
) -> None:
    seen = ThreadsSeen()
    clf = TextClassifier(
        ModelConfig(d_model=16, num_heads=2, num_layers=1, d_ff=32),
        TrainConfig(num_epochs=1, batch_size=2, cpu_threads=cpu_threads),
    )
    clf.fit(
        ["good film", "bad film"] * 4,
        ["pos", "neg"] * 4,
        val_size=0,
        progress=False,
        callbacks=[seen],
    )
    assert seen.seen == {cpu_threads}
    assert torch.get_num_threads() == initial_threads


@pytest.mark.parametrize("bad", [0, -1, True, 2.0])
def test_cpu_threads_must_be_a_positive_int(bad) -> None:
    with pytest.raises(InputError, match="cpu_threads"):
        TrainConfig(cpu_threads=bad)
