"""The OpenAPI 3 description of what the service does (served at /openapi.json)."""

from __future__ import annotations

import functools
import re
from typing import Any

from flask import request

import runstream
from runstream.domain.errors import InvalidRequest
from runstream.entrypoints.http.errors import DOMAIN_ERRORS, HTTP_ERRORS
from runstream.entrypoints.http.openapi_schemas import ID_PATTERN, SCHEMAS
from runstream.entrypoints.http.reading import PART_PARAMETERS

STATUS_OF = {code: status for _, code, status in DOMAIN_ERRORS}
STATUS_OF.update({code: status for status, code in HTTP_ERRORS.items()})
RUN_ID = {"name": "run_id", "in": "path", "required": True,
          "schema": {"type": "integer", "minimum": 1}}  # fmt: skip
BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
# Not a declared header parameter: test generators fill declared headers with
# values that ignore their pattern, and EventSource sets this one itself.
LAST_EVENT_ID = (
    "The `Last-Event-ID` request header (sent by EventSource on reconnect) sets "
    "the start position like `last_event_id`, and wins over it."
)

INGEST = (
    'Each text message is a group `{"run", "key", "events"}`, appended '
    "as `POST /runs/{run}/events` with `Idempotency-Key: key` would be; the "
    "answer names the key with `ids` and `sequences` (and `replayed`), or an "
    "`error` `{code, message}` and its HTTP `status`, after which the service "
    "reads nothing more and closes the connection. A server that cannot take "
    "the connection over answers 400: send the groups by POST. A GET without "
    'an upgrade answers `{"websocket": true|false}`.'
)


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(name: str, description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": _ref(name)}}}  # fmt: skip


def _errors(*codes: str) -> dict[str, Any]:
    by_status: dict[int, list[str]] = {}
    for code in (*codes, "INTERNAL_ERROR"):
        by_status.setdefault(STATUS_OF[code], []).append(code)
    return {
        str(status): {
            "description": " or ".join(found),
            "content": {"application/json": {"schema": {"allOf": [
                _ref("Error"), {"properties": {"code": {"enum": found}}},
            ]}}},
        }
        for status, found in sorted(by_status.items())
    }  # fmt: skip


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema, "description": description}


def _op(summary: str, ok: dict[str, Any], *codes: str, **extra: Any) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "responses": {**ok, **_errors(*codes)},
    }
    if "UNAUTHORIZED" in codes:
        operation["security"] = BEARER
    operation.update(extra)
    return operation


def _int(maximum: int, default: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": 1, "maximum": maximum, "default": default}


def _body(name: str) -> dict[str, Any]:
    return {"required": True,
            "content": {"application/json": {"schema": _ref(name)}}}  # fmt: skip


def paths() -> dict[str, Any]:
    run = {"parameters": [RUN_ID]}
    common = ("UNAUTHORIZED", "REDIS_UNAVAILABLE")
    ids = {"type": "string", "pattern": f"^(?:{ID_PATTERN}|[-+])$"}
    one_id = {"type": "string", "pattern": f"^{ID_PATTERN}$"}
    return {
        "/runs": {
            "post": _op("Create and start a run", {"201": _json("Run", "The run")},
                        "INVALID_REQUEST", "EVENT_TOO_LARGE", *common,
                        requestBody=_body("RunRequest")),
            "get": _op("The newest runs first, paged",
                       {"200": _json("RunList", "A page of runs")},
                       "INVALID_REQUEST", *common, parameters=[
                           _query("status", _ref("RunStatus"), "only this status"),
                           _query("limit", _int(500, 50), "page size"),
                           _query("before", {"type": "integer", "minimum": 1},
                                  "runs with ids below this (next_before)"),
                       ]),
        },
        "/runs/{run_id}": {**run, "get": _op(
            "The run", {"200": _json("Run", "The run")}, "RUN_NOT_FOUND", *common)},
        "/runs/{run_id}/cancel": {**run, "post": _op(
            "Stop the run; appends lifecycle.cancelled",
            {"200": _json("Run", "The run")}, "RUN_NOT_FOUND", "RUN_NOT_ACTIVE",
            "IDEMPOTENCY_KEY_REUSED", *common)},
        "/runs/{run_id}/finish": {**run, "post": _op(
            "End an external run; appends the terminal event",
            {"200": _json("Run", "The run")}, "INVALID_REQUEST", "RUN_NOT_FOUND",
            "RUN_NOT_ACTIVE", "EVENT_TOO_LARGE", "IDEMPOTENCY_KEY_REUSED", *common,
            requestBody=_body("FinishRequest"))},
        "/runs/{run_id}/events": {
            **run,
            "post": _op("Append one event or a batch (whole or not at all)",
                        {"201": _json("Appended", "Their ids and sequences")},
                        "INVALID_REQUEST", "RUN_NOT_FOUND", "RUN_NOT_ACTIVE",
                        "EVENT_TOO_LARGE", "IDEMPOTENCY_KEY_REUSED", *common,
                        requestBody=_body("AppendRequest")),
            "get": _op("A page of the run's history",
                       {"200": _json("EventPage", "Events in log order")},
                       "INVALID_REQUEST", "INVALID_EVENT_ID", "RUN_NOT_FOUND",
                       "RUN_EXPIRED", *common, parameters=[
                           _query("start_id", {**ids, "default": "-"}, "inclusive"),
                           _query("end_id", {**ids, "default": "+"}, "inclusive"),
                           _query("limit", _int(10000, 1000), "page size"),
                           *PART_PARAMETERS,
                       ]),
        },
        "/runs/{run_id}/events/stream": {**run, "get": _op(
            "Server-Sent Events: replay from the start position, then live",
            {"200": {"description": "frames `id`/`event`/`data`, `: heartbeat`, "
                     "`event: gap`, `event: close`",
                     "content": {"text/event-stream": {}}}},
            "INVALID_REQUEST", "INVALID_EVENT_ID", "RUN_NOT_FOUND", "RUN_EXPIRED",
            *common, security=[*BEARER, {"access_token": []}],
            description=LAST_EVENT_ID, parameters=[
                _query("last_event_id", one_id, "start after this id"),
                _query("from", {"type": "string", "enum": ["live"]},
                       "start after the newest event"),
                _query("access_token", {"type": "string"}, "a stream token"),
                *PART_PARAMETERS,
            ])},
        "/ingest": {"get": _op(
            "A producer's stream: a WebSocket (RFC 6455) carrying groups of "
            "events, one answer per group (docs/producers.md)",
            {"101": {"description": "Switching Protocols: the WebSocket"},
             "200": _json("IngestOffer", "Without an upgrade: whether this "
                          "server takes the stream")},
            "INVALID_REQUEST", "UNAUTHORIZED", description=INGEST)},
        "/runs/{run_id}/summary": {**run, "get": _op(
            "Per-agent and per-run figures of the run",
            {"200": _json("RunSummary", "The figures")}, "RUN_NOT_FOUND", *common)},
        "/runs/{run_id}/stream-token": {**run, "post": _op(
            "A short-lived token for this run's stream (EventSource)",
            {"200": _json("StreamToken", "The token")}, "RUN_NOT_FOUND", *common)},
        "/healthz": {"get": _op("The process is up", {"200": _json("Health", "ok")})},
        "/readyz": {"get": _op(
            "Backends reachable, and which event-log adapter serves",
            {"200": _json("Readiness", "ready")}, "REDIS_UNAVAILABLE")},
        "/metrics": {"get": _op("Prometheus metrics", {"200": {
            "description": "text format",
            "content": {"text/plain": {"schema": {"type": "string"}}}}})},
        "/openapi.json": {"get": _op("This document", {"200": {
            "description": "OpenAPI 3",
            "content": {"application/json": {"schema": {"type": "object"}}}}})},
    }  # fmt: skip


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": "runstream", "version": runstream.__version__,
                 "description": "Events of LLM agent runs: history and live SSE."},
        "paths": paths(),
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "RUNSTREAM_API_KEYS key"},
                "access_token": {"type": "apiKey", "in": "query",
                                 "name": "access_token",
                                 "description": "POST /runs/{run_id}/stream-token"},
            },
        },
    }  # fmt: skip


@functools.cache
def query_names() -> dict[tuple[str, str], frozenset[str]]:
    """The query parameters the document gives each (path, method)."""
    return {
        (path, method): frozenset(
            p["name"] for p in operation.get("parameters", []) if p["in"] == "query"
        )
        for path, item in paths().items()
        for method, operation in item.items()
        if method != "parameters"
    }


def known_query_only() -> None:
    """An unknown query parameter is INVALID_REQUEST (before_request hook)."""
    rule = request.url_rule
    if rule is None:
        return
    path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
    allowed = query_names().get((path, request.method.lower()))
    if allowed is None:
        return
    unknown = sorted(set(request.args) - allowed)
    if unknown:
        names = ", ".join(repr(name) for name in unknown)
        raise InvalidRequest(f"unknown query parameters: {names}")
