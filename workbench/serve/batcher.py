"""Micro-batching: the texts of concurrent ``/predict`` requests scored in one model call."""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field

import numpy as np

from workbench.serve.limits import RequestError


@dataclass
class _Job:
    texts: list[str]
    future: asyncio.Future
    loop: asyncio.AbstractEventLoop
    arrived: float = field(default_factory=time.monotonic)


_STOP = object()


class MicroBatcher:
    """Scores the texts of concurrent requests together, in one worker thread.

    ``await batcher.predict(texts)`` returns the ``(len(texts), k)`` probabilities of those
    texts. The worker takes the oldest waiting request, then every request that arrives
    within ``wait_ms`` of it (or is already waiting) up to ``max_batch`` texts, scores them
    in one ``predict_proba`` call and splits the rows back in order. Under load the oldest
    request arrived while the previous batch was running, its window has passed, and the
    worker takes what is waiting at once. While requests come one at a time (the last
    batch held one request) there is no window: a lone client pays no wait. A request
    larger than ``max_batch`` runs alone.

    ``stats`` counts requests, texts and model calls (``batches``), so a caller can see
    the grouping. The worker is a thread, not an asyncio task, so one batcher serves any
    event loop (uvicorn's, or a test's).
    """

    def __init__(
        self,
        predict_proba: Callable[[list[str]], np.ndarray],
        *,
        max_batch: int = 64,
        wait_ms: float = 2.0,
        max_pending_texts: int = 4096,
    ) -> None:
        self._predict_proba = predict_proba
        self.max_batch = max_batch
        self.wait_s = wait_ms / 1000
        self.max_pending_texts = max_pending_texts
        self.stats = {"requests": 0, "texts": 0, "batches": 0, "largest_batch": 0}
        self._pending_texts = 0
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._work, name="workbench-predict", daemon=True)
        self._thread.start()

    async def predict(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            if self._pending_texts + len(texts) > self.max_pending_texts:
                raise RequestError(
                    503,
                    f"the server has {self._pending_texts} texts waiting to be scored (limit "
                    f"{self.max_pending_texts}); retry shortly",
                )
            self._pending_texts += len(texts)
        loop = asyncio.get_running_loop()
        job = _Job(list(texts), loop.create_future(), loop)
        self._queue.put(job)
        return await job.future

    def close(self) -> None:
        """Stop the worker after the requests already queued."""
        self._queue.put(_STOP)
        self._thread.join(timeout=10)

    def _work(self) -> None:
        held = None  # a job taken from the queue that did not fit the last batch
        last_batch_requests = 1
        while True:
            first = held if held is not None else self._queue.get()
            held = None
            if first is _STOP:
                return
            batch, size = [first], len(first.texts)
            # A lone client would only lose the window: wait while requests come together.
            deadline = first.arrived + (self.wait_s if last_batch_requests > 1 else 0.0)
            while size < self.max_batch:
                remaining = deadline - time.monotonic()
                try:
                    if remaining > 0:
                        job = self._queue.get(timeout=remaining)
                    else:
                        job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is _STOP or size + len(job.texts) > self.max_batch:
                    held = job
                    break
                batch.append(job)
                size += len(job.texts)
            self._score(batch, size)
            last_batch_requests = len(batch)

    def _score(self, batch: list[_Job], size: int) -> None:
        texts = [text for job in batch for text in job.texts]
        try:
            proba, error = self._predict_proba(texts), None
        except Exception as exc:  # handed to each request, which answers for itself
            proba, error = None, exc
        with self._lock:
            self._pending_texts -= size
            self.stats["requests"] += len(batch)
            self.stats["texts"] += size
            self.stats["batches"] += 1
            self.stats["largest_batch"] = max(self.stats["largest_batch"], size)
        # One wake-up per event loop for the whole batch, not one per request.
        results: dict[asyncio.AbstractEventLoop, list] = {}
        start = 0
        for job in batch:
            rows = None if proba is None else proba[start : start + len(job.texts)]
            results.setdefault(job.loop, []).append((job.future, rows))
            start += len(job.texts)
        for loop, answers in results.items():
            with suppress(RuntimeError):  # that loop has closed: nobody is waiting any more
                loop.call_soon_threadsafe(_resolve, answers, error)


def _resolve(answers: list, error: BaseException | None) -> None:
    for future, rows in answers:
        if future.done():  # the client went away and the request was cancelled
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(rows)
