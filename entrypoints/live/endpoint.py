"""GET /runs/<id>/events/stream (docs/contract.md §4, Server-Sent Events) and
its browser tokens: the HTTP edge of live delivery."""

from __future__ import annotations

import socket
from collections.abc import Callable
from types import MappingProxyType

from dependency_injector.wiring import Provide, inject
from flask import Blueprint, Response, current_app, jsonify, request

from runstream.application.follow_part import FollowRunPart
from runstream.application.follow_run import FollowRun
from runstream.application.get_run import GetRun
from runstream.application.live.hub import FanOutHub
from runstream.application.run_part import WHOLE_RUN
from runstream.domain.envelope import format_timestamp
from runstream.domain.errors import InvalidRequest
from runstream.domain.ids import EventId
from runstream.domain.ports import EventLog
from runstream.entrypoints.container import Container
from runstream.entrypoints.http.auth import Authenticator, authenticate, tenant
from runstream.entrypoints.http.body import require_json_type
from runstream.entrypoints.http.metrics import Metrics
from runstream.entrypoints.http.openapi import known_query_only
from runstream.entrypoints.http.reading import hub_for, run_part
from runstream.entrypoints.http.validation import event_id_of, run_id_of
from runstream.entrypoints.live.handoff import Handoff
from runstream.entrypoints.live.takeover import TAKE_OVER
from runstream.entrypoints.live.wsgi_body import BodyWait, WsgiStream

bp = Blueprint("stream", __name__)
bp.before_request(authenticate)
bp.before_request(known_query_only)

SSE_HEADERS = MappingProxyType(
    {"Cache-Control": "no-cache", "Connection": "keep-alive", "X-Accel-Buffering": "no"}
)


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
    events: EventLog = Provide[Container.event_log],
    metrics: Metrics = Provide[Container.metrics],
    heartbeat: float = Provide[Container.config.sse.heartbeat],
) -> Response:
    number = run_id_of(run_id)
    after, from_live = start_position()
    part = run_part()
    take_over: Callable[[], socket.socket] | None = None
    # A HEAD gets the headers alone, as a WSGI body. Part of a run (filters or a
    # coalesced replay) is served through its feed as a WSGI body too: the hub
    # pushes a run's every event into a taken-over stream's queue.
    if request.method == "GET" and part == WHOLE_RUN:
        take_over = request.environ.get(TAKE_OVER)
    live: Handoff | BodyWait
    if take_over:
        live = Handoff(hub, events)
        feed = follow_run(live=live).execute(
            number, after, from_live=from_live, idle_seconds=heartbeat, tenant=tenant()
        )  # errors found here are answered as JSON
    else:
        live = BodyWait(hub_for(hub, part), heartbeat)
        feed = FollowRunPart(follow_run, live).execute(
            number,
            after,
            part,
            from_live=from_live,
            idle_seconds=heartbeat,
            tenant=tenant(),
        )
    extensions = current_app.extensions
    if take_over is not None and isinstance(live, Handoff):
        chunked = request.environ.get("SERVER_PROTOCOL") != "HTTP/1.0"
        delivery = extensions["runstream.live"]
        delivery.serve(take_over(), number, live, feed, heartbeat, chunked)
        return Response(status=204)  # never sent: the connection was taken over
    assert isinstance(live, BodyWait)
    body = WsgiStream(feed, live, metrics, extensions["runstream.closing"])
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
