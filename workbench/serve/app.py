"""The Starlette application: four routes over the micro-batcher and the explanation worker,
and one JSON ``{"error": "..."}`` line for every request it refuses or fails."""

from __future__ import annotations

import os
import time
from contextlib import asynccontextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from workbench.data import plain
from workbench.errors import InputError
from workbench.estimators import TextModel
from workbench.serve.batcher import MicroBatcher
from workbench.serve.explain_worker import ExplainWorker
from workbench.serve.limits import RequestError, ServeLimits
from workbench.serve.validation import parse_explain, parse_predict, read_json_body
from workbench.version import __version__

# What the server answers; a request for anything else is told so.
_MENU = "POST /predict, POST /explain, GET /health, GET /model"


def _timed(response: Any, started: float) -> Any:
    """``response`` with a ``Server-Timing`` header: the milliseconds the request spent in
    the server from reading its body to its answer (queueing and batching included), so a
    client can tell the server's share of the latency it sees from the network's and its own."""
    response.headers["server-timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.2f}"
    return response


def model_description(model: TextModel, model_dir: str | os.PathLike | None) -> dict:
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
    model: TextModel,
    *,
    model_dir: str | os.PathLike | None = None,
    limits: ServeLimits | None = None,
):
    """The Starlette application serving ``model`` (a fitted classifier with
    ``predict_proba`` and ``classes_``); ``model_dir`` supplies ``GET /model``'s config and
    metrics. ``app.state.batcher`` and ``app.state.explainer`` hold the two workers."""
    try:
        from starlette.applications import Starlette
    except ImportError as exc:
        raise InputError(
            f"workbench serve needs the serve extra ({exc.name} is missing): "
            "pip install -e '.[serve]'"
        ) from None

    limits = limits or ServeLimits()
    description = model_description(model, model_dir) | {"limits": asdict(limits)}
    model.predict_proba(["warm up"])  # the first call builds caches; do it before any request
    batcher = MicroBatcher(
        model.predict_proba,
        max_batch=limits.max_batch,
        wait_ms=limits.batch_wait_ms,
        max_pending_texts=limits.max_pending_texts,
    )
    explainer = ExplainWorker(model, limits.explain_queue)

    @asynccontextmanager
    async def lifespan(app):
        yield
        batcher.close()
        explainer.close()

    app = Starlette(
        routes=_routes(model, limits, batcher, explainer, description),
        exception_handlers=_error_handlers(),
        lifespan=lifespan,
    )
    app.state.batcher = batcher
    app.state.explainer = explainer
    app.state.limits = limits
    return app


def _routes(
    model: TextModel,
    limits: ServeLimits,
    batcher: MicroBatcher,
    explainer: ExplainWorker,
    description: dict,
) -> list:
    """The four routes: ``/predict`` through ``batcher``, ``/explain`` through
    ``explainer``, ``/health`` their counters, ``/model`` the ``description``."""
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    labels = [plain(label) for label in model.classes_]
    names = [str(label) for label in labels]

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

    return [
        Route("/predict", predict, methods=["POST"]),
        Route("/explain", explain_route, methods=["POST"]),
        Route("/health", health, methods=["GET"]),
        Route("/model", model_info, methods=["GET"]),
    ]


def _error_handlers() -> dict:
    """Starlette's exception handlers: a refused request, a text the model cannot take, an
    unknown route and a server failure each answer one JSON ``{"error": "..."}`` line."""
    from starlette.exceptions import HTTPException
    from starlette.responses import JSONResponse

    async def refused(request, exc: RequestError):
        return JSONResponse({"error": exc.message}, status_code=exc.status)

    async def model_refused(request, exc: InputError):  # e.g. a text with no words to explain
        return JSONResponse({"error": str(exc).splitlines()[0]}, status_code=422)

    async def http_error(request, exc: HTTPException):
        path = f"{request.method} {request.url.path}"
        message = {
            404: f"no route {path}; the server answers {_MENU}",
            405: f"{path} is not allowed; the server answers {_MENU}",
        }.get(exc.status_code, str(exc.detail))
        return JSONResponse({"error": message}, exc.status_code, headers=exc.headers)

    async def server_error(request, exc: Exception):
        # Starlette logs the traceback on the server; the client gets one line.
        return JSONResponse({"error": "internal server error; see the server's log"}, 500)

    return {
        RequestError: refused,
        InputError: model_refused,
        HTTPException: http_error,
        Exception: server_error,
    }
