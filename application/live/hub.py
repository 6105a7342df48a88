"""FanOutHub: one reader per process serves every live subscriber of every run."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping

from runstream.application.live.batching import AdaptiveGather
from runstream.application.live.subscription import Batch, LiveSubscriber
from runstream.application.live.watched_runs import HubLimits, WatchedRuns
from runstream.domain.errors import StorageUnavailable
from runstream.domain.ids import EventId
from runstream.domain.model import RunId, StoredEvent
from runstream.domain.ports import EventLog

logger = logging.getLogger(__name__)


class FanOutHub:
    """A reader thread calls `EventLog.wait` over the cursors of every watched
    run (while it has waiters or subscribers, and `linger` seconds after), keeps
    each run's recent events in a bounded ring with their frame, pushes each new
    batch to the run's subscribers and wakes its waiters. Follow a run with
    `subscribe` (pushed batches: the writer loop does the rest) or `wait` (a
    blocking LiveWait, for streams served as plain WSGI bodies). The hub never
    touches a socket and never calls out while it holds its lock."""

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
        self._lock = threading.Lock()  # guards the watched runs
        self._pushing = threading.Lock()  # keeps pushes in log order
        self._runs = WatchedRuns(self._limits)
        self._gather = AdaptiveGather(max_delay=self._limits.gather_max)
        self._closed = False
        self._stopping = threading.Event()
        self._reader: threading.Thread | None = None
        # The log's error while reads fail: a woken waiter raises it (its stream
        # ends and the client reconnects, to a 503 until the log answers again).
        self._failure: StorageUnavailable | None = None

    def wait(
        self,
        cursors: Mapping[RunId, EventId],
        timeout: float | None,
        limit: int = 1000,
        wake: threading.Event | None = None,
    ) -> dict[RunId, list[StoredEvent]]:
        """Events after each cursor (at most `limit` per run), or {} on timeout.
        With `wake` (cleared by the caller), setting it also ends the wait."""
        with self._lock:
            if self._closed:
                return {}
            self._start_reader()
            found = self._runs.collect(cursors, limit, time.monotonic())
            if found or (timeout is not None and timeout <= 0):
                return found
            waiter = wake if wake is not None else threading.Event()
            watches = [self._runs.watches[run_id] for run_id in cursors]
            for watch in watches:
                watch.waiters.add(waiter)
        try:
            waiter.wait(timeout)
        finally:
            with self._lock:
                self._runs.leave(watches, waiter, time.monotonic())
        with self._lock:
            now = time.monotonic()
            found = {} if self._closed else self._runs.collect(cursors, limit, now)
            if not found and self._failure is not None:
                raise self._failure
            return found

    def subscribe(
        self, run_id: RunId, cursor: EventId, subscriber: LiveSubscriber
    ) -> None:
        """Push the run's events after `cursor` to `subscriber` from now on
        (SubscriberLagged when the ring no longer holds all of them)."""
        with self._pushing:
            with self._lock:
                if self._closed:
                    items: list[tuple[StoredEvent, bytes]] | None = None
                else:
                    self._start_reader()
                    watch = self._runs.watch(run_id, cursor, time.monotonic())
                    items = self._runs.ring_after(watch, cursor, self._encode)
                    watch.subscribers.add(subscriber)
            if items is None:
                subscriber.end(None)
            elif items:
                subscriber.offer(Batch.of(items))

    def unsubscribe(self, run_id: RunId, subscriber: LiveSubscriber) -> None:
        with self._lock:
            watch = self._runs.watches.get(run_id)
            if watch is not None:
                watch.subscribers.discard(subscriber)
                watch.seen = time.monotonic()

    def frame(self, event: StoredEvent) -> bytes:
        """The event's encoded frame: the cached one while the ring holds it."""
        watch = self._runs.watches.get(event.run_id)  # single dict reads: no lock
        cached = None if watch is None else watch.recent.frame(event.id)
        return cached if cached is not None else self._encode(event)

    def held_bytes(self) -> int:
        """Bytes of frames held for all watched runs."""
        with self._lock:
            return self._runs.held

    def watched_runs(self) -> int:
        with self._lock:
            return len(self._runs.watches)

    def close(self) -> None:
        """Stop the reader, release every waiter and end every subscriber."""
        self._end_all(None, close=True)
        self._stopping.set()

    def _start_reader(self) -> None:
        if self._reader is None:
            self._reader = threading.Thread(
                target=self._read_forever, name="runstream-fan-out", daemon=True
            )
            self._reader.start()

    def _read_forever(self) -> None:
        since = time.perf_counter()
        while True:
            with self._lock:
                if self._closed:
                    return
                cursors = self._runs.cursors(time.monotonic())
            if not cursors:
                self._runs.joined.wait(self._limits.linger)
                continue
            try:
                found = self._log.wait(cursors, self._limits.read_slice)
            except Exception as err:  # the reader must outlive any failure
                self._failed(err)
                continue
            self._failure = None
            if found:
                idle, started = time.perf_counter() - since, time.thread_time()
                self._publish(cursors, found)
                count = sum(len(events) for events in found.values())
                spent = time.thread_time() - started  # CPU, not waits for a core
                delay = self._gather.after_read(count, spent, len(cursors), idle)
                if delay > 0:
                    self._stopping.wait(delay)
                since = time.perf_counter()  # the reader waits for events from here

    def _failed(self, err: Exception) -> None:
        logger.warning("fan-out reader: event log wait failed: %s", err)
        if self._on_error is not None:
            self._on_error(err)
        if isinstance(err, StorageUnavailable):
            self._failure = err
            self._end_all(err, close=False)
        self._stopping.wait(self._limits.retry)

    def _end_all(self, error: Exception | None, close: bool) -> None:
        """Wake every waiter and end every subscriber (outside the lock)."""
        with self._pushing:
            with self._lock:
                self._closed = self._closed or close
                waiters, ended = self._runs.release_all()
            for waiter in waiters:
                waiter.set()
            for subscriber in ended:
                subscriber.end(error)

    def _publish(
        self,
        cursors: Mapping[RunId, EventId],
        found: Mapping[RunId, list[StoredEvent]],
    ) -> None:
        encoded = {
            run_id: [(event, self._encode(event)) for event in events]
            for run_id, events in found.items()
        }
        with self._pushing:
            with self._lock:
                deliveries, woken = self._runs.publish(cursors, encoded)
            for subscribers, pushed in deliveries:
                batch = Batch.of(pushed)
                for subscriber in subscribers:
                    subscriber.offer(batch)
        for waiter in woken:
            waiter.set()
