"""Events (docs/contract.md §4): append one or a batch, read history pages."""

from __future__ import annotations

import time

from dependency_injector.wiring import Provide, inject
from flask import Blueprint, Response, request

from runstream.application.append_events import MAX_BATCH, AppendEvents
from runstream.application.read_events import MAX_PAGE, ReadEvents
from runstream.domain.envelope import parse_new_event
from runstream.domain.errors import InvalidRequest
from runstream.domain.model import JsonValue, NewEvent
from runstream.entrypoints.container import Container
from runstream.entrypoints.http.auth import authenticate, tenant
from runstream.entrypoints.http.idempotency import (
    canonical_events,
    has_key,
    mark_replayed,
    request_idempotency,
)
from runstream.entrypoints.http.metrics import Metrics
from runstream.entrypoints.http.openapi import known_query_only
from runstream.entrypoints.http.reading import run_part
from runstream.entrypoints.http.validation import (
    bound_arg,
    int_arg,
    json_body,
    run_id_of,
)
from runstream.entrypoints.http.views import page_json

bp = Blueprint("events", __name__)
bp.before_request(authenticate)


@bp.before_request
def _known_query_only() -> None:
    """`known_query_only`, skipped when there is no query to check (appends)."""
    if request.query_string:
        known_query_only()


def submitted_events(max_bytes: int) -> list[NewEvent]:
    """The body's events, each checked and its data written once (the only
    json.dumps of the body: its depth is checked by that one)."""
    body = json_body(MAX_BATCH, depth_checked=True)
    batch: JsonValue
    if "events" not in body:
        batch = [body]
    elif set(body) != {"events"}:
        raise InvalidRequest('a batch is {"events": [...]} and nothing else')
    else:
        batch = body["events"]
    if not isinstance(batch, list) or not 1 <= len(batch) <= MAX_BATCH:
        raise InvalidRequest(f"events must be a list of 1 to {MAX_BATCH} events")
    try:
        return [parse_new_event(raw, max_bytes) for raw in batch]
    except RecursionError:
        raise InvalidRequest("the request body is nested too deeply") from None


@bp.post("/runs/<run_id>/events")
@inject
def append_events(
    run_id: str,
    append: AppendEvents = Provide[Container.append_events],
    max_bytes: int = Provide[Container.config.events.max_bytes],
    metrics: Metrics = Provide[Container.metrics],
) -> tuple[Response, int]:
    number = run_id_of(run_id)
    events = submitted_events(max_bytes)
    idempotency = request_idempotency(canonical_events(events)) if has_key() else None
    started = time.perf_counter()
    stored = append.execute(number, events, tenant(), idempotency)
    metrics.append_seconds.observe(time.perf_counter() - started)
    metrics.appended.inc(len(stored))
    # Ids are `<ms>-<n>` and sequences integers: nothing to escape.
    ids = '","'.join([str(e.id) for e in stored])
    sequences = ",".join([str(e.sequence) for e in stored])
    body = f'{{"ids":["{ids}"],"sequences":[{sequences}]}}\n'
    answer = Response(body, mimetype="application/json")
    return mark_replayed(answer, stored.replayed), 201


@bp.get("/runs/<run_id>/events")
@inject
def read_events(
    run_id: str, read: ReadEvents = Provide[Container.read_events]
) -> Response:
    number = run_id_of(run_id)
    start, end = bound_arg("start_id", "-"), bound_arg("end_id", "+")
    limit = int_arg("limit", 1000, 1, MAX_PAGE) or 1000
    page = read.execute(number, start, end, limit, tenant(), run_part())
    return Response(page_json(page), mimetype="application/json")
