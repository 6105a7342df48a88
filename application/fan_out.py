"""FanOutHub: one reader per process serves every live subscriber of every run."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from runstream.application.recent_events import RecentEvents
from runstream.domain.errors import DomainError, StorageUnavailable
from runstream.domain.ids import EventId
from runstream.domain.model import RunId, StoredEvent
from runstream.domain.ports import EventLog

logger = logging.getLogger(__name__)


class SubscriberLagged(DomainError):
    """A subscriber fell further behind than the hub keeps; resume from the log."""


# Writes a batch's frames (joined) for a subscriber that waits at the run's head,
# without waking it; False when it could not (the subscriber is woken instead).
# Called under the hub's lock: it must not block.
Sink = Callable[[bytes, list[StoredEvent]], bool]


@dataclass(eq=False)
class _Waiter:
    wake: threading.Event
    cursor: EventId
    sink: Sink | None


@dataclass(eq=False)
class _Watch:
    """A watched run: its recent events and the subscribers waiting on it."""

    recent: RecentEvents
    seen: float
    waiters: set[_Waiter] = field(default_factory=set)


@dataclass(frozen=True)
class HubLimits:
    ring_events: int = 4096
    ring_bytes: int = 16 * 1024 * 1024
    total_bytes: int = 256 * 1024 * 1024  # all runs' windows together
    batch_bytes: int = 1024 * 1024
    read_slice: float = 0.05
    # After a read that found events, let more gather this long before the next
    # read: one log read then serves several appends (a few ms of latency).
    gather: float = 0.010
    linger: float = 5.0
    retry: float = 0.5


def _leave(watches: list[_Watch], waiter: _Waiter) -> None:
    now = time.monotonic()
    for watch in watches:
        watch.waiters.discard(waiter)
        watch.seen = now


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
        # The head of every watch whose run is still open: what the reader reads
        # after, kept up to date so that a read does not rebuild it.
        self._heads: dict[RunId, EventId] = {}
        self._next_sweep = 0.0
        self._held = 0  # bytes of frames in all windows
        self._joined = threading.Event()
        self._closed = False
        self._stopping = threading.Event()
        self._reader: threading.Thread | None = None
        # The event log's error while the reader's reads fail: a waiter woken
        # by a failed read gets it, so its stream ends and the client reconnects
        # (to a 503 until the log answers again).
        self._failure: StorageUnavailable | None = None

    def wait(
        self,
        cursors: Mapping[RunId, EventId],
        timeout: float | None,
        limit: int = 1000,
        sink: Sink | None = None,
        wake: threading.Event | None = None,
    ) -> dict[RunId, list[StoredEvent]]:
        """Events after each cursor (at most `limit` per run), or {} on timeout.

        With a `sink` (one run only), new batches are handed to it while the
        caller sleeps; what it took is still returned to the caller once woken.
        With `wake` (cleared by the caller), setting it also ends the wait; with
        no `timeout`, only that, new events or `close` do.
        """
        with self._lock:
            if self._closed:
                return {}
            if self._reader is None:
                self._start_reader()
            found = self._collect(cursors, limit)
            if found or (timeout is not None and timeout <= 0):
                return found
            watches = [self._watches[run_id] for run_id in cursors]
            direct = sink if len(watches) == 1 else None
            cursor = next(iter(cursors.values()))
            waiter = _Waiter(
                wake if wake is not None else threading.Event(), cursor, direct
            )
            for watch in watches:
                watch.waiters.add(waiter)
        try:
            waiter.wake.wait(timeout)
            with self._lock:
                _leave(watches, waiter)
                found = {} if self._closed else self._collect(cursors, limit)
                if not found and self._failure is not None:
                    raise self._failure
                return found
        except BaseException:
            with self._lock:
                _leave(watches, waiter)
            raise

    def frame(self, event: StoredEvent) -> bytes:
        """The event's encoded frame: the cached one while the ring holds it."""
        watch = self._watches.get(event.run_id)  # single dict reads: no lock
        cached = None if watch is None else watch.recent.frame(event.id)
        return cached if cached is not None else self._encode(event)

    def held_bytes(self) -> int:
        """Bytes of frames held for all watched runs."""
        with self._lock:
            return self._held

    def watched_runs(self) -> int:
        with self._lock:
            return len(self._watches)

    def close(self) -> None:
        """Stop the reader and release every waiter; later waits return {}."""
        with self._lock:
            self._closed = True
            for watch in self._watches.values():
                for waiter in watch.waiters:
                    waiter.wake.set()
            self._joined.set()
            self._stopping.set()

    def _start_reader(self) -> None:
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
            limits = self._limits
            recent = RecentEvents(cursor, limits.ring_events, limits.ring_bytes)
            watch = self._watches[run_id] = _Watch(recent, now)
            self._heads[run_id] = cursor
            self._joined.set()
        elif watch.recent.behind(cursor) and not watch.recent.trimmed:
            # A subscriber from before the window's start: read again from there.
            self._held -= watch.recent.size
            watch.recent.reset(cursor)
            self._heads[run_id] = cursor
            self._joined.set()
        watch.seen = now
        return watch

    def _after(self, watch: _Watch, cursor: EventId, limit: int) -> list[StoredEvent]:
        recent = watch.recent
        if recent.behind(cursor):
            raise SubscriberLagged(f"subscriber at {cursor} is behind {recent.floor}")
        return recent.after(cursor, limit, self._limits.batch_bytes)

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
            self._failure = None
            if found:
                self._publish(cursors, found)
                if self._limits.gather > 0:
                    time.sleep(self._limits.gather)  # cheaper than a timed wait

    def _cursors(self) -> dict[RunId, EventId] | None:
        """The heads of the open watches (None once closed); drops idle ones,
        looking at most a few times per `linger`."""
        with self._lock:
            if self._closed:
                return None
            now = time.monotonic()
            if now >= self._next_sweep:
                self._next_sweep = now + self._limits.linger / 5
                expired = now - self._limits.linger
                for run_id, watch in list(self._watches.items()):
                    if not watch.waiters and watch.seen < expired:
                        self._held -= watch.recent.size
                        del self._watches[run_id]
                        self._heads.pop(run_id, None)
            if not self._heads:
                self._joined.clear()
            return dict(self._heads)

    def _failed(self, err: Exception) -> None:
        logger.warning("fan-out reader: event log wait failed: %s", err)
        if self._on_error is not None:
            self._on_error(err)
        if isinstance(err, StorageUnavailable):
            with self._lock:
                self._failure = err
                for watch in self._watches.values():
                    for waiter in watch.waiters:
                        waiter.wake.set()
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
                if watch is None or watch.recent.head != cursors[run_id]:
                    continue  # dropped or rewound meanwhile: the next read redoes it
                held = watch.recent.size
                watch.recent.add(items)
                self._held += watch.recent.size - held
                if watch.recent.closed:
                    self._heads.pop(run_id, None)
                else:
                    self._heads[run_id] = watch.recent.head
                self._deliver(watch, cursors[run_id], items)
            if self._held > self._limits.total_bytes:
                self._shrink_all()

    def _deliver(
        self, watch: _Watch, old_head: EventId, items: list[tuple[StoredEvent, bytes]]
    ) -> None:
        """Hand the batch to each sink waiting at the old head (the frames joined
        once for all); wake every other waiter. A terminal batch always wakes."""
        joined: bytes | None = None
        events: list[StoredEvent] = []
        head = watch.recent.head
        direct = not watch.recent.closed
        for waiter in watch.waiters:
            if (
                direct
                and waiter.sink is not None
                and (waiter.cursor is old_head or waiter.cursor == old_head)
            ):
                if joined is None:
                    joined = b"".join([frame for _, frame in items])
                    events = [event for event, _ in items]
                if waiter.sink(joined, events):
                    waiter.cursor = head
                    continue
            waiter.wake.set()

    def _shrink_all(self) -> None:
        """Over the memory bound for all runs: each keeps an equal share."""
        share = self._limits.total_bytes // max(1, len(self._watches))
        for watch in self._watches.values():
            held = watch.recent.size
            watch.recent.shrink_to(share)
            self._held += watch.recent.size - held
