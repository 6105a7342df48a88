"""The producer's long-lived connection: `GET /ingest` upgraded to a WebSocket
(RFC 6455), carrying groups one way and their answers the other
(docs/producers.md). A plain socket: one thread owns it."""

from __future__ import annotations

import json
import socket
import ssl
from typing import Any
from urllib.parse import urlsplit

from runstream.entrypoints.producer import websocket as ws
from runstream.entrypoints.producer.answers import (
    RETRYABLE_STATUSES,
    ServiceError,
    decode,
)
from runstream.entrypoints.producer.transport import ConnectionFailed

PATH = "/ingest"
MAX_HEAD = 64 * 1024
MAX_ANSWER = 1 << 20  # an answer holds at most 1,000 ids and sequences


class UpgradeRefused(Exception):
    """The service answered the upgrade with a final HTTP status (an older
    service, a proxy that does not pass upgrades): events go by POST."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"HTTP {status}: {detail}")
        self.status = status


class StreamConnection:
    def __init__(self, base_url: str, api_key: str | None, timeout: float) -> None:
        parts = urlsplit(base_url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or "localhost"
        self._port = parts.port or (443 if self._https else 80)
        self._netloc = parts.netloc
        self._path = parts.path.rstrip("/") + PATH
        self._api_key = api_key
        self._timeout = timeout
        self._reader = ws.FrameReader(masked=False, limit=MAX_ANSWER)
        self.sock: socket.socket | None = None
        self.pending: list[ws.Frame] = []

    def open(self) -> None:
        """Connect and upgrade. ConnectionFailed (never sent) when the exchange
        broke; ServiceError for a 5xx (ask again later); UpgradeRefused."""
        try:
            sock = socket.create_connection((self._host, self._port), self._timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._https:
                context = ssl.create_default_context()
                sock = context.wrap_socket(sock, server_hostname=self._host)
            self.sock = sock
            key = ws.new_key()
            sock.sendall(self._handshake(key))
            status, head, rest = self._read_head(sock)
        except OSError as err:
            self.close()
            raise ConnectionFailed(err, sent=False, stale=False) from err
        if status != 101:
            self.close()
            if status in RETRYABLE_STATUSES:
                decode(status, rest)  # raises it as a ServiceError
            raise UpgradeRefused(status, rest[:200].decode("utf-8", "replace"))
        if head.get("sec-websocket-accept") != ws.accept_value(key):
            self.close()
            raise UpgradeRefused(status, "not a WebSocket handshake answer")
        sock.settimeout(None)
        self._reader = ws.FrameReader(masked=False, limit=MAX_ANSWER)
        self.pending = self._reader.feed(rest)

    def _handshake(self, key: str) -> bytes:
        lines = [
            f"GET {self._path} HTTP/1.1",
            f"Host: {self._netloc}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
        ]
        if self._api_key:
            lines.append(f"Authorization: Bearer {self._api_key}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    @staticmethod
    def _read_head(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk or len(data) > MAX_HEAD:
                raise ConnectionResetError("the upgrade's answer ended early")
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[1].isdigit():
            raise ConnectionResetError(f"not an HTTP answer: {status_line[:80]!r}")
        fields = {}
        for line in lines:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        length = int(fields.get("content-length", "0") or 0)
        while parts[1] != "101" and len(rest) < min(length, MAX_HEAD):
            if not (chunk := sock.recv(4096)):
                break
            rest += chunk
        return int(parts[1]), fields, rest

    def send(self, messages: list[bytes]) -> None:
        assert self.sock is not None
        self.sock.sendall(
            b"".join(ws.encode(ws.TEXT, m, masked=True) for m in messages)
        )

    def buffered(self) -> bool:
        """Answers already read from the socket (or held by TLS), which a
        select() on the socket would not report."""
        if self.pending:
            return True
        return isinstance(self.sock, ssl.SSLSocket) and self.sock.pending() > 0

    def receive(self) -> list[dict[str, Any]]:
        """The answers that arrived (reading once); ConnectionResetError once
        the service closed the connection."""
        assert self.sock is not None
        frames, self.pending = self.pending, []
        if not frames:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionResetError("the service closed the stream")
            frames = self._reader.feed(data)
        answers = []
        for frame in frames:
            if frame.opcode == ws.PING:
                self.sock.sendall(ws.encode(ws.PONG, frame.payload, masked=True))
            elif frame.opcode == ws.CLOSE:
                answers.append({"closed": True})
            elif frame.opcode == ws.TEXT:
                answers.append(json.loads(frame.payload))
        return answers

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None


__all__ = ["ServiceError", "StreamConnection", "UpgradeRefused"]
