"""Reading request bodies and parameters; every defect is an InvalidRequest."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from flask import request

from runstream.domain.errors import InvalidRequest, RunNotFound
from runstream.domain.model import JsonObject

MAX_ID = 2**63 - 1


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def json_body() -> JsonObject:
    """The body as a JSON object (413 from Flask when over the size limit)."""
    raw = request.get_data(cache=False)
    try:
        value = json.loads(raw, parse_constant=_no_constants)
    except (ValueError, UnicodeDecodeError, RecursionError) as err:
        raise InvalidRequest(f"the request body is not valid JSON: {err}") from None
    if not isinstance(value, dict):
        raise InvalidRequest("the request body must be a JSON object")
    return value


def only_fields(body: JsonObject, allowed: Collection[str]) -> None:
    extra = sorted(set(body) - set(allowed))
    if extra:
        raise InvalidRequest(f"unknown fields: {', '.join(extra)}")


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def optional_int(body: JsonObject, name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if not is_int(value) or not 0 <= value <= MAX_ID:  # type: ignore[operator]
        raise InvalidRequest(f"{name} must be a non-negative integer or null")
    return int(value)  # type: ignore[arg-type]


def optional_object(body: JsonObject, name: str) -> JsonObject | None:
    value = body.get(name)
    if value is not None and not isinstance(value, dict):
        raise InvalidRequest(f"{name} must be an object or null")
    return value


def optional_text(body: JsonObject, name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidRequest(f"{name} must be a string or null")
    return value


def run_id_of(text: str) -> int:
    """A run id from the path; anything but a positive integer is no such run."""
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        raise RunNotFound(f"run {text!r} not found")
    value = int(text)
    if not 1 <= value <= MAX_ID:
        raise RunNotFound(f"run {text!r} not found")
    return value


def int_arg(name: str, default: int | None, low: int, high: int) -> int | None:
    """An integer query parameter within [low, high], or `default` when absent."""
    text = request.args.get(name)
    if text is None or text == "":
        return default
    stripped = text.strip()
    if not (stripped.isascii() and stripped.isdigit()) or len(stripped) > 19:
        raise InvalidRequest(f"{name} must be an integer from {low} to {high}")
    value = int(stripped)
    if not low <= value <= high:
        raise InvalidRequest(f"{name} must be an integer from {low} to {high}")
    return value
