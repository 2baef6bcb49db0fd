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

Starlette and uvicorn (the ``serve`` extra) are imported only when a server is built, and
this package's names load on first use, so ``workbench serve --help`` neither needs nor
waits for them, nor for torch.

One module per concern: :mod:`~workbench.serve.limits` (what a request may ask for, and the
refusal), :mod:`~workbench.serve.batcher` (micro-batching), :mod:`~workbench.serve.explain_worker`,
:mod:`~workbench.serve.validation` (requests checked), :mod:`~workbench.serve.app` (the
Starlette routes), :mod:`~workbench.serve.server` (uvicorn) and :mod:`~workbench.serve.cli`.
"""

from typing import TYPE_CHECKING, Any

from workbench.lazy import lazy_attribute

if TYPE_CHECKING:  # what mypy and editors see; at run time __getattr__ imports these
    from workbench.serve.app import create_app, model_description
    from workbench.serve.batcher import MicroBatcher
    from workbench.serve.cli import add_serve_parser, serve_command
    from workbench.serve.explain_worker import ExplainWorker
    from workbench.serve.limits import RequestError, ServeLimits
    from workbench.serve.server import build_server, run
    from workbench.serve.validation import (
        MAX_SEED,
        MIN_MAX_EVALS,
        MIN_NUM_SAMPLES,
        MIN_STEPS,
        parse_explain,
        parse_predict,
        read_json_body,
    )

# Each public name and the module it comes from, imported on first use (PEP 562): so
# `workbench serve --help`, which needs only workbench.serve.cli and .limits, does not
# import the explainers (torch, shap) through .app and .explain_worker.
_SOURCES = {
    "create_app": "app",
    "model_description": "app",
    "MicroBatcher": "batcher",
    "add_serve_parser": "cli",
    "serve_command": "cli",
    "ExplainWorker": "explain_worker",
    "RequestError": "limits",
    "ServeLimits": "limits",
    "build_server": "server",
    "run": "server",
    "MAX_SEED": "validation",
    "MIN_MAX_EVALS": "validation",
    "MIN_NUM_SAMPLES": "validation",
    "MIN_STEPS": "validation",
    "parse_explain": "validation",
    "parse_predict": "validation",
    "read_json_body": "validation",
}

__all__ = [
    "MAX_SEED",
    "MIN_MAX_EVALS",
    "MIN_NUM_SAMPLES",
    "MIN_STEPS",
    "ExplainWorker",
    "MicroBatcher",
    "RequestError",
    "ServeLimits",
    "add_serve_parser",
    "build_server",
    "create_app",
    "model_description",
    "parse_explain",
    "parse_predict",
    "read_json_body",
    "run",
    "serve_command",
]


def __getattr__(name: str) -> Any:
    """A public name, imported from its module on first use; or a submodule."""
    value = lazy_attribute(__name__, _SOURCES, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
