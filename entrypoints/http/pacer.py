"""The LiveWait of one stream, in front of the hub, with direct writes: while the
stream waits at the run's head, the hub's reader writes each new batch straight
to its socket (non-blocking), so a delivery costs no greenlet switch."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from runstream.application.fan_out import FanOutHub
from runstream.application.recent_events import event_key
from runstream.domain.ids import EventId
from runstream.domain.model import RunId, StoredEvent

# Events (and bytes of frames) written directly before the stream must catch
# up: its feed's cursor stays behind them until it wakes, and the hub's ring
# must still hold them then (a ring keeps at least this many bytes unless the
# hub is over its memory bound for all runs).
AHEAD_LIMIT = 1024
AHEAD_BYTES = 1024 * 1024


class Writer(Protocol):
    writing_since: float | None


_framed: list[bytes] = [b"", b""]  # the last batch and its chunk: shared by a run


def _chunk(data: bytes) -> bytes:
    """The batch as one HTTP/1.1 chunk (what gunicorn writes for a yield)."""
    if _framed[0] is not data:
        _framed[1] = b"%X\r\n%s\r\n" % (len(data), data)
        _framed[0] = data
    return _framed[1]


_observed: list[object] = [None]  # the last batch whose push latency was observed


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
    yields Idle, and the stream writes). It returns nothing once the service is
    closing, the client is gone, or a heartbeat is due.

    A wait has no timer of its own: it ends on events the hub did not write for
    it, on `close`, or when the StreamWatch sets `alarm` (the heartbeat is due,
    or the client hung up). So the feed's idle interval is the heartbeat.
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
        self.alarm = threading.Event()
        self.pending: list[bytes] = []
        self.pending_bytes = 0
        self.batch_left = 0  # events of the last live batch not yet framed
        self.live = False
        self.last_write = time.monotonic()
        self.writer: Writer | None = None
        self.written_key = -1  # the last event the hub wrote for us
        self.broken = False  # the client is gone (a write failed, or it hung up)
        self._sock: Any = None if direct is None else direct[0]
        self._chunked = direct is not None and direct[1]
        self._raw: Any = None if direct is None else direct[0]._sock
        self._observe = observe
        self._ahead = 0
        self._ahead_bytes = 0
        self._unsent = b""

    def heartbeat_due(self) -> bool:
        return time.monotonic() - self.last_write >= self.heartbeat * 0.999

    def wait(
        self, cursors: Mapping[RunId, EventId], timeout: float, limit: int = 1000
    ) -> dict[RunId, list[StoredEvent]]:
        self.live = True
        self.alarm.clear()  # before the checks: a later alarm ends the wait
        if self.pending or self.broken or self.closing.is_set():
            return {}  # the feed yields Idle: write what is pending first
        if self.heartbeat_due():
            return {}
        if self._raw is None or len(cursors) != 1:
            found = self.hub.wait(cursors, None, limit, wake=self.alarm)
        else:
            found = self._wait_direct(cursors, limit)
        written = self.written_key
        self.batch_left = sum(
            1
            for events in found.values()
            for event in events
            if event_key(event.id) > written
        )
        return found

    def _wait_direct(
        self, cursors: Mapping[RunId, EventId], limit: int
    ) -> dict[RunId, list[StoredEvent]]:
        """Wait with the hub writing new batches straight to the socket. Once
        woken, the feed gets the events after its own cursor (the stream skips
        the ones written)."""
        self._ahead = self._ahead_bytes = 0
        found = self.hub.wait(cursors, None, limit, self._take, self.alarm)
        if self._unsent:
            self._drain()
        if self.broken or self.closing.is_set():
            return {}  # the stream ends: what the hub wrote is all it gets
        return found

    def _take(self, data: bytes, events: list[StoredEvent]) -> bool:
        """The hub's sink: write the batch now, or say no (and be woken)."""
        if (
            self._ahead + len(events) > AHEAD_LIMIT
            or self._ahead_bytes + len(data) > AHEAD_BYTES
            or self.broken
        ):
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
        self._ahead += len(events)
        self._ahead_bytes += len(data)
        self.last_write = time.monotonic()
        if self._observe is not None and _observed[0] is not events:
            # Once per batch, at its first write, not once per subscriber: the
            # hub writes a batch to all of them in one pass, and a histogram
            # update costs about as much as the write itself.
            _observed[0] = events
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
