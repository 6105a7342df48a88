"""The gunicorn worker of `runstream serve`: gevent, with gunicorn's own refusals
answered as the contract's JSON (`{"code", "message"}`) instead of HTML.

gunicorn answers some requests itself, before the app sees them: a request line
over its limit (414), header fields too large or too many (431), a malformed
request line, method, version, header or chunk (400), an unsupported transfer
coding (501). Its worker keeps deciding the status and logging the request; this
one only rewrites the page it writes into JSON. Like server.py, this module
imports nothing of the app (the arbiter loads it before forking).
"""

from __future__ import annotations

import contextlib
import json
import socket
from typing import Any

import gevent
from gunicorn import util
from gunicorn.workers.ggevent import GeventWorker

from runstream.entrypoints.live.takeover import Takeover

LINGER_SECONDS = 1.0
LINGER_BYTES = 256 * 1024


class _Captured:
    """The client socket as gunicorn's error writer sees it: writes are kept."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self.written = b""

    def sendall(self, data: bytes) -> None:
        self.written += data

    def send(self, data: bytes) -> int:
        self.written += data
        return len(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def json_answer(written: bytes, error: BaseException) -> bytes | None:
    """gunicorn's HTML error response as the same status with a JSON body."""
    status_line = written.split(b"\r\n", 1)[0].decode("latin-1")
    parts = status_line.split(" ", 2)
    if len(parts) < 3 or not parts[1].isdigit():
        return None
    status, reason = int(parts[1]), parts[2]
    if status < 500 or status == 501:
        code, detail = "INVALID_REQUEST", str(error)
        message = f"{reason}: {detail}" if detail else reason
    else:
        code, message = "INTERNAL_ERROR", "internal error"
    body = json.dumps({"code": code, "message": message}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


class JsonErrorWorker(GeventWorker):  # type: ignore[misc]
    def handle_error(self, req: Any, client: Any, addr: Any, exc: Any) -> None:
        captured = _Captured(client)
        super().handle_error(req, captured, addr, exc)
        if not captured.written:
            return
        answer = json_answer(captured.written, exc) or captured.written
        try:
            util.write_nonblock(client, answer)
        except Exception:
            self.log.debug("Failed to send error message.")
        else:
            _linger(client)


def _linger(client: Any) -> None:
    """Read (and drop) a little of what the client is still sending before the
    connection closes: closing on unread data resets it, and the client may lose
    the answer. Bounded in bytes and time."""
    drained = 0
    with contextlib.suppress(OSError), gevent.Timeout(LINGER_SECONDS, False):
        client.shutdown(socket.SHUT_WR)
        while drained < LINGER_BYTES and (chunk := client.recv(16384)):
            drained += len(chunk)


class ServiceWorker(Takeover, JsonErrorWorker):
    """The worker of `runstream serve`: live streams take their connection over
    (entrypoints/live/takeover.py), and gunicorn's own refusals are JSON."""
