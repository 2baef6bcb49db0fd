"""Explanations beside the predictions: one at a time, a bounded number admitted."""

from __future__ import annotations

import asyncio
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from functools import partial

from workbench.estimators import TextModel
from workbench.explain import explain
from workbench.serve.limits import RequestError


def _lower_priority() -> None:
    """Run the calling thread (and the torch threads it starts) at nice 10 on Linux, where
    a thread has its own nice value, so predictions get the CPU first."""
    with suppress(AttributeError, OSError):  # not Linux: explanations share the CPU evenly
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


def _explanation_dict(model: TextModel, text: str, method: str, settings: dict) -> dict:
    return explain(model, text, method, progress=False, **settings).to_dict()


class ExplainWorker:
    """Runs explanations one at a time in a thread of their own (at nice 10 on Linux), beside
    the predictions; admits ``max_admitted`` (running or waiting) and refuses more with 503."""

    def __init__(self, model: TextModel, max_admitted: int) -> None:
        self.model = model
        self.max_admitted = max_admitted
        self.stats = {"admitted": 0, "completed": 0, "refused": 0}
        self._admitted = 0
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(
            1, thread_name_prefix="workbench-explain", initializer=_lower_priority
        )

    def warm_up(self) -> None:
        """Explain a text once, in the background: shap compiles code on its first use, for
        seconds, which should not hold up the first request."""
        self._executor.submit(_explanation_dict, self.model, "warm up text", "shap", {})

    async def explain(self, text: str, method: str, settings: dict) -> dict:
        with self._lock:
            if self._admitted >= self.max_admitted:
                self.stats["refused"] += 1
                raise RequestError(
                    503,
                    f"{self._admitted} explanations are running or waiting (limit "
                    f"{self.max_admitted}); retry shortly",
                )
            self._admitted += 1
            self.stats["admitted"] += 1
        try:
            run = partial(_explanation_dict, self.model, text, method, settings)
            return await asyncio.get_running_loop().run_in_executor(self._executor, run)
        finally:
            with self._lock:
                self._admitted -= 1
                self.stats["completed"] += 1

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
