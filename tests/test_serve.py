"""``workbench serve``: each route, the micro-batcher, every class of bad request, and a
short concurrent run against a real uvicorn server on 127.0.0.1.

Most tests talk to the application in-process through httpx's ASGITransport; one starts
uvicorn in a thread on a free port and stops it. Every test sends a bounded number of
requests with timeouts, so the file finishes by itself in seconds.
"""

from __future__ import annotations

import asyncio
import gc
import json
import threading
import time

import httpx
import numpy as np
import pytest

from workbench.cli import main
from workbench.errors import InputError
from workbench.explain import explain
from workbench.serve import MicroBatcher, RequestError, ServeLimits, build_server, create_app
from workbench.version import __version__

LIMITS = ServeLimits(
    max_text_chars=200,
    max_texts=8,
    max_body_bytes=4096,
    max_batch=16,
    batch_wait_ms=20,  # wide, so concurrent test requests surely meet in one batch
    explain_queue=1,
    max_evals=400,
    max_num_samples=400,
    max_steps=20,
)


@pytest.fixture(scope="module")
def app(trained_clf, artifact_dir):
    app = create_app(trained_clf, model_dir=artifact_dir, limits=LIMITS)
    yield app
    app.state.batcher.close()
    app.state.explainer.close()


async def _request(app, method: str, path: str, **options) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://serve", timeout=30) as c:
        return await c.request(method, path, **options)


def call(app, method: str, path: str, **options) -> httpx.Response:
    return asyncio.run(_request(app, method, path, **options))


def probabilities(response: httpx.Response, clf) -> np.ndarray:
    return np.array([response.json()["probabilities"][str(c)] for c in clf.classes_])


# ---------------------------------------------------------------------------- routes


def test_health(app):
    response = call(app, "GET", "/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert set(response.json()["predict"]) >= {"requests", "texts", "batches"}


def test_model_reports_labels_config_version_metrics_and_limits(app, trained_clf, artifact_dir):
    body = call(app, "GET", "/model").json()
    assert body["labels"] == trained_clf.classes_.tolist()
    assert body["model_type"] == "TextClassifier"
    assert body["workbench_version"] == __version__
    assert body["config"] == json.loads((artifact_dir / "config.json").read_text())
    assert body["metrics"] == json.loads((artifact_dir / "metrics.json").read_text())
    assert body["limits"]["max_texts"] == LIMITS.max_texts


def test_predict_one_text(app, trained_clf):
    response = call(app, "POST", "/predict", json={"text": "a great and lovely film"})
    assert response.status_code == 200
    assert float(response.headers["server-timing"].split("app;dur=")[1]) > 0
    expected = trained_clf.predict_proba(["a great and lovely film"])[0]
    assert response.json()["label"] == trained_clf.classes_[expected.argmax()]
    np.testing.assert_allclose(probabilities(response, trained_clf), expected, atol=1e-5)


def test_predict_a_list_keeps_its_order(app, trained_clf):
    texts = ["awful food", "superb staff", "the plot was dull", "", "good"]
    response = call(app, "POST", "/predict", json={"texts": texts})
    assert response.status_code == 200
    predictions = response.json()["predictions"]
    expected = trained_clf.predict_proba(texts)
    assert [p["label"] for p in predictions] == trained_clf.classes_[expected.argmax(1)].tolist()
    got = [[p["probabilities"][str(c)] for c in trained_clf.classes_] for p in predictions]
    np.testing.assert_allclose(got, expected, atol=1e-5)


@pytest.mark.parametrize(
    ("method", "fields", "settings"),
    [
        ("shap", {"max_evals": 60}, {"max_evals": 60}),
        ("lime", {"num_samples": 80, "seed": 3}, {"num_samples": 80, "seed": 3}),
        ("integrated-gradients", {"steps": 8}, {"n_steps": 8}),
        ("attention", {}, {}),
    ],
)
def test_explain_returns_what_explain_json_writes(app, trained_clf, method, fields, settings):
    text = "the food was great but the service was awful"
    response = call(app, "POST", "/explain", json={"text": text, "method": method, **fields})
    assert response.status_code == 200
    expected = explain(trained_clf, text, method, **settings).to_dict()
    assert response.json() == json.loads(json.dumps(expected))  # Explanation.to_json's dict


def test_explain_defaults_to_shap(app):
    response = call(app, "POST", "/explain", json={"text": "good food"})
    assert response.status_code == 200
    assert response.json()["method"] == "shap"
    # the CLI's default, 500, is above this server's highest, 400: the highest is used
    assert response.json()["settings"]["max_evals"] == 400


# -------------------------------------------------------------------------- batching


async def _many_predictions(app, texts: list[str]) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://serve", timeout=30) as c:
        return await asyncio.gather(*(c.post("/predict", json={"text": t}) for t in texts))


def test_concurrent_requests_are_batched_and_each_gets_its_own_answer(
    app, trained_clf, make_corpus
):
    texts, _ = make_corpus(40, seed=7)
    before = dict(app.state.batcher.stats)
    responses = asyncio.run(_many_predictions(app, texts))
    after = app.state.batcher.stats
    assert [r.status_code for r in responses] == [200] * len(texts)
    expected = trained_clf.predict_proba(texts)
    got = np.stack([probabilities(r, trained_clf) for r in responses])
    np.testing.assert_allclose(got, expected, atol=1e-5)  # row i answers text i
    requests = after["requests"] - before["requests"]
    batches = after["batches"] - before["batches"]
    assert requests == len(texts)
    assert batches < requests  # texts of different requests shared model calls
    assert after["largest_batch"] > 1


class RecordingModel:
    """predict_proba of texts "0", "1", ...: row i is (i, -i); records each batch's size."""

    def __init__(self, fail: bool = False) -> None:
        self.batches: list[int] = []
        self.fail = fail

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        self.batches.append(len(texts))
        if self.fail:
            raise RuntimeError("the model failed")
        return np.array([[float(t), -float(t)] for t in texts])


def run_batcher(model: RecordingModel, requests: list[list[str]], **options) -> list:
    async def scenario():
        batcher = MicroBatcher(model.predict_proba, **options)
        try:
            calls = (batcher.predict(texts) for texts in requests)
            return await asyncio.wait_for(
                asyncio.gather(*calls, return_exceptions=True), timeout=20
            )
        finally:
            batcher.close()

    return asyncio.run(scenario())


def test_batcher_answers_each_request_with_its_own_rows_within_max_batch():
    model = RecordingModel()
    requests = [[str(i)] for i in range(30)] + [["100", "101", "102"]]
    answers = run_batcher(model, requests, max_batch=8, wait_ms=50)
    for texts, rows in zip(requests, answers, strict=True):
        np.testing.assert_array_equal(rows[:, 0], [float(t) for t in texts])
    assert max(model.batches) <= 8
    assert len(model.batches) < len(requests)


def test_batcher_runs_a_list_larger_than_max_batch_alone():
    model = RecordingModel()
    answers = run_batcher(model, [[str(i) for i in range(10)]], max_batch=4)
    assert model.batches == [10]
    assert answers[0].shape == (10, 2)


def test_batcher_does_not_make_a_lone_client_wait_for_the_window():
    model = RecordingModel()

    async def one_at_a_time():
        batcher = MicroBatcher(model.predict_proba, wait_ms=60_000)  # a minute's window
        try:
            for i in range(3):  # wait_for fails the test if the window were applied
                await asyncio.wait_for(batcher.predict([str(i)]), timeout=20)
        finally:
            batcher.close()

    asyncio.run(one_at_a_time())
    assert model.batches == [1, 1, 1]


def test_batcher_hands_a_model_error_to_every_request_in_the_batch():
    answers = run_batcher(RecordingModel(fail=True), [["1"], ["2"]], wait_ms=50)
    assert all(isinstance(a, RuntimeError) for a in answers)


def test_batcher_refuses_texts_beyond_its_queue_with_503():
    answers = run_batcher(RecordingModel(), [["1", "2", "3"]], max_pending_texts=2)
    assert isinstance(answers[0], RequestError) and answers[0].status == 503


def test_predictions_are_answered_while_an_explanation_runs(app, monkeypatch):
    release = threading.Event()

    class Blocked:
        def to_dict(self):
            return {"method": "blocked"}

    def slow_explain(*args, **kwargs):
        release.wait(timeout=20)
        return Blocked()

    monkeypatch.setattr("workbench.serve.explain_worker.explain", slow_explain)

    async def scenario():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://s", timeout=30) as c:
            running = asyncio.create_task(c.post("/explain", json={"text": "good"}))
            await asyncio.sleep(0.2)  # the explanation is now holding its worker
            started = time.perf_counter()
            predicted = await c.post("/predict", json={"text": "good"})
            predict_seconds = time.perf_counter() - started
            refused = await c.post("/explain", json={"text": "bad"})  # explain_queue=1
            release.set()
            return predicted, predict_seconds, refused, await running

    predicted, predict_seconds, refused, explained = asyncio.run(scenario())
    assert predicted.status_code == 200
    assert predict_seconds < 5  # not queued behind the explanation (which waits up to 20 s)
    assert refused.status_code == 503
    assert "retry" in refused.json()["error"]
    assert explained.status_code == 200


# ---------------------------------------------------------------------------- errors


class ChunkedBody:
    """A body httpx sends in chunks with no Content-Length; iterable more than once."""

    def __init__(self, size: int) -> None:
        self.size = size

    async def __aiter__(self):
        for _ in range(0, self.size, 1000):
            yield b" " * 1000


BAD_REQUESTS = [
    # (case, method, path, httpx options, status, words the error must contain)
    ("wrong JSON type", "POST", "/predict", {"json": {"text": 42}}, 400, "'text' must be a string"),
    ("texts not a list", "POST", "/predict", {"json": {"texts": "a"}}, 400, "list of strings"),
    ("item not a string", "POST", "/predict", {"json": {"texts": ["a", None]}}, 400, "texts[1]"),
    ("body not an object", "POST", "/predict", {"json": ["a"]}, 400, "JSON object"),
    ("missing field", "POST", "/predict", {"json": {}}, 400, "give either 'text'"),
    ("both fields", "POST", "/predict", {"json": {"text": "a", "texts": ["b"]}}, 400, "not both"),
    ("unknown field", "POST", "/predict", {"json": {"txt": "a"}}, 400, "unknown field(s) 'txt'"),
    ("text too long", "POST", "/predict", {"json": {"text": "a" * 201}}, 400, "limit is 200"),
    ("list too large", "POST", "/predict", {"json": {"texts": ["a"] * 9}}, 400, "limit is 8"),
    ("empty list", "POST", "/predict", {"json": {"texts": []}}, 400, "'texts' is empty"),
    ("body too large", "POST", "/predict", {"content": b" " * 5000}, 413, "4,096 bytes"),
    (
        "body too large, chunked",
        "POST",
        "/predict",
        {"content": ChunkedBody(5000)},
        413,
        "--max-body-bytes",
    ),
    ("invalid UTF-8", "POST", "/predict", {"content": b'{"text": "\xff"}'}, 400, "UTF-8"),
    ("not JSON", "POST", "/predict", {"content": b"text=hello"}, 400, "not valid JSON"),
    ("empty body", "POST", "/predict", {"content": b""}, 400, "body is empty"),
    ("deep nesting", "POST", "/predict", {"content": b"[" * 3000}, 400, "not valid JSON"),
    ("lone surrogate", "POST", "/predict", {"content": b'{"text": "\\ud800"}'}, 400, "surrogate"),
    (
        "unknown explanation method",
        "POST",
        "/explain",
        {"json": {"text": "good", "method": "magic"}},
        400,
        "unknown explanation method 'magic'",
    ),
    (
        "budget above range",
        "POST",
        "/explain",
        {"json": {"text": "good", "max_evals": 401}},
        400,
        "between 50 and 400",
    ),
    (
        "budget below range",
        "POST",
        "/explain",
        {"json": {"text": "good", "method": "integrated-gradients", "steps": 0}},
        400,
        "'steps' must be between 2 and 20",
    ),
    (
        "budget not a whole number",
        "POST",
        "/explain",
        {"json": {"text": "good", "method": "lime", "num_samples": 99.5}},
        400,
        "whole number",
    ),
    (
        "budget a boolean",
        "POST",
        "/explain",
        {"json": {"text": "good", "max_evals": True}},
        400,
        "whole number",
    ),
    (
        "setting of another method",
        "POST",
        "/explain",
        {"json": {"text": "good", "method": "shap", "steps": 5}},
        400,
        "does not apply",
    ),
    (
        "unknown shap algorithm",
        "POST",
        "/explain",
        {"json": {"text": "good", "shap_algorithm": "fast"}},
        400,
        "unknown shap_algorithm",
    ),
    ("explain missing text", "POST", "/explain", {"json": {}}, 400, "missing field 'text'"),
    (
        "nothing to explain",
        "POST",
        "/explain",
        {"json": {"text": "   ", "method": "attention"}},
        422,
        "empty",
    ),
    ("unknown route", "GET", "/nowhere", {}, 404, "POST /predict"),
    ("wrong HTTP method", "GET", "/predict", {}, 405, "GET /predict is not allowed"),
]


@pytest.mark.parametrize(
    ("method", "path", "options", "status", "words"),
    [case[1:] for case in BAD_REQUESTS],
    ids=[case[0] for case in BAD_REQUESTS],
)
def test_bad_request_gets_a_4xx_with_a_one_line_json_error(
    app, method, path, options, status, words
):
    response = call(app, method, path, **options)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert words in error
    assert "\n" not in error and "Traceback" not in error


def test_server_still_predicts_after_bad_requests(app, trained_clf):
    for _, method, path, options, _, _ in BAD_REQUESTS[:12]:
        call(app, method, path, **options)
    response = call(app, "POST", "/predict", json={"text": "awful"})
    expected = trained_clf.predict_proba(["awful"])[0]
    np.testing.assert_allclose(probabilities(response, trained_clf), expected, atol=1e-5)


def test_limits_must_be_positive():
    with pytest.raises(InputError, match="max_batch must be positive"):
        ServeLimits(max_batch=0)
    with pytest.raises(InputError, match="max_pending_texts"):
        ServeLimits(max_texts=100, max_pending_texts=10)
    with pytest.raises(InputError, match="batch_wait_ms must be 0 or more"):
        ServeLimits(batch_wait_ms=-1)
    assert ServeLimits(batch_wait_ms=0).batch_wait_ms == 0  # no window: batch what waits


# ----------------------------------------------------------------------- real server


EXPLAINED = "the staff were lovely but the food was poor"


def test_concurrent_run_against_a_real_server(artifact_dir, trained_clf, make_corpus):
    server = build_server(artifact_dir, host="127.0.0.1", port=0, max_body_bytes=4096)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline and thread.is_alive():
            time.sleep(0.05)
        assert server.started, "uvicorn did not start within 20 s"
        host, port = server.servers[0].sockets[0].getsockname()[:2]
        assert host == "127.0.0.1"
        texts, _ = make_corpus(60, seed=11)

        async def load():
            limits = httpx.Limits(max_connections=12)
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=60
            ) as client:
                answers = await asyncio.gather(
                    *(client.post("/predict", json={"text": t}) for t in texts)
                )
                oversized = await client.post("/predict", content=b" " * 10_000)
                not_utf8 = await client.post("/predict", content=b'{"text": "\xff"}')
                # queued behind the explainer's warm-up, which build_server started
                explained = await client.post(
                    "/explain", json={"text": EXPLAINED, "method": "attention"}
                )
                health = await client.get("/health")
                return answers, oversized, not_utf8, explained, health

        answers, oversized, not_utf8, explained, health = asyncio.run(load())
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        gc.unfreeze()  # build_server froze this test process's objects, as a server's
    assert not thread.is_alive(), "uvicorn did not stop"
    assert [a.status_code for a in answers] == [200] * len(texts)
    got = np.stack([probabilities(a, trained_clf) for a in answers])
    np.testing.assert_allclose(got, trained_clf.predict_proba(texts), atol=1e-5)
    assert oversized.status_code == 413
    assert not_utf8.status_code == 400
    expected = explain(trained_clf, EXPLAINED, "attention").to_dict()
    assert explained.json() == json.loads(json.dumps(expected))
    stats = health.json()["predict"]
    assert stats["requests"] == len(texts)
    assert stats["batches"] < stats["requests"]


# ------------------------------------------------------------------------------- CLI


def test_cli_serve_help(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for words in ("--model", "--host", "--port", "127.0.0.1", "/predict", "--max-body-bytes"):
        assert words in out


def test_cli_serve_refuses_a_missing_model_and_a_bad_port(tmp_path, artifact_dir, capsys):
    assert main(["serve", "--model", str(tmp_path / "missing")]) == 2
    assert "not found" in capsys.readouterr().err
    assert main(["serve", "--model", str(artifact_dir), "--port", "70000"]) == 2
    assert "--port must be between 0 and 65535" in capsys.readouterr().err
    assert main(["serve", "--model", str(artifact_dir), "--max-batch", "0"]) == 2
    assert "--max-batch must be positive" in capsys.readouterr().err
