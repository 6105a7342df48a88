"""The in-memory EventLog: one list per run, guarded by one condition."""

from __future__ import annotations

import bisect
import itertools
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from runstream.domain.idempotency import marked, replay
from runstream.domain.ids import MAX_ID, MIN_ID, EventId
from runstream.domain.log_rules import assign, new_continuation
from runstream.domain.model import (
    Appended,
    Category,
    Idempotency,
    LogInfo,
    NewEvent,
    RunId,
    StoredEvent,
)


@dataclass
class _RunLog:
    events: list[StoredEvent] = field(default_factory=list)
    expires_at: float | None = None
    # Idempotency key -> index in `events` of the batch's first event.
    keys: dict[str, int] = field(default_factory=dict)

    def extend(self, stored: Sequence[StoredEvent]) -> None:
        for event in stored:
            if event.idempotency is not None:
                self.keys[event.idempotency.key] = len(self.events)
            self.events.append(event)


def _position(event: StoredEvent) -> EventId:
    return event.id


class InMemoryEventLog:
    """Events live as long as the process, or `ttl_seconds` after a run finishes.

    Stored events are immutable values (their data is JSON text), so handing them
    out shares no state with the store.
    """

    def __init__(
        self, ttl_seconds: float = 86400, clock: Callable[[], float] = time.time
    ) -> None:
        self._ttl = ttl_seconds
        self._clock = clock
        self._changed = threading.Condition()
        self._logs: dict[RunId, _RunLog] = {}

    def append(
        self,
        run_id: RunId,
        events: Sequence[NewEvent],
        idempotency: Idempotency | None = None,
    ) -> Appended:
        if not events:
            return Appended()
        with self._changed:
            log = self._live(run_id) or self._logs.setdefault(run_id, _RunLog())
            if idempotency is not None and idempotency.key in log.keys:
                kept = log.events[log.keys[idempotency.key] :]
                return replay(run_id, idempotency, kept, len(events))
            last = log.events[-1] if log.events else None
            now = int(self._clock() * 1000)
            stored = marked(assign(run_id, last, events, now), idempotency)
            log.extend(stored)
            self._changed.notify_all()
            return stored

    def store(self, run_id: RunId, events: Sequence[StoredEvent]) -> int:
        with self._changed:
            log = self._live(run_id) or self._logs.setdefault(run_id, _RunLog())
            fresh = new_continuation(log.events[-1] if log.events else None, events)
            log.extend(fresh)
            if fresh:
                self._changed.notify_all()
            return len(fresh)

    def read(
        self,
        run_id: RunId,
        start: EventId = MIN_ID,
        end: EventId = MAX_ID,
        limit: int = 1000,
    ) -> list[StoredEvent]:
        with self._changed:
            log = self._live(run_id)
            return [] if log is None else _slice(log.events, start, end, limit)

    def read_selected(
        self,
        run_id: RunId,
        start: EventId,
        end: EventId,
        limit: int,
        agent_ids: frozenset[str],
        categories: frozenset[Category],
    ) -> list[StoredEvent]:
        with self._changed:
            log = self._live(run_id)
            if log is None:
                return []
            low = bisect.bisect_left(log.events, start, key=_position)
            high = bisect.bisect_right(log.events, end, key=_position)
            span = itertools.islice(log.events, low, high)
            kept = (e for e in span if _selected(e, agent_ids, categories))
            return list(itertools.islice(kept, max(limit, 0)))

    def wait(
        self, cursors: Mapping[RunId, EventId], timeout: float, limit: int = 1000
    ) -> dict[RunId, list[StoredEvent]]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = self._after(cursors, limit)
                remaining = deadline - time.monotonic()
                if found or remaining <= 0:
                    return found
                self._changed.wait(remaining)

    def finish(self, run_id: RunId) -> None:
        with self._changed:
            log = self._live(run_id)
            if log is not None:
                log.expires_at = self._clock() + self._ttl

    def info(self, run_id: RunId) -> LogInfo | None:
        with self._changed:
            log = self._live(run_id)
            if log is None or not log.events:
                return None
            first, last = log.events[0], log.events[-1]
            return LogInfo(
                first.id,
                first.sequence,
                last.id,
                last.sequence,
                len(log.events),
                last.is_terminal,
            )

    def _after(
        self, cursors: Mapping[RunId, EventId], limit: int
    ) -> dict[RunId, list[StoredEvent]]:
        found = {}
        for run_id, cursor in cursors.items():
            log = self._live(run_id)
            if log is not None and log.events and log.events[-1].id > cursor:
                found[run_id] = _slice(log.events, cursor.successor(), MAX_ID, limit)
        return found

    def _live(self, run_id: RunId) -> _RunLog | None:
        log = self._logs.get(run_id)
        expires_at = None if log is None else log.expires_at
        if expires_at is not None and expires_at <= self._clock():
            del self._logs[run_id]
            return None
        return log


def _selected(
    event: StoredEvent, agent_ids: frozenset[str], categories: frozenset[Category]
) -> bool:
    if event.is_terminal:
        return True
    if categories and event.category not in categories:
        return False
    source = event.event.source
    return not agent_ids or (source is not None and source.agent_id in agent_ids)


def _slice(
    events: list[StoredEvent], start: EventId, end: EventId, limit: int
) -> list[StoredEvent]:
    low = bisect.bisect_left(events, start, key=_position)
    high = bisect.bisect_right(events, end, key=_position)
    return events[low : min(high, low + max(limit, 0))]
