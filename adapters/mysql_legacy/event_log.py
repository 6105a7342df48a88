"""The MySQL-legacy EventLog: one row per event, one locked head row per run."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

from sqlalchemy import Connection, Engine

from runstream.adapters.mysql_legacy import heads
from runstream.adapters.mysql_legacy.engine import reading, transact
from runstream.adapters.mysql_legacy.event_copies import Copied, copy_runs
from runstream.adapters.mysql_legacy.event_rows import (
    insert_events,
    keyed_batch,
    read_range,
)
from runstream.adapters.mysql_legacy.notifier import Notifier
from runstream.adapters.mysql_legacy.selected_rows import read_selected_range
from runstream.domain.idempotency import marked, replay
from runstream.domain.ids import MAX_ID, MIN_ID, EventId
from runstream.domain.log_rules import assign, check_batch_order, new_continuation
from runstream.domain.model import (
    Appended,
    Category,
    Idempotency,
    LogInfo,
    NewEvent,
    RunId,
    StoredEvent,
)

_CURSORS_PER_QUERY = 500


class SqlEventLog:
    """Appends serialize per run on the head row; ids and sequences follow
    `domain.log_rules`. A finished log expires `ttl_seconds` later (None keeps
    it); an expired log reads as absent. Reads never write: `purge_expired`
    deletes expired logs (the service runs it periodically), and an append to
    an expired log replaces it.

    Waiters wake at once when this log commits, and by polling every
    `poll_interval` for writers elsewhere."""

    def __init__(
        self,
        engine: Engine,
        ttl_seconds: float | None = 86400,
        poll_interval: float = 0.2,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._engine = engine
        self._ttl = ttl_seconds
        self._poll = poll_interval
        self._clock = clock
        self._notifier = Notifier()

    def append(
        self,
        run_id: RunId,
        events: Sequence[NewEvent],
        idempotency: Idempotency | None = None,
    ) -> Appended:
        if not events:
            return Appended()
        check_batch_order(run_id, events)

        def work(conn: Connection) -> Appended:
            now = self._now_ms()
            head = self._open(conn, run_id, now) or heads.new_head(conn, run_id)
            if idempotency is not None:
                size = len(events)
                kept = keyed_batch(conn, run_id, idempotency.key, size, now)
                if kept:
                    return replay(run_id, idempotency, kept, size)
            stored = marked(assign(run_id, head.last_event(), events, now), idempotency)
            insert_events(conn, stored)
            heads.advance(conn, head, stored)
            return stored

        stored = transact(self._engine, "append events", work)
        if not stored.replayed:
            self._notifier.bump()
        return stored

    def store(self, run_id: RunId, events: Sequence[StoredEvent]) -> int:
        if not events:
            return 0

        def work(conn: Connection) -> int:
            # The head is locked (created if need be) before the events are
            # compared with it, so a racing copier is seen, not duplicated.
            now = self._now_ms()
            head = self._open(conn, run_id, now) or heads.new_head(conn, run_id)
            fresh = new_continuation(head.last_event(), events)
            if fresh:
                insert_events(conn, fresh)
                heads.advance(conn, head, fresh)
            return len(fresh)

        count = transact(self._engine, "store events", work)
        if count:
            self._notifier.bump()
        return count

    def store_runs(
        self, batches: Mapping[RunId, Sequence[StoredEvent]]
    ) -> dict[RunId, Copied]:
        """`store` for many runs in one transaction (event_copies.py): per run
        the count of new events, or the DomainError that refused its batch."""

        def work(conn: Connection) -> dict[RunId, Copied]:
            return copy_runs(conn, batches, self._now_ms())

        copied = transact(self._engine, "store events", work)
        if any(isinstance(n, int) and n for n in copied.values()):
            self._notifier.bump()
        return copied

    def read(
        self,
        run_id: RunId,
        start: EventId = MIN_ID,
        end: EventId = MAX_ID,
        limit: int = 1000,
    ) -> list[StoredEvent]:
        with reading(self._engine, "read events") as conn:
            return read_range(conn, run_id, start, end, limit, self._now_ms())

    def read_selected(
        self,
        run_id: RunId,
        start: EventId,
        end: EventId,
        limit: int,
        agent_ids: frozenset[str],
        categories: frozenset[Category],
    ) -> list[StoredEvent]:
        selection = (agent_ids, categories)
        with reading(self._engine, "read part of a run") as conn:
            now = self._now_ms()
            found = read_selected_range(
                conn, run_id, (start, end), limit, selection, now
            )
            if found is None:
                return read_range(conn, run_id, start, end, limit, now)
            return found

    def keyed_batch(self, run_id: RunId, key: str, size: int) -> list[StoredEvent]:
        """The `size` events from the one stored with idempotency `key`, or []."""
        with reading(self._engine, "find an idempotency key") as conn:
            return keyed_batch(conn, run_id, key, size, self._now_ms())

    def wait(
        self, cursors: Mapping[RunId, EventId], timeout: float, limit: int = 1000
    ) -> dict[RunId, list[StoredEvent]]:
        deadline = time.monotonic() + timeout
        while True:
            seen = self._notifier.generation
            found = self._news(cursors, limit)
            remaining = deadline - time.monotonic()
            if found or remaining <= 0:
                return found
            self._notifier.wait_past(seen, min(remaining, self._poll))

    def finish(self, run_id: RunId) -> None:
        if self._ttl is None:
            return
        now = self._now_ms()
        expires_at = now + int(self._ttl * 1000)
        transact(
            self._engine,
            "finish log",
            lambda conn: heads.set_expiry(conn, run_id, expires_at, now),
        )

    def info(self, run_id: RunId) -> LogInfo | None:
        now = self._now_ms()
        with reading(self._engine, "read log info") as conn:
            head = heads.get_head(conn, run_id)
        if head is None or head.expired(now):
            return None
        return head.info()

    def purge_expired(self, limit: int = 100) -> int:
        """Delete up to `limit` expired logs now; returns how many."""
        with reading(self._engine, "find expired logs") as conn:
            run_ids = heads.expired_runs(conn, self._now_ms(), limit)
        for run_id in run_ids:
            self._drop_if_expired(run_id)
        return len(run_ids)

    def _news(
        self, cursors: Mapping[RunId, EventId], limit: int
    ) -> dict[RunId, list[StoredEvent]]:
        found: dict[RunId, list[StoredEvent]] = {}
        run_ids = list(cursors)
        if not run_ids:
            return found
        now = self._now_ms()
        with reading(self._engine, "wait for events") as conn:
            for i in range(0, len(run_ids), _CURSORS_PER_QUERY):
                chunk = run_ids[i : i + _CURSORS_PER_QUERY]
                for head in heads.find_heads(conn, chunk, now):
                    cursor = cursors[head.run_id]
                    if not head.empty and head.last > cursor:
                        found[head.run_id] = read_range(
                            conn, head.run_id, cursor.successor(), MAX_ID, limit, now
                        )
        return found

    def _open(self, conn: Connection, run_id: RunId, now: int) -> heads.Head | None:
        """The run's locked head, or None when it has no live log."""
        head = heads.lock_head(conn, run_id)
        if head is not None and head.expired(now):
            heads.drop_log(conn, run_id)
            return None
        return head

    def _drop_if_expired(self, run_id: RunId) -> None:
        def work(conn: Connection) -> None:
            self._open(conn, run_id, self._now_ms())

        transact(self._engine, "delete expired log", work)

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)
