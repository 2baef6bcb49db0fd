"""How many CPU threads torch trains with: as many as the machine has free right now.

torch starts one OpenMP thread per core, and an OpenMP thread that waits for its siblings
spins before it sleeps. Alone, that is the fastest setting. On a busy machine it is the
worst: a descheduled sibling keeps the others spinning, and three trainings on two cores
took 9.6 times as long each as one alone, where sharing fairly costs about 3 times
(``benchmarks/under_load.py``, RESULTS.md §10). One thread per process removes the
collapse but makes a lone training slower. :class:`CpuThreads` keeps both: while a fit
runs it counts, about twice a second, the runnable threads of *other* processes, and
gives torch the cores they leave free (at least one, at most what it started with).

Counting needs Linux's ``/proc``; elsewhere the thread count is left as it is.
"""

from __future__ import annotations

import math
import os
import time
from collections import deque
from pathlib import Path

import torch

PROC_STAT = Path("/proc/stat")
OWN_TASKS = Path("/proc/self/task")
CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


def available_cpus() -> int:
    """The CPUs this process may run on: its affinity mask, capped by a cgroup CPU quota
    (a container's ``--cpus``), which ``os.cpu_count()`` ignores."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cpus = os.cpu_count() or 1
    try:
        quota, period = CGROUP_CPU_MAX.read_text().split()
        if quota != "max":
            cpus = min(cpus, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return cpus


def _runnable_threads_everywhere() -> int | None:
    for line in PROC_STAT.read_text().splitlines():
        if line.startswith("procs_running "):
            return int(line.split()[1])
    return None


def _own_runnable_threads() -> int:
    running = 0
    for task in OWN_TASKS.iterdir():
        try:
            # "pid (comm) S ...": the state follows the last ")" (comm may hold spaces)
            stat = (task / "stat").read_text()
        except OSError:  # the thread ended while we looked
            continue
        running += stat[stat.rindex(")") + 2] == "R"
    return running


def other_runnable_threads() -> int | None:
    """Threads of other processes that are running or waiting for a CPU right now, or
    None where ``/proc`` cannot say (not Linux)."""
    try:
        everywhere = _runnable_threads_everywhere()
        if everywhere is None:
            return None
        return max(0, everywhere - _own_runnable_threads())
    except OSError:
        return None


class CpuThreads:
    """Adjusts ``torch.set_num_threads`` to the free cores while a training runs.

    Call :meth:`adjust` often (every step); it looks at the machine at most every
    ``interval_s`` seconds and takes the smallest of the last ``window`` counts, so a
    process that ran for an instant does not halve the threads. :meth:`restore` puts
    back the thread count found at the start. With ``fixed``, that many threads are used
    throughout and the machine is never looked at.
    """

    def __init__(self, fixed: int | None = None, interval_s: float = 0.5, window: int = 3):
        self.initial = torch.get_num_threads()
        self.cpus = min(self.initial, available_cpus())
        self.fixed = fixed
        self.interval_s = interval_s
        self._counts: deque[int] = deque(maxlen=window)
        self._last_look = -math.inf
        self.threads = self.initial
        self.changes = 0
        if fixed is not None:
            self._use(fixed)

    def _use(self, threads: int) -> None:
        if threads != self.threads:
            torch.set_num_threads(threads)
            self.threads = threads
            self.changes += 1

    def adjust(self) -> int:
        """The thread count now in use, after a fresh look if one is due."""
        now = time.monotonic()
        if self.fixed is not None or now - self._last_look < self.interval_s:
            return self.threads
        self._last_look = now
        others = other_runnable_threads()
        if others is None:
            return self.threads
        self._counts.append(others)
        self._use(max(1, self.cpus - min(self._counts)))
        return self.threads

    def restore(self) -> None:
        self._use(self.initial)
