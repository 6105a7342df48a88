"""FailoverEventLog: a primary (Redis) with a fallback (SQL) behind a circuit
breaker, so a primary outage is an adapter switch, invisible to the use cases."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from runstream.domain.errors import DomainError, StorageUnavailable
from runstream.domain.ids import MAX_ID, MIN_ID, EventId
from runstream.domain.model import LogInfo, NewEvent, RunId, StoredEvent
from runstream.domain.ports import EventLog

logger = logging.getLogger(__name__)
PAGE = 1000
TRACKED_RUNS = 10_000
T = TypeVar("T")


@dataclass(frozen=True)
class FailoverStats:
    serving: str
    failovers: int
    failbacks: int
    seconds_on_fallback: float


class FailoverEventLog:
    """Serves from `primary` until it fails, then from `fallback`.

    The first StorageUnavailable trips the breaker: `before_failover` runs (it
    flushes the archive, so the fallback holds every event the primary
    acknowledged), and the call is retried on the fallback, which continues each
    run's ids and sequences. `primary_head` tells what the primary itself still
    holds of a run (when the primary is tiered, its own `info` would answer from
    the archive). A prober thread pings the primary with backoff;
    once it answers, the events written during the outage (and any run the
    primary lost, if it came back empty) are copied into it with their ids, and
    the primary serves again. All of this is per process.
    """

    def __init__(
        self,
        primary: EventLog,
        fallback: EventLog,
        *,
        names: tuple[str, str] = ("redis", "sql"),
        before_failover: Callable[[], object] = lambda: None,
        primary_head: Callable[[RunId], LogInfo | None] | None = None,
        probe_backoff: tuple[float, float] = (0.1, 2.0),
    ) -> None:
        self._primary = primary
        self._fallback = fallback
        self._names = names
        self._before_failover = before_failover
        self._primary_head = primary_head or self._primary_info
        self._backoff = probe_backoff
        self._lock = threading.RLock()
        self._open = False
        self._opened_at = 0.0
        self._on_fallback = 0.0
        self._counts = {"failovers": 0, "failbacks": 0}
        self._recent: OrderedDict[RunId, None] = OrderedDict()
        self._finished: set[RunId] = set()
        self._resumed = threading.Event()
        self._stopping = threading.Event()
        self._prober: threading.Thread | None = None

    def start(self) -> None:
        """Nothing to start: the prober runs only while the breaker is open."""

    def stop(self, timeout: float) -> bool:
        """End the prober (if running) within `timeout`; False if it was busy."""
        self._stopping.set()
        prober = self._prober
        if prober is None:
            return True
        prober.join(timeout)
        return not prober.is_alive()

    @property
    def primary(self) -> EventLog:
        return self._primary

    @property
    def serving(self) -> str:
        return self._names[1] if self._open else self._names[0]

    def stats(self) -> FailoverStats:
        with self._lock:
            current = time.monotonic() - self._opened_at if self._open else 0.0
            return FailoverStats(
                self.serving,
                self._counts["failovers"],
                self._counts["failbacks"],
                self._on_fallback + current,
            )

    def append(self, run_id: RunId, events: Sequence[NewEvent]) -> list[StoredEvent]:
        self._track(run_id)
        return self._call(lambda log: log.append(run_id, events), writes=True)

    def store(self, run_id: RunId, events: Sequence[StoredEvent]) -> int:
        self._track(run_id)
        return self._call(lambda log: log.store(run_id, events), writes=True)

    def read(
        self,
        run_id: RunId,
        start: EventId = MIN_ID,
        end: EventId = MAX_ID,
        limit: int = 1000,
    ) -> list[StoredEvent]:
        return self._call(lambda log: log.read(run_id, start, end, limit))

    def wait(
        self, cursors: Mapping[RunId, EventId], timeout: float, limit: int = 1000
    ) -> dict[RunId, list[StoredEvent]]:
        return self._call(lambda log: log.wait(cursors, timeout, limit))

    def finish(self, run_id: RunId) -> None:
        with self._lock:
            if self._open:
                self._finished.add(run_id)
        self._call(lambda log: log.finish(run_id), writes=True)

    def info(self, run_id: RunId) -> LogInfo | None:
        return self._call(lambda log: log.info(run_id))

    def _call(self, operation: Callable[[EventLog], T], writes: bool = False) -> T:
        """Writes to the fallback hold the lock, so a failback copies a complete
        cut; reads and waits never hold it (a wait blocks for seconds)."""
        if not self._open:
            try:
                return operation(self._primary)
            except StorageUnavailable as err:
                self._trip(err)
        if not writes:
            return operation(self._fallback)
        with self._lock:
            if self._open:
                return operation(self._fallback)
        return self._call(operation, writes)

    def _track(self, run_id: RunId) -> None:
        with self._lock:
            self._recent[run_id] = None
            self._recent.move_to_end(run_id)
            if len(self._recent) > TRACKED_RUNS:
                self._recent.popitem(last=False)

    def _trip(self, err: StorageUnavailable) -> None:
        with self._lock:
            if self._open:
                return
            logger.warning(
                "event log %s failed (%s); serving from %s",
                *self._names[:1],
                err,
                self._names[1],
            )
            self._before_failover()
            self._open = True
            self._opened_at = time.monotonic()
            self._counts["failovers"] += 1
            self._prober = threading.Thread(
                target=self._probe, daemon=True, name="failback"
            )
            self._prober.start()

    def _primary_info(self, run_id: RunId) -> LogInfo | None:
        return self._primary.info(run_id)

    def _probe(self) -> None:
        delay, ceiling = self._backoff
        while not self._stopping.wait(delay):
            try:
                self._primary.info(0)
                self._fail_back()
                return
            except StorageUnavailable:
                delay = min(delay * 2, ceiling)
            except DomainError:
                logger.exception("failing back failed; still serving the fallback")
                delay = ceiling

    def _fail_back(self) -> None:
        """Copy what the primary lacks while appends go on, then hold appends
        only to copy what arrived meanwhile, and switch back."""
        for run_id in list(self._recent):
            self._copy_missing(run_id)
        with self._lock:
            for run_id in list(self._recent):
                self._copy_missing(run_id)
            for run_id in self._finished:
                self._primary.finish(run_id)
            self._finished.clear()
            self._open = False
            self._on_fallback += time.monotonic() - self._opened_at
            self._counts["failbacks"] += 1
            logger.warning(
                "event log %s answers again; serving from it", self._names[0]
            )

    def _copy_missing(self, run_id: RunId) -> None:
        mine = self._primary_head(run_id)
        theirs = self._fallback.info(run_id)
        if theirs is None or (mine is not None and mine.last_id >= theirs.last_id):
            return
        cursor = MIN_ID if mine is None else mine.last_id.successor()
        while True:
            batch = self._fallback.read(run_id, cursor, MAX_ID, PAGE)
            if not batch:
                return
            self._primary.store(run_id, batch)
            cursor = batch[-1].id.successor()
