"""``workbench serve``: a saved model's predictions and explanations over HTTP.

Without it, an application that wants a prediction from a saved model runs the CLI, which
loads the model for every call. The server loads it once and answers four routes:
``POST /predict``, ``POST /explain`` (the JSON of ``workbench explain --json``),
``GET /health`` and ``GET /model``. Three choices shape it:

- **Micro-batching.** A model scores 64 texts in one call much faster than in 64 calls
  (benchmarks/inference.py measures both ways), so concurrent ``/predict`` requests are
  not run one by one: :class:`MicroBatcher` queues their texts, and one worker thread
  takes everything waiting (up to a maximum batch, after a short wait window for more)
  into one ``predict_proba`` call and hands each request back its own rows.
- **Explanations cannot starve predictions.** An explanation costs hundreds of model
  evaluations. They run in a worker thread of their own (:class:`ExplainWorker`: one at a
  time, a bounded number admitted, the rest refused with 503; on Linux at a lower CPU
  priority), so they never queue ahead of a prediction; they only share the CPU.
- **Every request is validated before a model sees it**: body size, UTF-8, JSON, field
  names and types, text length, list size and explanation budgets, each with a 4xx and a
  JSON ``{"error": "..."}`` line that says what to fix. No field names a file: the model
  is fixed when the server starts, and nothing is written.

Starlette and uvicorn (the ``serve`` extra) are imported only when a server is built, so
``workbench --help`` neither needs nor waits for them.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, suppress
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from workbench.data import plain
from workbench.errors import InputError
from workbench.explain import METHODS, explain
from workbench.explain.perturbation import SHAP_ALGORITHMS
from workbench.version import __version__

# Below these budgets SHAP and LIME give nearly every word the same value and IG's
# integral is one rectangle: a budget that small is a mistake, not a cheap explanation.
MIN_MAX_EVALS = 50
MIN_NUM_SAMPLES = 50
MIN_STEPS = 2
MAX_SEED = 2**32 - 1


@dataclass(frozen=True)
class ServeLimits:
    """What one request may ask for, and how predictions are batched."""

    # Longer texts are refused: the model reads only its first max_length tokens anyway.
    max_text_chars: int = 10_000
    # Texts in one /predict list.
    max_texts: int = 256
    # Bytes in one request body; checked before the body is read into memory.
    max_body_bytes: int = 1_048_576
    # Texts scored in one model call: bounds how long the last text of a batch waits for
    # the others.
    max_batch: int = 64
    # How long the first waiting text waits for others to join its batch (0: never waits;
    # texts that arrive while the model runs are batched all the same).
    batch_wait_ms: float = 2.0
    # Texts accepted but not yet scored; beyond it /predict answers 503 instead of queueing
    # without bound.
    max_pending_texts: int = 4096
    # Explanations admitted at once (one running, the rest waiting); beyond it, 503.
    explain_queue: int = 4
    # Upper bounds of the explanation budgets (the defaults are 500, 1000 and 50).
    max_evals: int = 2000
    max_num_samples: int = 5000
    max_steps: int = 200

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if name == "batch_wait_ms" and not value >= 0:
                raise InputError(f"serve limit {name} must be 0 or more, got {value}")
            if name != "batch_wait_ms" and not value > 0:
                raise InputError(f"serve limit {name} must be positive, got {value}")
        if self.max_pending_texts < self.max_texts:
            raise InputError(
                f"max_pending_texts ({self.max_pending_texts}) must be at least max_texts "
                f"({self.max_texts}), or a full list could never be accepted"
            )


class RequestError(Exception):
    """A request the server refuses: an HTTP status and a one-line message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# ----------------------------------------------------------------------------- batching


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


def _lower_priority() -> None:
    """Run the calling thread (and the torch threads it starts) at nice 10 on Linux, where
    a thread has its own nice value, so predictions get the CPU first."""
    with suppress(AttributeError, OSError):  # not Linux: explanations share the CPU evenly
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


def _explanation_dict(model: Any, text: str, method: str, settings: dict) -> dict:
    return explain(model, text, method, progress=False, **settings).to_dict()


class ExplainWorker:
    """Runs explanations one at a time in a thread of their own (at nice 10 on Linux), beside
    the predictions; admits ``max_admitted`` (running or waiting) and refuses more with 503."""

    def __init__(self, model: Any, max_admitted: int) -> None:
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


# --------------------------------------------------------------------------- validation

_JSON_TYPES = {
    dict: "an object",
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "a boolean",
    type(None): "null",
}


def _json_type(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


async def read_json_body(request: Any, max_bytes: int) -> dict:
    """The request's JSON object, or a :class:`RequestError` that says what is wrong."""
    declared = request.headers.get("content-length")
    too_large = (
        f"the request body is larger than the server's limit of {max_bytes:,} bytes; send "
        "fewer or shorter texts (the limit is set by --max-body-bytes)"
    )
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise RequestError(413, too_large)
    chunks, size = [], 0
    async for chunk in request.stream():  # counted as it arrives: a chunked body has no length
        size += len(chunk)
        if size > max_bytes:
            raise RequestError(413, too_large)
        chunks.append(chunk)
    body = b"".join(chunks)
    example = 'e.g. {"text": "Great cast, but a dull plot."}'
    if not body.strip():
        raise RequestError(400, f"the request body is empty; send a JSON object, {example}")
    try:
        decoded = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RequestError(
            400,
            f"the request body is not valid UTF-8 (byte 0x{body[exc.start]:02x} at offset "
            f"{exc.start}); encode the JSON as UTF-8",
        ) from None
    try:
        payload = json.loads(decoded)
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise RequestError(
            400, f"the request body is not valid JSON ({reason}); send a JSON object, {example}"
        ) from None
    if not isinstance(payload, dict):
        raise RequestError(
            400, f"the request body must be a JSON object, {example}; got {_json_type(payload)}"
        )
    return payload


def _check_fields(payload: dict, allowed: Sequence[str], route: str) -> None:
    unknown = sorted(set(payload) - set(allowed))
    if unknown:
        raise RequestError(
            400,
            f"unknown field(s) {', '.join(map(repr, unknown))} for {route}; it takes "
            f"{', '.join(map(repr, allowed))}",
        )


def _check_text_field(value: Any, name: str, limits: ServeLimits) -> str:
    if not isinstance(value, str):
        raise RequestError(400, f"'{name}' must be a string, got {_json_type(value)}")
    if len(value) > limits.max_text_chars:
        raise RequestError(
            400,
            f"'{name}' has {len(value):,} characters; the limit is {limits.max_text_chars:,} "
            "(the model reads only the first words anyway): shorten it",
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate written as a JSON escape, e.g. "\ud800"
        raise RequestError(
            400,
            f"'{name}' holds an unpaired surrogate escape (\\ud800-\\udfff); send valid "
            "Unicode text",
        ) from None
    return value


def parse_predict(payload: dict, limits: ServeLimits) -> tuple[list[str], bool]:
    """The texts of a /predict body, and whether it held one ``text`` (not a list)."""
    _check_fields(payload, ("text", "texts"), "POST /predict")
    if ("text" in payload) == ("texts" in payload):
        raise RequestError(
            400,
            "give either 'text' (one string) or 'texts' (a list of strings), not both or neither",
        )
    if "text" in payload:
        return [_check_text_field(payload["text"], "text", limits)], True
    texts = payload["texts"]
    if not isinstance(texts, list):
        raise RequestError(400, f"'texts' must be a list of strings, got {_json_type(texts)}")
    if not texts:
        raise RequestError(400, "'texts' is empty; give at least one string")
    if len(texts) > limits.max_texts:
        raise RequestError(
            400,
            f"'texts' has {len(texts):,} texts; the limit is {limits.max_texts:,} per "
            "request: split the list",
        )
    return [_check_text_field(t, f"texts[{i}]", limits) for i, t in enumerate(texts)], False


# request field -> (explain() keyword, lowest value, ServeLimits field holding the highest,
# the default: the CLI's, or the server's highest when that is lower)
_BUDGETS = {
    "max_evals": ("max_evals", MIN_MAX_EVALS, "max_evals", 500),
    "num_samples": ("num_samples", MIN_NUM_SAMPLES, "max_num_samples", 1000),
    "steps": ("n_steps", MIN_STEPS, "max_steps", 50),
}
# The settings each method takes, named as the CLI's options are.
_METHOD_FIELDS = {
    "shap": ("max_evals", "shap_algorithm"),
    "lime": ("num_samples", "seed"),
    "integrated-gradients": ("steps",),
}


def parse_explain(payload: dict, limits: ServeLimits) -> tuple[str, str, dict]:
    """The text, the method and the ``explain()`` settings of an /explain body."""
    all_fields = ("text", "method", "max_evals", "num_samples", "steps", "seed", "shap_algorithm")
    _check_fields(payload, all_fields, "POST /explain")
    if "text" not in payload:
        raise RequestError(400, "missing field 'text': the text to explain")
    text = _check_text_field(payload["text"], "text", limits)
    method = payload.get("method", "shap")
    if not isinstance(method, str) or method not in METHODS:
        raise RequestError(
            400, f"unknown explanation method {method!r}; choose from {', '.join(METHODS)}"
        )
    allowed = _METHOD_FIELDS.get(method, ())
    misplaced = [name for name in all_fields[2:] if name in payload and name not in allowed]
    if misplaced:
        raise RequestError(
            400,
            f"{', '.join(map(repr, misplaced))} {'does' if len(misplaced) == 1 else 'do'} not "
            f"apply to method {method!r}, which takes {', '.join(map(repr, allowed)) or 'none'}",
        )
    settings: dict[str, Any] = {}
    for name, (keyword, lowest, limit_field, default) in _BUDGETS.items():
        if name not in allowed:
            continue
        highest = getattr(limits, limit_field)
        if name in payload:
            settings[keyword] = _check_int(payload[name], name, lowest, highest)
        else:
            settings[keyword] = min(default, highest)
    if "seed" in payload:
        settings["seed"] = _check_int(payload["seed"], "seed", 0, MAX_SEED)
    if "shap_algorithm" in payload:
        algorithm = payload["shap_algorithm"]
        if algorithm not in SHAP_ALGORITHMS:
            raise RequestError(
                400,
                f"unknown shap_algorithm {algorithm!r}; choose from {', '.join(SHAP_ALGORITHMS)}",
            )
        settings["algorithm"] = algorithm
    return text, method, settings


def _check_int(value: Any, name: str, lowest: int, highest: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RequestError(400, f"'{name}' must be a whole number, got {_json_type(value)}")
    if not lowest <= value <= highest:
        raise RequestError(400, f"'{name}' must be between {lowest} and {highest}, got {value}")
    return value


# ---------------------------------------------------------------------------------- app


def _timed(response: Any, started: float) -> Any:
    """``response`` with a ``Server-Timing`` header: the milliseconds the request spent in
    the server from reading its body to its answer (queueing and batching included), so a
    client can tell the server's share of the latency it sees from the network's and its own."""
    response.headers["server-timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.2f}"
    return response


def model_description(model: Any, model_dir: str | os.PathLike | None) -> dict:
    """What ``GET /model`` reports: labels, type, the artifact's config and metrics."""
    from workbench.artifacts import read_json

    description: dict[str, Any] = {
        "labels": [plain(label) for label in model.classes_],
        "model_type": type(model).__name__,
        "workbench_version": __version__,
    }
    for name in ("config", "metrics"):
        path = Path(model_dir) / f"{name}.json" if model_dir is not None else None
        description[name] = read_json(path) if path is not None and path.is_file() else None
    return description


def create_app(
    model: Any,
    *,
    model_dir: str | os.PathLike | None = None,
    limits: ServeLimits | None = None,
):
    """The Starlette application serving ``model`` (a fitted classifier with
    ``predict_proba`` and ``classes_``); ``model_dir`` supplies ``GET /model``'s config and
    metrics. ``app.state.batcher`` and ``app.state.explainer`` hold the two workers."""
    try:
        from starlette.applications import Starlette
        from starlette.exceptions import HTTPException
        from starlette.responses import JSONResponse
        from starlette.routing import Route
    except ImportError as exc:
        raise InputError(
            f"workbench serve needs the serve extra ({exc.name} is missing): "
            "pip install -e '.[serve]'"
        ) from None

    limits = limits or ServeLimits()
    labels = [plain(label) for label in model.classes_]
    names = [str(label) for label in labels]
    description = model_description(model, model_dir) | {"limits": asdict(limits)}
    model.predict_proba(["warm up"])  # the first call builds caches; do it before any request
    batcher = MicroBatcher(
        model.predict_proba,
        max_batch=limits.max_batch,
        wait_ms=limits.batch_wait_ms,
        max_pending_texts=limits.max_pending_texts,
    )
    explainer = ExplainWorker(model, limits.explain_queue)

    def prediction(row: np.ndarray) -> dict:
        return {
            "label": labels[int(row.argmax())],
            "probabilities": {n: float(p) for n, p in zip(names, row, strict=True)},
        }

    async def predict(request):
        started = time.perf_counter()
        texts, single = parse_predict(await read_json_body(request, limits.max_body_bytes), limits)
        rows = await batcher.predict(texts)
        if single:
            return _timed(JSONResponse(prediction(rows[0])), started)
        return _timed(JSONResponse({"predictions": [prediction(row) for row in rows]}), started)

    async def explain_route(request):
        started = time.perf_counter()
        payload = await read_json_body(request, limits.max_body_bytes)
        text, method, settings = parse_explain(payload, limits)
        return _timed(JSONResponse(await explainer.explain(text, method, settings)), started)

    async def health(request):
        return JSONResponse(
            {"status": "ok", "predict": dict(batcher.stats), "explain": dict(explainer.stats)}
        )

    async def model_info(request):
        return JSONResponse(description)

    routes = [
        Route("/predict", predict, methods=["POST"]),
        Route("/explain", explain_route, methods=["POST"]),
        Route("/health", health, methods=["GET"]),
        Route("/model", model_info, methods=["GET"]),
    ]
    menu = "POST /predict, POST /explain, GET /health, GET /model"

    async def refused(request, exc: RequestError):
        return JSONResponse({"error": exc.message}, status_code=exc.status)

    async def model_refused(request, exc: InputError):  # e.g. a text with no words to explain
        return JSONResponse({"error": str(exc).splitlines()[0]}, status_code=422)

    async def http_error(request, exc: HTTPException):
        path = f"{request.method} {request.url.path}"
        message = {
            404: f"no route {path}; the server answers {menu}",
            405: f"{path} is not allowed; the server answers {menu}",
        }.get(exc.status_code, str(exc.detail))
        return JSONResponse({"error": message}, exc.status_code, headers=exc.headers)

    async def server_error(request, exc: Exception):
        # Starlette logs the traceback on the server; the client gets one line.
        return JSONResponse({"error": "internal server error; see the server's log"}, 500)

    @asynccontextmanager
    async def lifespan(app):
        yield
        batcher.close()
        explainer.close()

    app = Starlette(
        routes=routes,
        exception_handlers={
            RequestError: refused,
            InputError: model_refused,
            HTTPException: http_error,
            Exception: server_error,
        },
        lifespan=lifespan,
    )
    app.state.batcher = batcher
    app.state.explainer = explainer
    app.state.limits = limits
    return app


def build_server(
    model_dir: str | os.PathLike,
    host: str = "127.0.0.1",
    port: int = 8000,
    device: str = "cpu",
    *,
    threads: int | None = None,
    access_log: bool = False,
    **limits: Any,
):
    """A ``uvicorn.Server`` for the model in ``model_dir``, ready to ``run()``.

    ``threads``: ``torch.set_num_threads`` for the model (default: torch's choice, one per
    core). ``limits``: :class:`ServeLimits` fields. ``port=0`` picks a free port (read it
    from ``server.servers[0].sockets[0]`` once ``server.started``)."""
    import torch

    from workbench.artifacts import load_model

    try:
        import uvicorn
    except ImportError:
        raise InputError(
            "workbench serve needs the serve extra: pip install -e '.[serve]'"
        ) from None
    serve_limits = ServeLimits(**limits)
    if threads is not None:
        torch.set_num_threads(threads)
    model = load_model(model_dir, device=device)
    app = create_app(model, model_dir=model_dir, limits=serve_limits)
    app.state.explainer.warm_up()
    # Everything loaded so far (torch, the model, the explainers' libraries: hundreds of
    # thousands of objects) lives as long as the server: leave it out of garbage collection,
    # whose full passes over it stalled every request under load (benchmarks/serve.py
    # measures the latency under load).
    gc.freeze()
    return uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, access_log=access_log, log_level="info")
    )


def run(
    model_dir: str | os.PathLike,
    host: str = "127.0.0.1",
    port: int = 8000,
    device: str = "cpu",
    **options: Any,
) -> None:
    """Load ``model_dir`` and serve it until interrupted (Ctrl-C or SIGTERM).

    ``options``: ``threads``, ``access_log`` and the :class:`ServeLimits` fields."""
    build_server(model_dir, host, port, device, **options).run()


# ---------------------------------------------------------------------------------- CLI

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
    serve = commands.add_parser(
        "serve",
        help="serve a saved model's predictions and explanations over HTTP",
        description='Serve a saved model over HTTP: POST /predict ({"text": ...} or '
        '{"texts": [...]}), POST /explain ({"text": ..., "method": ...}; the JSON of '
        "`workbench explain --json`), GET /health and GET /model. Concurrent predictions "
        "are batched into one model call; explanations run one at a time beside them. "
        "Needs the serve extra (pip install -e '.[serve]').",
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
    run(
        args.model,
        host=args.host,
        port=args.port,
        device=args.device,
        threads=args.threads,
        access_log=args.access_log,
        **limits,
    )
