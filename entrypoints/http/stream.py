"""The live stream (docs/contract.md §4, Server-Sent Events) and its browser tokens."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dependency_injector.wiring import Provide, inject
from flask import Blueprint, Response, current_app, jsonify, request

from runstream.application.fan_out import FanOutHub
from runstream.application.follow_part import FollowRunPart
from runstream.application.follow_run import FollowRun
from runstream.application.get_run import GetRun
from runstream.domain.envelope import format_timestamp
from runstream.domain.errors import InvalidRequest
from runstream.domain.ids import EventId
from runstream.entrypoints.container import Container
from runstream.entrypoints.http.auth import Authenticator, authenticate, tenant
from runstream.entrypoints.http.body import require_json_type
from runstream.entrypoints.http.metrics import Metrics
from runstream.entrypoints.http.openapi import known_query_only
from runstream.entrypoints.http.pacer import Pacer, direct_writes
from runstream.entrypoints.http.reading import hub_for, run_part
from runstream.entrypoints.http.sse import Stream
from runstream.entrypoints.http.validation import event_id_of, run_id_of

bp = Blueprint("stream", __name__)
bp.before_request(authenticate)
bp.before_request(known_query_only)

SSE_HEADERS = {
    "Cache-Control": "no-cache",
    "Connection": "keep-alive",
    "X-Accel-Buffering": "no",
}


def start_position() -> tuple[EventId | None, bool]:
    """Last-Event-ID header, else `last_event_id`, else the first event;
    `from=live` (without either) starts after the newest event."""
    given = request.headers.get("Last-Event-ID")
    if given is None:
        given = request.args.get("last_event_id")
    if given is not None:
        return event_id_of(given), False
    source = request.args.get("from")
    if source not in (None, "live"):
        raise InvalidRequest("from must be live (or absent: from the first event)")
    return None, source == "live"


@bp.get("/runs/<run_id>/events/stream")
@inject
def stream_events(
    run_id: str,
    follow_run: Callable[..., FollowRun] = Provide[Container.follow_run.provider],
    hub: FanOutHub = Provide[Container.fan_out_hub],
    metrics: Metrics = Provide[Container.metrics],
    heartbeat: float = Provide[Container.config.sse.heartbeat],
) -> Response:
    number = run_id_of(run_id)
    after, from_live = start_position()
    part = run_part()
    sock: Any = request.environ.get("gunicorn.socket")
    # A selection drops events after the hub: the hub must not write to the socket.
    direct = (
        direct_writes(sock, request.environ) if part.selection.selects_all else None
    )
    pacer = Pacer(
        hub_for(hub, part),
        heartbeat,
        current_app.extensions["runstream.closing"],
        direct,
        metrics.push_seconds.observe,
    )
    feed = FollowRunPart(follow_run, pacer).execute(
        number,
        after,
        part,
        from_live=from_live,
        idle_seconds=heartbeat,
        tenant=tenant(),
    )
    extensions = current_app.extensions
    watch = extensions["runstream.watch"]
    body = Stream(feed, pacer, metrics, sock, extensions["runstream.stalls"], watch)
    response = Response(iter(body), content_type="text/event-stream")
    response.headers.update(SSE_HEADERS)
    return response


@bp.post("/runs/<run_id>/stream-token")
@inject
def stream_token(
    run_id: str,
    get_run: GetRun = Provide[Container.get_run],
    authenticator: Authenticator = Provide[Container.authenticator],
) -> Response:
    require_json_type()
    run = get_run.execute(run_id_of(run_id), tenant())
    token, expires = authenticator.issue(run.id, tenant())
    return jsonify(token=token, expires_at=format_timestamp(int(expires * 1000)))
