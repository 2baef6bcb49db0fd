"""Serving under load: ``workbench serve``'s /predict against the model called in-process.

Starts the server (``workbench.serve.run``, the CLI's code after argparse) in a process of
its own on 127.0.0.1 and a free port, then, from this process, with a real HTTP client
(``httpx.AsyncClient``, one per simulated caller, on asyncio with uvloop where installed):

  1. /predict, one text per request, at concurrency 1, 8 and 64 (``--requests`` each):
     throughput, p50 and p99 latency as the client sees it and inside the server (its
     ``Server-Timing`` header), CPU milliseconds per request of server and client, errors,
     and whether every answer matches the model's own probabilities for its text.
  2. The named baseline, in the same run: in-process batched throughput,
     ``model.predict_proba(texts)`` on the same test texts, measured just before each
     level while the server idles; reported as the ratio HTTP / in-process.
  3. /predict at concurrency 8 while ``--explainers`` clients ask for SHAP explanations
     without pause: explanations must not starve predictions.
  4. ``--malformed`` bad requests (wrong types, missing fields, huge bodies, invalid UTF-8,
     bad JSON, unknown methods and routes, budgets out of range, ...): each must get a 4xx
     with a JSON error; then /predict must still answer correctly.

Targets (2 CPU cores): at concurrency 64, throughput >= 50 % of in-process batched
throughput and p99 < 100 ms; zero errors. Server and client share the machine's cores; the
load average is recorded at start and end.

    python benchmarks/serve.py --model /tmp/serve_model
    python benchmarks/serve.py            # trains the default transformer first (~15 s)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
import psutil
from _common import (
    REPO,
    RESULTS,
    add_machine_args,
    command_line,
    print_table,
    settle_machine,
    write_record,
)

from workbench.artifacts import load_model
from workbench.data import load_table

try:  # the client runs on uvloop where the serve extra installed it, as the server does
    from uvloop import run as run_async
except ImportError:
    run_async = asyncio.run

HOST = "127.0.0.1"
# Probabilities from a batch of other texts may differ from a lone call in the last bits
# (different padding, different matrix shapes); anything beyond this is a wrong answer.
MATCH_TOLERANCE = 1e-4


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def start_server(model_dir: Path, port: int, threads: int | None) -> subprocess.Popen:
    """``workbench.serve.run`` in a process of its own (the CLI's code path after argparse)."""
    code = (
        "import sys; from workbench.serve import run; "
        "run(sys.argv[1], port=int(sys.argv[2]), threads=int(sys.argv[3]) or None)"
    )
    command = [sys.executable, "-c", code, str(model_dir), str(port), str(threads or 0)]
    return subprocess.Popen(command)


def wait_until_up(base: str, server: subprocess.Popen, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with code {server.returncode}")
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"the server did not answer /health within {timeout_s:.0f} s")


def in_process_throughput(model, texts: list[str], min_seconds: float = 3.0) -> float:
    """Texts per second of ``model.predict_proba(texts)`` on the whole list, repeated."""
    model.predict_proba(texts)  # warm
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < min_seconds:
        model.predict_proba(texts)
        done += len(texts)
    return done / (time.perf_counter() - started)


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system + times.children_user + times.children_system


async def predict_load(
    base: str,
    texts: list[str],
    expected: np.ndarray,
    labels: list[str],
    concurrency: int,
    requests: int,
    server_pid: int,
) -> dict:
    """``requests`` single-text /predict calls from ``concurrency`` clients in a loop.

    Each client has its own ``httpx.AsyncClient`` with one keep-alive connection, as
    independent callers would: one client with a pool of 64 connections spends most of its
    time in httpcore's pool bookkeeping, which grows with the square of the pool size. The
    clients are opened and connected before the clock starts (opening one takes ~50 ms)."""
    latencies, server_latencies, errors, mismatches = [], [], [], 0
    next_index = 0

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal next_index, mismatches
        while next_index < requests:
            i = next_index % len(texts)
            next_index += 1
            sent = time.perf_counter()
            try:
                response = await http.post("/predict", json={"text": texts[i]})
            except httpx.HTTPError as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                continue
            latencies.append(time.perf_counter() - sent)
            if response.status_code != 200:
                errors.append(f"{response.status_code}: {response.text[:200]}")
                continue
            got = response.json()["probabilities"]
            if np.abs([got[n] for n in labels] - expected[i]).max() > MATCH_TOLERANCE:
                mismatches += 1
            server_latencies.append(float(response.headers["server-timing"].split("dur=")[1]))

    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(httpx.AsyncClient(base_url=base, timeout=60))
            for _ in range(concurrency)
        ]
        await asyncio.gather(*(http.get("/health") for http in clients))  # connect
        batching_before = (await clients[0].get("/health")).json()["predict"]
        processes = [psutil.Process(server_pid), psutil.Process()]
        cpu_before = [cpu_seconds(p) for p in processes]
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for http in clients))
        seconds = time.perf_counter() - started
        server_cpu, client_cpu = (
            cpu_seconds(p) - b for p, b in zip(processes, cpu_before, strict=True)
        )
        batching_after = (await clients[0].get("/health")).json()["predict"]
    texts = batching_after["texts"] - batching_before["texts"]
    model_calls = batching_after["batches"] - batching_before["batches"]
    return {
        "concurrency": concurrency,
        "requests": requests,
        "seconds": round(seconds, 3),
        "throughput": len(latencies) / seconds,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        # the server's own share (Server-Timing: from its reading the body to its answer)
        "server_p50_ms": percentile(server_latencies, 50),
        "server_p99_ms": percentile(server_latencies, 99),
        "errors": len(errors),
        "error_examples": errors[:5],
        "mismatches": mismatches,
        "texts_per_model_call": texts / max(model_calls, 1),
        # CPU seconds per request: where the two cores went (the client shares them)
        "server_cpu_ms": server_cpu / requests * 1000,
        "client_cpu_ms": client_cpu / requests * 1000,
    }


async def predict_beside_explanations(
    base: str, texts, expected, labels, requests: int, explainers: int, server_pid: int
) -> dict:
    """Concurrency-8 /predict while ``explainers`` clients request SHAP explanations."""
    stop = asyncio.Event()
    explanations, refused, failed = [], 0, []

    async def explainer(http: httpx.AsyncClient, offset: int) -> None:
        nonlocal refused
        i = offset
        while not stop.is_set():
            sent = time.perf_counter()
            response = await http.post(
                "/explain", json={"text": texts[i % len(texts)], "method": "shap"}
            )
            if response.status_code == 200:
                explanations.append(time.perf_counter() - sent)
            elif response.status_code == 503:
                refused += 1
                await asyncio.sleep(0.05)
            else:
                failed.append(f"{response.status_code}: {response.text[:200]}")
            i += explainers

    async with httpx.AsyncClient(base_url=base, timeout=120) as http:
        tasks = [asyncio.create_task(explainer(http, k)) for k in range(explainers)]
        await asyncio.sleep(1.0)  # let the first explanations get going
        result = await predict_load(base, texts, expected, labels, 8, requests, server_pid)
        stop.set()
        await asyncio.gather(*tasks)
    return result | {
        "explainers": explainers,
        "explanations_done": len(explanations),
        "explanation_median_s": statistics.median(explanations) if explanations else None,
        "explanations_refused_503": refused,
        "explanation_errors": failed[:5],
    }


def malformed_requests(huge_bytes: int) -> list[tuple[str, str, str, dict]]:
    """(kind, method, path, httpx request options) for each kind of bad request."""
    long_text = "word " * 2_500  # 12,500 characters: over the 10,000-character limit
    json_headers = {"content-type": "application/json"}
    return [
        ("text not a string", "POST", "/predict", {"json": {"text": 42}}),
        ("text null", "POST", "/predict", {"json": {"text": None}}),
        ("texts not a list", "POST", "/predict", {"json": {"texts": "one text"}}),
        ("texts holds a number", "POST", "/predict", {"json": {"texts": ["ok", 7]}}),
        ("texts empty", "POST", "/predict", {"json": {"texts": []}}),
        ("texts too many", "POST", "/predict", {"json": {"texts": ["a"] * 257}}),
        ("text and texts", "POST", "/predict", {"json": {"text": "a", "texts": ["b"]}}),
        ("missing field", "POST", "/predict", {"json": {}}),
        ("unknown field", "POST", "/predict", {"json": {"txt": "typo"}}),
        ("body a list", "POST", "/predict", {"json": ["a", "b"]}),
        ("body a string", "POST", "/predict", {"json": "a"}),
        ("text too long", "POST", "/predict", {"json": {"text": long_text}}),
        ("huge body", "POST", "/predict", {"content": b'{"text": "' + b"a" * huge_bytes + b'"}'}),
        ("invalid UTF-8", "POST", "/predict", {"content": b'{"text": "bad \xff\xfe"}'}),
        ("lone surrogate", "POST", "/predict", {"content": b'{"text": "\\ud800"}'}),
        ("not JSON", "POST", "/predict", {"content": b"text=hello", "headers": json_headers}),
        ("truncated JSON", "POST", "/predict", {"content": b'{"text": "a'}),
        ("deep nesting", "POST", "/predict", {"content": b"[" * 100_000 + b"]" * 100_000}),
        ("empty body", "POST", "/predict", {"content": b""}),
        ("GET /predict", "GET", "/predict", {}),
        ("unknown route", "POST", "/predictions", {"json": {"text": "a"}}),
        ("unknown method", "POST", "/explain", {"json": {"text": "good", "method": "magic"}}),
        ("max_evals too high", "POST", "/explain", {"json": {"text": "a", "max_evals": 10**9}}),
        ("max_evals a string", "POST", "/explain", {"json": {"text": "a", "max_evals": "500"}}),
        (
            "steps zero",
            "POST",
            "/explain",
            {"json": {"text": "a", "method": "integrated-gradients", "steps": 0}},
        ),  # noqa: E501
        ("num_samples for shap", "POST", "/explain", {"json": {"text": "a", "num_samples": 100}}),
        ("explain missing text", "POST", "/explain", {"json": {"method": "shap"}}),
        (
            "explain blank text",
            "POST",
            "/explain",
            {"json": {"text": "   ", "method": "attention"}},
        ),  # noqa: E501
    ]


async def malformed_load(base: str, count: int, concurrency: int = 8) -> dict:
    """``count`` bad requests cycling through every kind; each must get a JSON 4xx."""
    catalogue = malformed_requests(huge_bytes=2 * 1_048_576)
    by_kind: dict[str, dict] = {kind: {"sent": 0, "4xx_json": 0} for kind, *_ in catalogue}
    failures: list[str] = []
    next_index = 0

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal next_index
        while next_index < count:
            kind, method, path, options = catalogue[next_index % len(catalogue)]
            next_index += 1
            by_kind[kind]["sent"] += 1
            try:
                response = await http.request(method, path, **options)
            except httpx.HTTPError as exc:
                failures.append(f"{kind}: {type(exc).__name__}: {exc}")
                continue
            is_json_error = response.headers.get("content-type", "").startswith(
                "application/json"
            ) and isinstance(response.json().get("error"), str)
            if 400 <= response.status_code < 500 and is_json_error:
                by_kind[kind]["4xx_json"] += 1
            else:
                failures.append(f"{kind}: {response.status_code} {response.text[:200]}")

    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    return {
        "requests": count,
        "seconds": round(seconds, 2),
        "answered_4xx_json": sum(k["4xx_json"] for k in by_kind.values()),
        "failures": len(failures),
        "failure_examples": failures[:10],
        "by_kind": by_kind,
    }


def parse_args() -> tuple[argparse.Namespace, list[str]]:
    """The options, and which of the paths were left at their defaults (the record's
    command leaves those out)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--model", type=Path, help="model directory (default: train the default transformer)"
    )
    parser.add_argument(
        "--data", type=Path, default=REPO / "data/reviews/test.csv", help="texts to send"
    )
    parser.add_argument(
        "--train",
        type=Path,
        default=REPO / "data/reviews/train.csv",
        help="training table when --model is not given",
    )
    parser.add_argument(
        "--requests", type=int, default=3000, help="/predict requests per concurrency (3000)"
    )
    parser.add_argument("--concurrency", default="1,8,64", help="levels to run (1,8,64)")
    parser.add_argument(
        "--explainers", type=int, default=2, help="SHAP clients beside /predict (2; 0 skips)"
    )
    parser.add_argument("--malformed", type=int, default=1000, help="bad requests (1000)")
    add_machine_args(parser)  # --threads: the server's (workbench serve --threads) and the
    # in-process baseline's alike
    parser.add_argument("--out", type=Path, default=RESULTS / "serve.json")
    args = parser.parse_args()
    default_paths = [
        name for name in ("data", "train") if getattr(args, name) == parser.get_default(name)
    ]
    return args, default_paths


def train_default_model(train: Path, model_dir: Path) -> Path:
    """``workbench train`` of the default transformer on ``train``, into ``model_dir``."""
    subprocess.run(
        [sys.executable, "-m", "workbench", "train", "--data", str(train),
         "--out", str(model_dir), "--quiet"],
        check=True,
    )  # fmt: skip
    return model_dir


def measure(args: argparse.Namespace, model_dir: Path, model, texts: list[str]) -> dict:
    """The server's runs (see :func:`load_server`) between two in-process baselines."""
    labels = [str(label) for label in model.classes_]
    expected = np.stack([model.predict_proba([t])[0] for t in texts])
    # This client holds torch and the model too: keep their ~400,000 objects out of its
    # garbage collections, whose full passes stalled every request in flight (~250 ms).
    gc.freeze()
    baseline_before = in_process_throughput(model, texts)

    port = free_port()
    base = f"http://{HOST}:{port}"
    server = start_server(model_dir, port, args.threads)
    try:
        wait_until_up(base, server)
        runs = load_server(args, base, server.pid, model, texts, expected, labels)
    finally:
        server.terminate()
        server.wait(timeout=30)
    baseline_after = in_process_throughput(model, texts)
    return runs | {"in_process_throughput": {"before": baseline_before, "after": baseline_after}}


def load_server(
    args: argparse.Namespace,
    base: str,
    server_pid: int,
    model,
    texts: list[str],
    expected: np.ndarray,
    labels: list[str],
) -> dict:
    """Steps 1, 3 and 4 of the module docstring against the running server, then its stats."""

    def predict(concurrency: int, requests: int) -> dict:
        return run_async(
            predict_load(base, texts, expected, labels, concurrency, requests, server_pid)
        )

    # The server warms its explainer up (shap compiles on first use, ~12 s) in the
    # background: one explanation waits for that, so it does not overlap the timing.
    httpx.post(f"{base}/explain", json={"text": texts[0]}, timeout=300).raise_for_status()
    predict(8, 300)  # warm-up
    rows = predict_levels(args, model, texts, predict)
    mixed = None
    if args.explainers:
        mixed = run_async(
            predict_beside_explanations(
                base,
                texts,
                expected,
                labels,
                args.requests,
                args.explainers,
                server_pid,
            )
        )
    malformed = run_async(malformed_load(base, args.malformed))
    after = predict(8, 200)
    health = httpx.get(f"{base}/health", timeout=10).json()
    return {"rows": rows, "mixed": mixed, "malformed": malformed, "after": after, "health": health}


def predict_levels(
    args: argparse.Namespace, model, texts: list[str], predict: Callable[[int, int], dict]
) -> list[dict]:
    """/predict at each ``--concurrency`` level (``predict(concurrency, requests)``, a
    :func:`predict_load` on the server), each beside its in-process baseline."""
    levels = [int(c) for c in args.concurrency.split(",")]
    rows = []
    for concurrency in levels:
        # measured just before each level, while the server idles: on a shared
        # machine the load drifts between levels, and the ratio should not
        adjacent = in_process_throughput(model, texts, min_seconds=2.0)
        row = predict(concurrency, args.requests)
        row["in_process_throughput"] = adjacent
        row["ratio_vs_in_process"] = row["throughput"] / adjacent
        rows.append(row)
        print(
            f"c={concurrency}: {row['throughput']:.0f}/s p50 {row['p50_ms']:.1f} ms "
            f"p99 {row['p99_ms']:.1f} ms errors {row['errors']}; in-process "
            f"{adjacent:.0f}/s",
            flush=True,
        )
    return rows


def print_results(runs: dict, texts: int) -> None:
    baseline = runs["in_process_throughput"]
    rows, mixed, malformed = runs["rows"], runs["mixed"], runs["malformed"]
    print(
        f"\nin-process batched predict_proba on the {texts} test texts: "
        f"{baseline['before']:.0f}/s before the server started, {baseline['after']:.0f}/s after "
        "it stopped; each level's ratio uses the one measured just before it"
    )
    columns = [
        ("concurrency", "concurrency", "d"),
        ("throughput", "requests/s", ".0f"),
        ("in_process_throughput", "in-process/s", ".0f"),
        ("ratio_vs_in_process", "ratio", ".2f"),
        ("p50_ms", "p50 ms", ".1f"),
        ("p99_ms", "p99 ms", ".1f"),
        ("server_p50_ms", "in-server p50", ".1f"),
        ("server_p99_ms", "in-server p99", ".1f"),
        ("errors", "errors", "d"),
        ("mismatches", "mismatches", "d"),
        ("texts_per_model_call", "texts/model call", ".1f"),
        ("server_cpu_ms", "server CPU ms/req", ".2f"),
        ("client_cpu_ms", "client CPU ms/req", ".2f"),
    ]
    print_table(rows, columns)
    alone = next((r for r in rows if r["concurrency"] == 8), None)
    if mixed is not None and alone is not None:
        print(
            f"\nc=8 alone: {alone['throughput']:.0f}/s, p50 {alone['p50_ms']:.1f} ms, p99 "
            f"{alone['p99_ms']:.1f} ms. Beside {mixed['explainers']} SHAP clients: "
            f"{mixed['throughput']:.0f}/s, "
            f"p50 {mixed['p50_ms']:.1f} ms, p99 {mixed['p99_ms']:.1f} ms, errors "
            f"{mixed['errors']}; {mixed['explanations_done']} explanations (median "
            f"{mixed['explanation_median_s'] or float('nan'):.2f} s), "
            f"{mixed['explanations_refused_503']} refused with 503"
        )
    print(
        f"malformed: {malformed['answered_4xx_json']}/{malformed['requests']} answered 4xx "
        f"with a JSON error; failures {malformed['failures']}"
    )
    after = runs["after"]
    print(f"after them: /predict c=8 errors {after['errors']}, mismatches {after['mismatches']}")
    print(f"server batching: {runs['health']['predict']}")


def check_targets(runs: dict) -> dict | None:
    """The module docstring's targets at concurrency 64 (None when that level did not run)."""
    rows, mixed = runs["rows"], runs["mixed"]
    top = next((r for r in rows if r["concurrency"] == 64), None)
    if top is None:
        return None
    targets = {
        "c64_throughput_ratio": top["ratio_vs_in_process"],
        "c64_throughput_ratio_met": top["ratio_vs_in_process"] >= 0.5,
        "c64_p99_ms": top["p99_ms"],
        "c64_p99_met": top["p99_ms"] < 100,
        "zero_errors": all(
            r["errors"] == 0 and r["mismatches"] == 0
            for r in [*rows, runs["after"], *([mixed] if mixed else [])]
        ),
        "malformed_all_4xx": runs["malformed"]["failures"] == 0,
    }
    print(f"targets: {targets}")
    return targets


def main() -> None:
    args, default_paths = parse_args()
    load_at_start = settle_machine(args)
    print(f"load average at start: {load_at_start}", flush=True)
    with tempfile.TemporaryDirectory() as scratch:
        model_dir = args.model or train_default_model(args.train, Path(scratch) / "model")
        texts = load_table(args.data, "text", None).texts
        model = load_model(model_dir, device="cpu")
        runs = measure(args, model_dir, model, texts)
    print_results(runs, len(texts))
    targets = check_targets(runs)
    write_record(
        args.out,
        "serve",
        command_line("serve.py", args, skip=["out", *default_paths]),
        load_at_start,
        model=str(args.model) if args.model else "default transformer trained in this run",
        texts=len(texts),
        in_process_throughput=runs["in_process_throughput"],
        predict=runs["rows"],
        predict_beside_explanations=runs["mixed"],
        malformed=runs["malformed"],
        predict_after_malformed=runs["after"],
        server_stats=runs["health"],
        targets=targets,
    )


if __name__ == "__main__":
    main()
