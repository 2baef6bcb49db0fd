"""The uvicorn server around the application: load a model directory, serve it."""

from __future__ import annotations

import gc
import os
from typing import Any

from workbench.errors import InputError
from workbench.serve.app import create_app
from workbench.serve.limits import ServeLimits


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
