"""One persistent HTTP/1.1 connection to the service, on the standard library.

http.client rather than requests/httpx/urllib3: the client runs inside the
agent's own environment, where every dependency we add can clash with the
agent's pins; http.client keeps one keep-alive connection, which is all a
single background sender needs.
"""

from __future__ import annotations

import http.client
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from runstream.entrypoints.producer.answers import ServiceError, decode

__all__ = ["Answer", "ConnectionFailed", "ServiceError", "Transport"]


class ConnectionFailed(Exception):
    """The request may or may not have reached the service (timeout, reset,
    refused, closed mid-answer); `sent` is False when it surely did not.
    `stale` is a kept-alive connection the server had closed while idle."""

    def __init__(self, reason: BaseException, sent: bool, stale: bool) -> None:
        super().__init__(f"{type(reason).__name__}: {reason}")
        self.sent = sent
        self.stale = stale


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    replayed: bool


class Transport:
    """Requests over one reused connection; a failure closes it and the next
    request opens a new one. Not thread-safe: one owner at a time."""

    def __init__(
        self, base_url: str, api_key: str | None = None, timeout: float = 10.0
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self._https = parts.scheme == "https"
        self._netloc = parts.netloc
        self._prefix = parts.path.rstrip("/")
        self._timeout = timeout
        self._headers = {"Accept": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._connection: http.client.HTTPConnection | None = None

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        idempotency_key: str | None = None,
    ) -> Answer:
        """The decoded 2xx answer; ServiceError for an error answer,
        ConnectionFailed when the exchange broke."""
        headers = dict(self._headers)
        if body is not None:
            headers["Content-Type"] = "application/json"
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        sent, reused = False, self._connection is not None
        try:
            connection = self._connect()
            connection.request(method, self._prefix + path, body, headers)
            sent = True
            response = connection.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as err:
            self.close()
            stale = reused and isinstance(err, _CLOSED_WHILE_IDLE)
            raise ConnectionFailed(err, sent and not _refused(err), stale) from err
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        replayed = response.getheader("Idempotent-Replayed", "") == "true"
        return Answer(response.status, decode(response.status, raw), replayed)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            kind = (
                http.client.HTTPSConnection
                if self._https
                else http.client.HTTPConnection
            )
            self._connection = kind(self._netloc, timeout=self._timeout)
            self._connection.connect()
            sock = self._connection.sock
            if sock is not None:  # small requests: send each one at once
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self._connection


_CLOSED_WHILE_IDLE = (
    http.client.RemoteDisconnected,
    BrokenPipeError,
    ConnectionResetError,
)


def _refused(err: BaseException) -> bool:
    return isinstance(err, ConnectionRefusedError)
