"""Reading request bodies and parameters; every defect is an InvalidRequest."""

from __future__ import annotations

from collections.abc import Collection

from flask import request

from runstream.domain.errors import InvalidEventId, InvalidRequest, RunNotFound
from runstream.domain.ids import EventId, parse_bound
from runstream.domain.model import JsonObject
from runstream.entrypoints.http.body import body_limit, json_object

MAX_ID = 2**63 - 1


def json_body(max_batch: int = 1, *, depth_checked: bool = False) -> JsonObject:
    """The body as a clean JSON object, read within its limits (body.py)."""
    return json_object(body_limit(max_batch), depth_checked=depth_checked)


def _within_reach(event_id: EventId, text: str) -> EventId:
    """The service never makes an id part above 2**63 - 1 (the SQL tiers store
    them as signed 64-bit integers): a larger one is no event id of it."""
    if event_id.ms > MAX_ID or event_id.seq > MAX_ID:
        raise InvalidEventId(
            f"event id out of range: {text!r} (each part is at most {MAX_ID})"
        )
    return event_id


def event_id_of(text: str) -> EventId:
    """An event id from a header or parameter (INVALID_EVENT_ID otherwise)."""
    if text != text.strip():
        raise InvalidEventId(f"not an event id: {text!r} (expected <ms>-<n>)")
    return _within_reach(EventId.parse(text), text)


def bound_arg(name: str, default: str) -> EventId:
    """A history bound: an event id, `-` or `+` (INVALID_EVENT_ID otherwise)."""
    text = request.args.get(name, default)
    if text in ("-", "+"):
        return parse_bound(text)
    return event_id_of(text)


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
    if text is None:
        return default
    stripped = text.strip()
    if not (stripped.isascii() and stripped.isdigit()) or len(stripped) > 19:
        raise InvalidRequest(f"{name} must be an integer from {low} to {high}")
    value = int(stripped)
    if not low <= value <= high:
        raise InvalidRequest(f"{name} must be an integer from {low} to {high}")
    return value
