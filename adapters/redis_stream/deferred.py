"""The Redis event log, built on first use and again after a failed build.

A cluster client reads the slot map when it is built, so a service worker that
starts while no seed node answers cannot build it. Raised while the app loads,
that failure makes gunicorn stop the whole service; here it is StorageUnavailable
for that call, exactly like a Redis that went away later: appends answer
REDIS_UNAVAILABLE (or fail over to SQL when configured), `/readyz` says so, and
the first call after the cluster answers builds the log. A lone Redis connects
lazily and builds at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence

from runstream.adapters.redis_stream.client import REDIS_ERRORS
from runstream.adapters.redis_stream.event_log import RedisStreamEventLog
from runstream.domain.append_plan import AppendPlan
from runstream.domain.errors import StorageUnavailable
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

# After a failed build, calls fail at once for this long before the next try
# (a build against an unreachable seed waits out its connect timeout).
RETRY_SECONDS = 1.0


class DeferredEventLog:
    def __init__(self, build: Callable[[], RedisStreamEventLog]) -> None:
        self._build = build
        self._built: RedisStreamEventLog | None = None
        self._lock = threading.Lock()
        self._next_try = 0.0
        self._failure = ""
        self._watching = False

    def _log(self) -> RedisStreamEventLog:
        built = self._built
        if built is not None:
            return built
        with self._lock:
            if self._built is None:
                if time.monotonic() < self._next_try:
                    raise StorageUnavailable(self._failure)
                try:
                    built = self._build()
                    if self._watching:
                        built.watch_restarts()
                    self._built = built
                except (*REDIS_ERRORS, StorageUnavailable) as err:
                    self._next_try = time.monotonic() + RETRY_SECONDS
                    self._failure = f"the Redis event log is unavailable: {err}"
                    raise StorageUnavailable(self._failure) from err
            return self._built

    def append(
        self,
        run_id: RunId,
        events: Sequence[NewEvent],
        idempotency: Idempotency | None = None,
    ) -> Appended:
        return self._log().append(run_id, events, idempotency)

    def append_planned(
        self, run_id: RunId, events: Sequence[NewEvent], plan: AppendPlan
    ) -> Appended:
        return self._log().append_planned(run_id, events, plan)

    def watch_restarts(self) -> None:
        """RedisStreamEventLog.watch_restarts, now or once built."""
        with self._lock:
            self._watching = True
            if self._built is not None:
                self._built.watch_restarts()

    def incarnation(self) -> str:
        return self._log().incarnation()

    def renew(self) -> None:
        if self._built is not None:
            self._built.renew()

    def store(self, run_id: RunId, events: Sequence[StoredEvent]) -> int:
        return self._log().store(run_id, events)

    def seed(self, run_id: RunId, events: Sequence[StoredEvent]) -> int:
        return self._log().seed(run_id, events)

    def rewind(self, run_id: RunId, after: EventId) -> int:
        return self._log().rewind(run_id, after)

    def read(
        self,
        run_id: RunId,
        start: EventId = MIN_ID,
        end: EventId = MAX_ID,
        limit: int = 1000,
    ) -> list[StoredEvent]:
        return self._log().read(run_id, start, end, limit)

    def read_selected(
        self,
        run_id: RunId,
        start: EventId,
        end: EventId,
        limit: int,
        agent_ids: frozenset[str],
        categories: frozenset[Category],
    ) -> list[StoredEvent]:
        log = self._log()
        return log.read_selected(run_id, start, end, limit, agent_ids, categories)

    def wait(
        self, cursors: Mapping[RunId, EventId], timeout: float, limit: int = 1000
    ) -> dict[RunId, list[StoredEvent]]:
        return self._log().wait(cursors, timeout, limit)

    def finish(self, run_id: RunId) -> None:
        self._log().finish(run_id)

    def info(self, run_id: RunId) -> LogInfo | None:
        return self._log().info(run_id)

    def close(self) -> None:
        built = self._built
        close = getattr(built, "close", None)
        if close is not None:
            close()
