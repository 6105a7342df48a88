"""The LiveWait of one stream, in front of the hub, with direct writes: while the
stream waits at the run's head, the hub's reader writes each new batch straight
to its socket (non-blocking), so a delivery costs no greenlet switch."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from application.fan_out import FanOutHub
from application.recent_events import event_key
from domain.ids import EventId
from domain.model import RunId, StoredEvent

# Events written directly before the stream must catch up (its feed's cursor
# stays behind them until it wakes; the hub's ring must still hold them).
AHEAD_LIMIT = 1024


class Writer(Protocol):
    writing_since: float | None


_framed: list[bytes] = [b"", b""]  # the last batch and its chunk: shared by a run


def _chunk(data: bytes) -> bytes:
    """The batch as one HTTP/1.1 chunk (what gunicorn writes for a yield)."""
    if _framed[0] is not data:
        _framed[1] = b"%X\r\n%s\r\n" % (len(data), data)
        _framed[0] = data
    return _framed[1]


def direct_writes(sock: Any, environ: Mapping[str, Any]) -> tuple[Any, bool] | None:
    """The client's gevent socket (its OS socket is non-blocking) and whether the
    response is chunked; None when direct writes cannot be used."""
    raw = getattr(sock, "_sock", None)
    if raw is None or environ.get("REQUEST_METHOD") != "GET":
        return None
    try:
        if raw.gettimeout() != 0.0:
            return None
    except OSError:
        return None
    return sock, environ.get("SERVER_PROTOCOL") not in ("HTTP/1.0", "HTTP/0.9")


class Pacer:
    """The hub hands over everything a run has ready at once, so each wake is one
    write: while frames wait to be written it returns nothing (the feed then
    yields Idle, and the stream writes). It never blocks past the next
    heartbeat, and it returns nothing once the service is closing.
    """

    def __init__(
        self,
        hub: FanOutHub,
        heartbeat: float,
        closing: threading.Event,
        direct: tuple[Any, bool] | None = None,
        observe: Callable[[float], None] | None = None,
    ) -> None:
        self.hub = hub
        self.heartbeat = heartbeat
        self.closing = closing
        self.pending: list[bytes] = []
        self.pending_bytes = 0
        self.batch_left = 0  # events of the last live batch not yet framed
        self.live = False
        self.last_write = time.monotonic()
        self.writer: Writer | None = None
        self.written_key = -1  # the last event the hub wrote for us
        self.broken = False  # a direct write failed: the client is gone
        self._sock: Any = None if direct is None else direct[0]
        self._chunked = direct is not None and direct[1]
        self._raw: Any = None if direct is None else direct[0]._sock
        self._observe = observe
        self._ahead = 0
        self._unsent = b""
        self._written_id: EventId | None = None

    def wait(
        self, cursors: Mapping[RunId, EventId], timeout: float, limit: int = 1000
    ) -> dict[RunId, list[StoredEvent]]:
        self.live = True
        if self.closing.is_set() or self.pending or self.broken:
            return {}  # the feed yields Idle: write what is pending first
        if self._raw is None or len(cursors) != 1:
            due = self.last_write + self.heartbeat - time.monotonic()
            found = self.hub.wait(cursors, max(0.0, min(timeout, due)), limit)
        else:
            found = self._wait_direct(cursors, timeout, limit)
        written = self.written_key
        self.batch_left = sum(
            1
            for events in found.values()
            for event in events
            if event_key(event.id) > written
        )
        return found

    def _wait_direct(
        self, cursors: Mapping[RunId, EventId], timeout: float, limit: int
    ) -> dict[RunId, list[StoredEvent]]:
        """Wait with the hub writing for us. An interval in which it wrote needs
        neither a heartbeat nor a client check, so the wait goes on from what it
        wrote, without waking the feed; the feed gets the events after its own
        cursor (the stream skips the ones written) once there is more to do."""
        ((run_id, cursor),) = cursors.items()
        self._ahead = 0
        at = cursor
        while True:
            due = self.last_write + self.heartbeat - time.monotonic()
            before = self.written_key
            found = self.hub.wait(
                {run_id: at}, max(0.0, min(timeout, due)), limit, self._take
            )
            if self._unsent:
                self._drain()
            if (
                found
                or self.written_key == before
                or self.broken
                or self.closing.is_set()
                or self._written_id is None
            ):
                break
            at = self._written_id
        if at == cursor:
            return found
        if self.broken or self.closing.is_set():
            return {}  # the stream ends: what the hub wrote is all it gets
        return self.hub.wait(cursors, 0.0, limit)  # from the feed's own cursor

    def _take(self, data: bytes, events: list[StoredEvent]) -> bool:
        """The hub's sink: write the batch now, or say no (and be woken)."""
        if self._ahead + len(events) > AHEAD_LIMIT or self.broken:
            return False
        if self._chunked:
            data = _chunk(data)
        try:
            sent = self._raw.send(data)
        except BlockingIOError:
            sent = 0
        except OSError:
            self.broken = True
            return False
        self.written_key = event_key(events[-1].id)
        self._written_id = events[-1].id
        self._ahead += len(events)
        self.last_write = time.monotonic()
        if self._observe is not None:
            self._observe(max(0.0, time.time() - events[0].timestamp_ms / 1000))
        if sent < len(data):
            self._unsent = data[sent:]  # the stream writes the rest once woken
            return False
        return True

    def _drain(self) -> None:
        """Write what a direct write left over (blocking), before anything else."""
        writer = self.writer
        if writer is not None:
            writer.writing_since = time.monotonic()
        try:
            self._sock.sendall(self._unsent)
        except OSError:
            self.broken = True
        finally:
            self._unsent = b""
            if writer is not None:
                writer.writing_since = None
            self.last_write = time.monotonic()
