"""`GET /ingest`: a producer's connection upgraded to a WebSocket (RFC 6455)
and taken over from gunicorn the way live streams are
(entrypoints/live/takeover.py). Authenticated like every request; the
connection's groups are appended for the tenant of its credential."""

from __future__ import annotations

import socket
import threading

from dependency_injector.wiring import Provide, inject
from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import ServiceUnavailable

from runstream.application.append_events import MAX_BATCH, AppendEvents
from runstream.domain.errors import InvalidRequest
from runstream.entrypoints.container import Container
from runstream.entrypoints.http.auth import authenticate, tenant
from runstream.entrypoints.http.body import body_limit
from runstream.entrypoints.http.metrics import Metrics
from runstream.entrypoints.http.openapi import known_query_only
from runstream.entrypoints.ingest.connection import IngestConnection
from runstream.entrypoints.live.takeover import TAKE_OVER
from runstream.entrypoints.producer import websocket as ws

bp = Blueprint("ingest", __name__)
bp.before_request(authenticate)
bp.before_request(known_query_only)


class IngestConnections:
    """The process's open ingest streams; one per app (no module-level state)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: set[IngestConnection] = set()
        self.closing = False

    def start(self, connection: IngestConnection) -> None:
        with self._lock:
            self._open.add(connection)
        threading.Thread(target=connection.serve, daemon=True).start()

    def ended(self, connection: IngestConnection) -> None:
        with self._lock:
            self._open.discard(connection)

    def close(self) -> None:
        with self._lock:
            self.closing = True
            connections = list(self._open)
        for connection in connections:
            connection.close()


def _handshake_key() -> str | None:
    """The upgrade's key; None for a GET that asks for no upgrade."""
    headers = request.headers
    if headers.get("Upgrade", "").lower() != "websocket":
        return None
    key = headers.get("Sec-WebSocket-Key", "")
    if not key or headers.get("Sec-WebSocket-Version") != "13":
        raise InvalidRequest("a WebSocket upgrade of RFC 6455, version 13")
    return key


@inject
def ingest(
    append: AppendEvents = Provide[Container.append_events],
    max_bytes: int = Provide[Container.config.events.max_bytes],
    metrics: Metrics = Provide[Container.metrics],
) -> Response:
    key = _handshake_key()
    take_over = request.environ.get(TAKE_OVER)
    if key is None:  # a plain GET (or an upgrade a proxy dropped): no stream
        return jsonify(websocket=take_over is not None)
    if take_over is None:
        raise InvalidRequest(
            "this server cannot take the connection over: "
            "send events by POST /runs/{run_id}/events"
        )
    connections: IngestConnections = current_app.extensions["runstream.ingest"]
    if connections.closing:
        raise ServiceUnavailable("the service is stopping")
    taken = take_over()
    # The patched (cooperative) socket class under gevent, the only server
    # that offers TAKE_OVER.
    sock = socket.socket(fileno=taken.detach())
    sock.setblocking(True)
    sock.sendall(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Accept: "
        + ws.accept_value(key).encode()
        + b"\r\n\r\n"
    )
    limit = body_limit(MAX_BATCH)
    connection = IngestConnection(
        sock, append, metrics, tenant(), max_bytes, limit, connections.ended
    )
    connections.start(connection)
    return Response(status=204)  # never sent: the connection was taken over


# Werkzeug routes an upgrade only to a rule marked `websocket`; the plain rule
# takes any other GET (authenticated first, like every request).
bp.add_url_rule("/ingest", view_func=ingest, methods=["GET"], websocket=True)
bp.add_url_rule("/ingest", view_func=ingest, methods=["GET"])
