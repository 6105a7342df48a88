"""One subscriber's live stream: frames batched per write, heartbeats while idle,
`close` after the terminal event, and prompt release of a gone client."""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

from application.fan_out import FanOutHub, SubscriberLagged
from application.follow_run import FeedItem, Gap
from domain.errors import StorageUnavailable
from domain.ids import EventId
from domain.model import RunId, StoredEvent
from entrypoints.http.frames import CLOSE_FRAME, gap_frame, heartbeat_frame
from entrypoints.http.metrics import Metrics

logger = logging.getLogger(__name__)

FLUSH_BYTES = 64 * 1024
CHECK_SECONDS = 1.0  # how often an idle stream checks that its client is there
WRITE_TIMEOUT = 30.0  # a client that takes no bytes for this long is dropped


class Pacer:
    """The LiveWait of one stream, in front of the hub.

    While frames wait to be written it only takes what is ready at once, so a
    burst becomes one write; it never blocks past the next heartbeat, and it
    returns nothing once the service is closing.
    """

    def __init__(
        self, hub: FanOutHub, heartbeat: float, closing: threading.Event
    ) -> None:
        self.hub = hub
        self.heartbeat = heartbeat
        self.closing = closing
        self.pending: list[bytes] = []
        self.pending_bytes = 0
        self.live = False
        self.last_write = time.monotonic()

    def wait(
        self, cursors: Mapping[RunId, EventId], timeout: float, limit: int = 1000
    ) -> dict[RunId, list[StoredEvent]]:
        self.live = True
        if self.closing.is_set():
            return {}
        if self.pending:
            return self.hub.wait(cursors, 0, limit)
        due = self.last_write + self.heartbeat - time.monotonic()
        return self.hub.wait(cursors, max(0.0, min(timeout, due)), limit)


def client_connected(sock: Any) -> bool:
    """False once the peer closed its side (EOF); True when it cannot tell."""
    if sock is None:
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        return not readable or sock.recv(1, socket.MSG_PEEK) != b""
    except (OSError, ValueError):
        return False


class Stream:
    """The response body: an iterator of byte chunks over a FollowRun feed."""

    def __init__(
        self, feed: Iterator[FeedItem], pacer: Pacer, metrics: Metrics, sock: Any
    ) -> None:
        self._feed = feed
        self._pacer = pacer
        self._metrics = metrics
        self._sock = sock
        self._stamps: list[int] = []

    def __iter__(self) -> Iterator[bytes]:
        self._metrics.subscribers.inc()
        self._set_timeout(WRITE_TIMEOUT)
        try:
            yield b""  # sends the headers now, before any event
            yield from self._frames()
        finally:
            self._metrics.subscribers.dec()
            self._set_timeout(None)
            if self._pacer.closing.is_set():
                self._end_keepalive()
            close = getattr(self._feed, "close", None)
            if close is not None:
                close()

    def _frames(self) -> Iterator[bytes]:
        pacer = self._pacer
        try:
            for item in self._feed:
                if isinstance(item, StoredEvent):
                    self._add(pacer.hub.frame(item), item)
                    if item.is_terminal:
                        self._add(CLOSE_FRAME)
                        yield from self._flush()
                        return
                    if pacer.pending_bytes >= FLUSH_BYTES:
                        yield from self._flush()
                elif isinstance(item, Gap):
                    self._add(gap_frame(item.last_event_id, item.first_available_id))
                elif pacer.pending:
                    yield from self._flush()
                elif pacer.closing.is_set() or not client_connected(self._sock):
                    return
                elif time.monotonic() - pacer.last_write >= pacer.heartbeat * 0.999:
                    self._add(heartbeat_frame(int(time.time() * 1000)))
                    yield from self._flush()
        except SubscriberLagged as lagged:
            logger.info("dropping a slow subscriber: %s", lagged)
            self._metrics.slow_disconnects.inc()
        except StorageUnavailable as err:
            logger.warning("ending a stream: %s", err)
            self._metrics.backend_errors.inc()
        yield from self._flush()  # ends without `close`: the client resumes

    def _add(self, frame: bytes, event: StoredEvent | None = None) -> None:
        self._pacer.pending.append(frame)
        self._pacer.pending_bytes += len(frame)
        if event is not None and self._pacer.live:
            self._stamps.append(event.timestamp_ms)

    def _flush(self) -> Iterator[bytes]:
        pacer = self._pacer
        if not pacer.pending:
            return
        chunk = b"".join(pacer.pending)
        pacer.pending.clear()
        pacer.pending_bytes = 0
        started = time.monotonic()
        try:
            yield chunk
        except GeneratorExit:
            if time.monotonic() - started >= WRITE_TIMEOUT * 0.9:
                self._metrics.slow_disconnects.inc()
            raise
        pacer.last_write = time.monotonic()
        if self._stamps:
            now_ms = time.time() * 1000
            for stamp in self._stamps:
                self._metrics.push_seconds.observe(max(0.0, now_ms - stamp) / 1000)
            self._stamps.clear()

    def _end_keepalive(self) -> None:
        """Shutting down: once the response ends, let the server see the
        connection as finished instead of waiting for another request on it."""
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RD)

    def _set_timeout(self, seconds: float | None) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.settimeout(seconds)
