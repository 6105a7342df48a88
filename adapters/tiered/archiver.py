"""Archiver: the write-behind copy of a hot log's events into the archive."""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from runstream.domain.errors import DomainError, InvalidRequest, StorageUnavailable
from runstream.domain.ids import MAX_ID, MIN_ID
from runstream.domain.model import RunId, StoredEvent
from runstream.domain.ports import EventLog

logger = logging.getLogger(__name__)
PAGE = 1000
GAP_SECONDS = 15.0


@dataclass(frozen=True)
class ArchiveStats:
    pending_events: int
    pending_runs: int
    oldest_pending_seconds: float
    archived_events: int
    repairs: int
    errors: int


class Archiver:
    """One thread copies what the hot log stored into the archive, batched per
    run and idempotent (the archive's `store` skips ids it has).

    A run's hot copy is finished (its expiry starts) only once the archive holds
    every event of the run. If a batch does not continue the archive (events
    appended by another process, or queued past `capacity`), the missing span is
    repaired by reading the hot log.

    The thread starts with `start` (or the first event queued) and ends with
    `stop`. With `lag_samples`, the last that many archive lags (seconds from
    queueing to archived) are kept for the tiers benchmark.
    """

    def __init__(
        self,
        hot: EventLog,
        archive: EventLog,
        on_finished: Callable[[RunId], None],
        *,
        capacity: int = 200_000,
        retry_seconds: float = 0.5,
        lag_samples: int = 0,
    ) -> None:
        self._hot = hot
        self._archive = archive
        self._on_finished = on_finished
        self._capacity = capacity
        self._retry = retry_seconds
        self._changed = threading.Condition()
        self._pending: dict[RunId, list[StoredEvent]] = {}
        self._since: dict[RunId, float] = {}
        self._dirty: set[RunId] = set()
        self._finishing: set[RunId] = set()
        self._queued = 0
        self._busy = False
        self._counts = collections.Counter[str]()
        self.lag_samples = collections.deque[float](maxlen=lag_samples)
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._stop_requested = threading.Event()
        self._gap_since: dict[RunId, float] = {}

    def start(self) -> None:
        """Start the copying thread (once; never again after `stop`)."""
        with self._changed:
            if self._thread is not None or self._stopping:
                return
            self._thread = threading.Thread(
                target=self._loop, daemon=True, name="archiver"
            )
            self._thread.start()

    def stop(self, timeout: float) -> bool:
        """Archive what is queued for up to `timeout` seconds, then end the
        thread; False if it was still busy (what it held stays unarchived)."""
        deadline = time.monotonic() + timeout
        flushed = self._thread is None or self.flush(timeout)
        with self._changed:
            self._stopping = True
            self._stop_requested.set()
            thread = self._thread
            self._changed.notify_all()
        if thread is not None:
            thread.join(max(0.0, deadline - time.monotonic()))
            return flushed and not thread.is_alive()
        return flushed

    def add(self, run_id: RunId, events: list[StoredEvent]) -> None:
        """Queue stored events; never blocks on the archive."""
        self.start()
        with self._changed:
            self._since.setdefault(run_id, time.monotonic())
            if self._queued + len(events) > self._capacity:
                self._dirty.add(run_id)
            else:
                self._pending.setdefault(run_id, []).extend(events)
                self._queued += len(events)
            self._changed.notify()

    def finish(self, run_id: RunId) -> None:
        """Once the run is fully archived, finish it in the archive and then call
        `on_finished` (which starts the hot copy's expiry)."""
        self.start()
        with self._changed:
            self._finishing.add(run_id)
            self._since.setdefault(run_id, time.monotonic())
            self._changed.notify()

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything queued is archived (or `timeout`)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._since or self._busy:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return True

    def stats(self) -> ArchiveStats:
        with self._changed:
            oldest = min(self._since.values(), default=time.monotonic())
            return ArchiveStats(
                self._queued,
                len(self._since),
                time.monotonic() - oldest,
                self._counts["archived"],
                self._counts["repairs"],
                self._counts["errors"],
            )

    def _loop(self) -> None:
        while True:
            with self._changed:
                while not self._since and not self._stopping:
                    self._busy = False
                    self._changed.notify_all()
                    self._changed.wait()
                if self._stopping:
                    self._busy = False
                    self._changed.notify_all()
                    return
                self._busy = True
                run_id = next(iter(self._since))
                started = self._since.pop(run_id)
                events = self._pending.pop(run_id, [])
                dirty = run_id in self._dirty
                self._dirty.discard(run_id)
                finishing = run_id in self._finishing
                self._finishing.discard(run_id)
                self._queued -= len(events)
            if not self._archive_run(run_id, events, dirty, finishing):
                self._requeue(run_id, events, started, dirty, finishing)
                self._stop_requested.wait(self._retry)
                continue
            if events and self.lag_samples.maxlen:
                self.lag_samples.append(time.monotonic() - started)

    def _archive_run(
        self, run_id: RunId, events: list[StoredEvent], dirty: bool, finishing: bool
    ) -> bool:
        try:
            if dirty:
                self._repair(run_id)
            else:
                self._store(run_id, events)
            if finishing:
                self._archive.finish(run_id)
                self._on_finished(run_id)
            return True
        except StorageUnavailable as err:
            self._counts["errors"] += 1
            logger.warning("archiving run %s failed, will retry: %s", run_id, err)
            return False
        except DomainError:
            self._counts["errors"] += 1
            logger.exception("archiving run %s failed for good", run_id)
            return True

    def _store(self, run_id: RunId, events: list[StoredEvent]) -> None:
        for start in range(0, len(events), PAGE):
            try:
                batch = events[start : start + PAGE]
                self._counts["archived"] += self._archive.store(run_id, batch)
            except InvalidRequest:
                self._repair(run_id)
                self._keep(run_id, events[start:])
                return

    def _keep(self, run_id: RunId, events: list[StoredEvent]) -> None:
        """Store what the hot log could not give back (it lost events): the gap
        before it is waited for (another process's archive may queue it) up to
        GAP_SECONDS, then the events are given up (logged)."""
        ordered = sorted({e.id: e for e in events}.values(), key=lambda e: e.id)
        try:
            # Each unbroken stretch on its own: another process's queue may
            # wait for the first while this one waits for a later gap.
            start = 0
            for end in range(1, len(ordered) + 1):
                if (
                    end == len(ordered)
                    or ordered[end].sequence != ordered[end - 1].sequence + 1
                ):
                    self._counts["archived"] += self._archive.store(
                        run_id, ordered[start:end]
                    )
                    start = end
        except InvalidRequest as err:
            since = self._gap_since.setdefault(run_id, time.monotonic())
            if time.monotonic() - since < GAP_SECONDS:
                raise StorageUnavailable(f"{err}; waiting for the gap") from err
            del self._gap_since[run_id]
            raise
        self._gap_since.pop(run_id, None)

    def _repair(self, run_id: RunId) -> None:
        """Copy whatever the archive lacks of the run from the hot log."""
        self._counts["repairs"] += 1
        info = self._archive.info(run_id)
        cursor = MIN_ID if info is None else info.last_id.successor()
        while True:
            batch = self._hot.read(run_id, cursor, MAX_ID, PAGE)
            if not batch:
                return
            self._counts["archived"] += self._archive.store(run_id, batch)
            cursor = batch[-1].id.successor()

    def _requeue(
        self,
        run_id: RunId,
        events: list[StoredEvent],
        started: float,
        dirty: bool,
        finishing: bool,
    ) -> None:
        with self._changed:
            if dirty:
                self._dirty.add(run_id)
            self._pending[run_id] = events + self._pending.get(run_id, [])
            self._queued += len(events)
            self._since[run_id] = min(started, self._since.get(run_id, started))
            if finishing:
                self._finishing.add(run_id)
