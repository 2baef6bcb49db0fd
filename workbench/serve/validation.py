"""Every request checked before a model sees it: body size, UTF-8, JSON, field names and
types, text length, list size and explanation budgets, each refused with a
:class:`~workbench.serve.limits.RequestError` that says what to fix."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from workbench.explain import METHODS
from workbench.explain.perturbation import SHAP_ALGORITHMS
from workbench.serve.limits import RequestError, ServeLimits

# Below these budgets SHAP and LIME give nearly every word the same value and IG's
# integral is one rectangle: a budget that small is a mistake, not a cheap explanation.
MIN_MAX_EVALS = 50
MIN_NUM_SAMPLES = 50
MIN_STEPS = 2
MAX_SEED = 2**32 - 1


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
