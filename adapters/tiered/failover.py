"""FailoverEventLog: a primary (Redis) with a fallback (SQL), the tier that
takes appends chosen once for the whole fleet (`FleetTier`), so a Redis outage
is an adapter switch, invisible to the use cases, and never a split brain."""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from runstream.adapters.fencing import fenced
from runstream.adapters.tiered.copy_back import copy_missing
from runstream.adapters.tiered.fleet_tier import FleetTier
from runstream.adapters.tiered.fleet_timing import FleetTiming
from runstream.adapters.tiered.tier_record import (
    FLUSH,
    REDIS,
    SQL,
    TO_SQL,
    LocalTierRecord,
    TierRecord,
    TierState,
)
from runstream.domain.errors import DomainError, StorageUnavailable
from runstream.domain.ids import MAX_ID, MIN_ID, EventId
from runstream.domain.model import (
    Appended,
    Category,
    Idempotency,
    LogInfo,
    NewEvent,
    RunId,
    StoredEvent,
)
from runstream.domain.ports import EventLog, SelectiveEventLog

logger = logging.getLogger(__name__)
TRACKED_RUNS = 10_000
T = TypeVar("T")


@dataclass(frozen=True)
class FailoverStats:
    serving: str
    failovers: int
    failbacks: int
    seconds_on_fallback: float


def member_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


class FailoverEventLog:
    """Writes go to the tier the fleet chose, under a lease (`FleetTier`):
    a Redis failure asks the fleet to switch to SQL (refused while another
    process still reaches Redis: this one answers StorageUnavailable), and the
    switch takes effect once no process can still act on Redis. `before_failover`
    flushes this process's archive, so SQL holds what Redis acknowledged;
    `primary_head` tells what Redis itself still holds of a run. Failback copies
    SQL's tail into Redis while every process holds its appends."""

    def __init__(
        self,
        primary: EventLog,
        fallback: EventLog,
        *,
        names: tuple[str, str] = ("redis", "sql"),
        before_failover: Callable[[], object] = lambda: None,
        primary_head: Callable[[RunId], LogInfo | None] | None = None,
        incarnation: Callable[[], object] = lambda: None,
        on_refilled: Callable[[], object] = lambda: None,
        probe_backoff: tuple[float, float] = (0.1, 2.0),
        record: TierRecord | None = None,
        timing: FleetTiming | None = None,
    ) -> None:
        self._primary = primary
        self._fallback = fallback
        self._names = names
        self._primary_head = primary_head or self._primary_info
        self._incarnation = incarnation
        self._lock = threading.Lock()
        self._recent: OrderedDict[RunId, None] = OrderedDict()
        self._counts = {"failovers": 0, "failbacks": 0}
        self._left_at = 0.0
        self._on_fallback = 0.0
        self.fleet = FleetTier(
            record or LocalTierRecord(),
            member_id=member_id(),
            probe=self._probe,
            flush=before_failover,
            fail_back=self._copy_back,
            timing=timing or FleetTiming(beat=probe_backoff[0] * 5),
        )
        self.fleet.on_change = self._changed
        self.fleet.on_refilled = on_refilled
        self._shared = record is not None

    @property
    def primary(self) -> EventLog:
        return self._primary

    @property
    def serving(self) -> str:
        return self._names[0] if self.fleet.state.tier == REDIS else self._names[1]

    def stats(self) -> FailoverStats:
        with self._lock:
            away = time.monotonic() - self._left_at if self.serving != "redis" else 0
            return FailoverStats(
                self.serving,
                self._counts["failovers"],
                self._counts["failbacks"],
                self._on_fallback + (away if self._left_at else 0.0),
            )

    def start(self) -> None:
        """The fleet tier's thread: heartbeats from the start in a fleet (a
        shared record), else only once this process leaves Redis."""
        if self._shared:
            self.fleet.start()

    def stop(self, timeout: float) -> bool:
        """End the fleet tier's thread within `timeout`; False if it was busy."""
        return self.close(timeout)

    def close(self, timeout: float = 5.0) -> bool:
        return self.fleet.stop(timeout)

    def append(
        self,
        run_id: RunId,
        events: Sequence[NewEvent],
        idempotency: Idempotency | None = None,
    ) -> Appended:
        self._track(run_id)
        return self._write(lambda log: log.append(run_id, events, idempotency))

    def store(self, run_id: RunId, events: Sequence[StoredEvent]) -> int:
        self._track(run_id)
        return self._write(lambda log: log.store(run_id, events))

    def read(
        self,
        run_id: RunId,
        start: EventId = MIN_ID,
        end: EventId = MAX_ID,
        limit: int = 1000,
    ) -> list[StoredEvent]:
        return self._read(lambda log: log.read(run_id, start, end, limit))

    def read_selected(
        self,
        run_id: RunId,
        start: EventId,
        end: EventId,
        limit: int,
        agent_ids: frozenset[str],
        categories: frozenset[Category],
    ) -> list[StoredEvent]:
        """`read` of the selected events, on the tier `read` would use."""

        def select(log: EventLog) -> list[StoredEvent]:
            if not isinstance(log, SelectiveEventLog):  # the caller selects
                return log.read(run_id, start, end, limit)
            return log.read_selected(run_id, start, end, limit, agent_ids, categories)

        return self._read(select)

    def wait(
        self, cursors: Mapping[RunId, EventId], timeout: float, limit: int = 1000
    ) -> dict[RunId, list[StoredEvent]]:
        return self._read(lambda log: log.wait(cursors, timeout, limit))

    def finish(self, run_id: RunId) -> None:
        self._write(lambda log: log.finish(run_id))

    def info(self, run_id: RunId) -> LogInfo | None:
        return self._read(lambda log: log.info(run_id))

    def _write(self, operation: Callable[[EventLog], T]) -> T:
        if self.fleet.writable() == SQL:
            return operation(self._fallback)
        try:
            with fenced(self.fleet.redis_lease_end_ms):
                return operation(self._primary)
        except StorageUnavailable as err:
            self.fleet.redis_failed(err)
            if self.fleet.writable() == REDIS:
                raise
        return operation(self._fallback)

    def _read(self, operation: Callable[[EventLog], T]) -> T:
        """Reads follow the last known decision (they acknowledge nothing); a
        read that Redis fails waits for the fleet to settle on a tier."""
        try:
            tier = self.fleet.current().tier
        except StorageUnavailable:
            tier = self.fleet.state.tier
        if tier not in (REDIS, TO_SQL, FLUSH):
            return operation(self._fallback)
        try:
            return operation(self._primary)
        except StorageUnavailable as err:
            try:
                settled = self.fleet.read_failed(err)
            except StorageUnavailable:
                raise err from None
            if settled != SQL:
                raise
        return operation(self._fallback)

    def _probe(self) -> None:
        """Redis answers, and still holds the incarnation learnt (LogLost if
        not: FleetTier.redis_restarted)."""
        self._primary_head(0)
        self._incarnation()

    def _primary_info(self, run_id: RunId) -> LogInfo | None:
        return self._primary.info(run_id)

    def _track(self, run_id: RunId) -> None:
        with self._lock:
            self._recent[run_id] = None
            self._recent.move_to_end(run_id)
            if len(self._recent) > TRACKED_RUNS:
                self._recent.popitem(last=False)

    def _changed(self, before: TierState, after: TierState) -> None:
        if after.tier != REDIS:
            self.fleet.start()  # alone: probing Redis matters from now on
        with self._lock:
            if before.tier in (REDIS, TO_SQL, FLUSH) and after.tier == SQL:
                self._counts["failovers"] += 1
                self._left_at = time.monotonic()
            elif before.tier != REDIS and after.tier == REDIS and self._left_at:
                self._counts["failbacks"] += 1
                self._on_fallback += time.monotonic() - self._left_at
                self._left_at = 0.0

    def _copy_back(self, outage_ms: int) -> None:
        """Every run the fallback took events for since the outage (and every
        run this process wrote lately) gets its missing tail in the primary."""
        with self._lock:
            runs = set(self._recent)
        runs.update(self._touched_runs(outage_ms))
        for run_id in sorted(runs):
            try:
                copy_missing(
                    self._primary, self._fallback, self._primary_head(run_id), run_id
                )
            except StorageUnavailable:
                raise
            except DomainError:
                logger.exception("run %s: not copied back into %s", run_id, "Redis")

    def _touched_runs(self, outage_ms: int) -> list[RunId]:
        return self.fleet.record.touched_runs(max(outage_ms - 60_000, 0))
