"""EventWriter: executors emit without waiting; one thread stores their events.

Policy when the queue is full: back-pressure. At most `capacity` events (queued
plus being written, all runs together) wait in memory; an emit that finds the
queue full waits until the writer frees room. No event is dropped to make room,
memory stays bounded, and every such wait is counted (`blocked_emits`,
`blocked_seconds`). With the default capacity (100,000 events, some tens of MB)
that only happens once the store has been unreachable, or slower than the
producers, for a long time: then runs slow down instead of losing events.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from runstream.application.backoff import Backoff
from runstream.application.batch_store import BatchStore
from runstream.application.write_queue import WriteQueue
from runstream.domain.model import NewEvent, RunId
from runstream.domain.ports import EventLog

logger = logging.getLogger(__name__)
_ABORT_GRACE = 5.0  # seconds for an aborted writer to drop its queue


@dataclass(frozen=True)
class WriterStats:
    """For the metrics endpoint: two gauges, then totals since start."""

    queue_depth: int
    runs_queued: int
    events_emitted: int
    events_written: int
    batches: int
    retries: int
    events_dropped: int
    blocked_emits: int
    blocked_seconds: float
    store_available: bool


class RunSink:
    """The EventSink of one run."""

    __slots__ = ("_put", "_run_id")

    def __init__(self, writer: EventWriter, run_id: RunId) -> None:
        self._put = writer.emit
        self._run_id = run_id

    def emit(self, event: NewEvent) -> None:
        self._put(self._run_id, event)


class EventWriter:
    """A bounded queue in front of an EventLog, drained by one thread that
    appends each run's queued events in order, one `append` per batch.

    While the log raises StorageUnavailable, runs go on and their events are
    retried with backoff (see BatchStore). Events of an ended run are refused by
    the log; those, like events given up at shutdown, are logged and counted.
    """

    def __init__(
        self,
        events: EventLog,
        *,
        capacity: int = 100_000,
        max_batch: int = 1000,
        backoff: Backoff | None = None,
    ) -> None:
        self._queue = WriteQueue(capacity)
        self._max_batch = max(1, max_batch)
        self._abort = threading.Event()
        self._store = BatchStore(events, backoff or Backoff(), self._abort)
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def sink(self, run_id: RunId) -> RunSink:
        return RunSink(self, run_id)

    def emit(self, run_id: RunId, event: NewEvent) -> None:
        """Queue `event` for `run_id`; waits only while the queue is full.
        StorageUnavailable once the writer has shut down."""
        if self._thread is None:
            self._start()
        self._queue.put(run_id, event)

    def flush(self, run_id: RunId, timeout: float | None = None) -> bool:
        """Wait until everything emitted for `run_id` is stored (or dropped)."""
        return self._queue.wait_written(run_id, timeout)

    def on_run_closed(self, callback: Callable[[RunId], None]) -> None:
        """Call `callback(run_id)` (on the writer's thread) when the log refuses a
        run's events because the run was ended elsewhere (another process)."""
        self._store.on_closed = callback

    def forget(self, run_id: RunId) -> None:
        """Drop what the writer remembers of a run that has ended."""
        self._store.forget(run_id)

    def start(self) -> None:
        """Start the writing thread now (the first emit also starts it)."""
        self._start()

    def stop(self, timeout: float) -> bool:
        """`shutdown` within `timeout` seconds."""
        return self.shutdown(timeout)

    def shutdown(self, timeout: float | None = None) -> bool:
        """Store everything queued, then stop. After `timeout` seconds, give up
        on a log that stays unavailable; False if events were left unstored."""
        deadline = None if timeout is None else time.monotonic() + timeout
        drained = self._queue.wait_written(None, timeout)
        if not drained:
            self._abort.set()
        self._queue.close()
        with self._start_lock:
            thread = self._thread
        if thread is not None:
            # Once aborted, the thread drops what is left at once: grant it that.
            left = None if deadline is None else deadline - time.monotonic()
            thread.join(None if left is None else max(left, _ABORT_GRACE))
            drained = drained and not thread.is_alive()
        return drained

    def stats(self) -> WriterStats:
        queue, store = self._queue.stats(), self._store
        return WriterStats(
            queue.depth,
            queue.runs,
            queue.emitted,
            store.written,
            store.batches,
            store.retries,
            store.dropped,
            queue.blocked_emits,
            queue.blocked_seconds,
            store.available,
        )

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                thread = threading.Thread(
                    target=self._drain, name="event-writer", daemon=True
                )
                thread.start()
                self._thread = thread

    def _drain(self) -> None:
        while (work := self._queue.take(self._max_batch)) is not None:
            for run_id, batch in work:
                try:
                    self._store.store(run_id, batch)
                except Exception:
                    self._store.dropped += len(batch)
                    logger.exception("run %s: %d events not stored", run_id, len(batch))
                finally:
                    self._queue.done(run_id, len(batch))
