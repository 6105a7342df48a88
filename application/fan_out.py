"""FanOutHub: one reader per process serves every live subscriber of every run."""

from __future__ import annotations

import bisect
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from domain.errors import DomainError
from domain.ids import EventId
from domain.model import RunId, StoredEvent
from domain.ports import EventLog

logger = logging.getLogger(__name__)


class SubscriberLagged(DomainError):
    """A subscriber fell further behind than the hub keeps; resume from the log."""


def _position(event: StoredEvent) -> EventId:
    return event.id


@dataclass(eq=False)
class _Watch:
    """A watched run: `ring` holds exactly the events with floor < id <= head."""

    floor: EventId
    head: EventId
    seen: float
    ring: list[StoredEvent] = field(default_factory=list)
    frames: dict[EventId, bytes] = field(default_factory=dict)
    ring_bytes: int = 0
    trimmed: bool = False
    closed: bool = False
    waiters: set[threading.Event] = field(default_factory=set)


@dataclass(frozen=True)
class HubLimits:
    ring_events: int = 4096
    ring_bytes: int = 16 * 1024 * 1024
    batch_bytes: int = 1024 * 1024
    read_slice: float = 0.05
    linger: float = 5.0
    retry: float = 0.5


class FanOutHub:
    """A LiveWait for many subscribers at the cost of one blocking log read.

    A reader thread calls `EventLog.wait` over the cursors of every watched run
    (a run is watched while subscribers wait on it, and for `linger` seconds
    after), keeps each run's recent events in a bounded ring with their encoded
    frame, and wakes that run's subscribers. A subscriber whose cursor fell out
    of a trimmed ring gets SubscriberLagged and should reconnect from the log.
    """

    def __init__(
        self,
        log: EventLog,
        encode: Callable[[StoredEvent], bytes],
        limits: HubLimits | None = None,
        on_error: Callable[[Exception], None] | None = None,
    ) -> None:
        self._log = log
        self._encode = encode
        self._limits = limits or HubLimits()
        self._on_error = on_error
        self._lock = threading.Lock()
        self._watches: dict[RunId, _Watch] = {}
        self._joined = threading.Event()
        self._closed = False
        self._stopping = threading.Event()
        self._reader: threading.Thread | None = None

    def wait(
        self, cursors: Mapping[RunId, EventId], timeout: float, limit: int = 1000
    ) -> dict[RunId, list[StoredEvent]]:
        """Events after each cursor (at most `limit` per run), or {} on timeout."""
        waiter = threading.Event()
        with self._lock:
            if self._closed:
                return {}
            self._start_reader()
            found = self._collect(cursors, limit)
            if found or timeout <= 0:
                return found
            for run_id in cursors:
                self._watches[run_id].waiters.add(waiter)
        try:
            waiter.wait(timeout)
        finally:
            with self._lock:
                for run_id in cursors:
                    self._leave(run_id, waiter)
        with self._lock:
            return {} if self._closed else self._collect(cursors, limit)

    def frame(self, event: StoredEvent) -> bytes:
        """The event's encoded frame: the cached one while the ring holds it."""
        with self._lock:
            watch = self._watches.get(event.run_id)
            cached = None if watch is None else watch.frames.get(event.id)
        return cached if cached is not None else self._encode(event)

    def watched_runs(self) -> int:
        with self._lock:
            return len(self._watches)

    def close(self) -> None:
        """Stop the reader and release every waiter; later waits return {}."""
        with self._lock:
            self._closed = True
            for watch in self._watches.values():
                for waiter in watch.waiters:
                    waiter.set()
            self._joined.set()
            self._stopping.set()

    def _start_reader(self) -> None:
        if self._reader is None:
            self._reader = threading.Thread(
                target=self._read_forever, name="runstream-fan-out", daemon=True
            )
            self._reader.start()

    def _collect(
        self, cursors: Mapping[RunId, EventId], limit: int
    ) -> dict[RunId, list[StoredEvent]]:
        found = {}
        now = time.monotonic()
        for run_id, cursor in cursors.items():
            watch = self._watch(run_id, cursor, now)
            events = self._after(watch, cursor, limit)
            if events:
                found[run_id] = events
        return found

    def _watch(self, run_id: RunId, cursor: EventId, now: float) -> _Watch:
        watch = self._watches.get(run_id)
        if watch is None:
            watch = self._watches[run_id] = _Watch(cursor, cursor, now)
            self._joined.set()
        elif cursor < watch.floor and not watch.trimmed:
            # A subscriber from before the ring's start: read again from there.
            watch.floor = watch.head = cursor
            watch.ring, watch.frames, watch.ring_bytes = [], {}, 0
            watch.closed = False
            self._joined.set()
        watch.seen = now
        return watch

    def _after(self, watch: _Watch, cursor: EventId, limit: int) -> list[StoredEvent]:
        if cursor < watch.floor:
            raise SubscriberLagged(f"subscriber at {cursor} is behind {watch.floor}")
        if cursor >= watch.head:
            return []
        start = bisect.bisect_right(watch.ring, cursor, key=_position)
        events = watch.ring[start : start + max(limit, 1)]
        budget = self._limits.batch_bytes
        for count, event in enumerate(events):
            budget -= len(watch.frames.get(event.id, b""))
            if budget < 0 and count > 0:
                return events[:count]
        return events

    def _leave(self, run_id: RunId, waiter: threading.Event) -> None:
        watch = self._watches.get(run_id)
        if watch is not None:
            watch.waiters.discard(waiter)
            watch.seen = time.monotonic()

    def _read_forever(self) -> None:
        while True:
            cursors = self._cursors()
            if cursors is None:
                return
            if not cursors:
                self._joined.wait(self._limits.linger)
                continue
            try:
                found = self._log.wait(cursors, self._limits.read_slice)
            except Exception as err:  # the reader must outlive any failure
                self._failed(err)
                continue
            if found:
                self._publish(cursors, found)

    def _cursors(self) -> dict[RunId, EventId] | None:
        """The heads of the open watches (None once closed); drops idle ones."""
        with self._lock:
            if self._closed:
                return None
            expired = time.monotonic() - self._limits.linger
            for run_id, watch in list(self._watches.items()):
                if not watch.waiters and watch.seen < expired:
                    del self._watches[run_id]
            cursors = {r: w.head for r, w in self._watches.items() if not w.closed}
            if not cursors:
                self._joined.clear()
            return cursors

    def _failed(self, err: Exception) -> None:
        logger.warning("fan-out reader: event log wait failed: %s", err)
        if self._on_error is not None:
            self._on_error(err)
        self._stopping.wait(self._limits.retry)

    def _publish(
        self,
        cursors: Mapping[RunId, EventId],
        found: Mapping[RunId, list[StoredEvent]],
    ) -> None:
        encoded = {
            run_id: [(event, self._encode(event)) for event in events]
            for run_id, events in found.items()
        }
        with self._lock:
            for run_id, items in encoded.items():
                watch = self._watches.get(run_id)
                if watch is None or watch.head != cursors[run_id] or not items:
                    continue  # dropped or rewound meanwhile: the next read redoes it
                for event, frame in items:
                    watch.ring.append(event)
                    watch.frames[event.id] = frame
                    watch.ring_bytes += len(frame)
                watch.head = items[-1][0].id
                watch.closed = items[-1][0].is_terminal
                self._trim(watch)
                for waiter in watch.waiters:
                    waiter.set()

    def _trim(self, watch: _Watch) -> None:
        limits = self._limits
        drop = 0
        size = len(watch.ring)
        while size - drop > 1 and (
            size - drop > limits.ring_events or watch.ring_bytes > limits.ring_bytes
        ):
            gone = watch.ring[drop]
            watch.ring_bytes -= len(watch.frames.pop(gone.id, b""))
            drop += 1
        if drop:
            watch.floor = watch.ring[drop - 1].id
            watch.trimmed = True
            del watch.ring[:drop]
