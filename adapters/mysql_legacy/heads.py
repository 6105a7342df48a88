"""The head row of each run's log (`execution_event_log`): lock, advance, expire."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, or_, select, update

from runstream.adapters.mysql_legacy.tables import execution_event as events
from runstream.adapters.mysql_legacy.tables import execution_event_log as heads
from runstream.domain.ids import EventId
from runstream.domain.log_rules import LogHead
from runstream.domain.model import LogInfo, RunId, StoredEvent

_EMPTY = {
    "first_ms": 0,
    "first_seq": 0,
    "first_sequence": 0,
    "last_ms": 0,
    "last_seq": 0,
    "last_sequence": 0,
    "closed": False,
    "expires_at_ms": None,
}


@dataclass(frozen=True)
class Head:
    run_id: RunId
    first: EventId
    first_sequence: int
    last: EventId
    last_sequence: int
    closed: bool
    expires_at_ms: int | None

    @property
    def empty(self) -> bool:
        return self.last_sequence == 0

    def expired(self, now_ms: int) -> bool:
        return self.expires_at_ms is not None and self.expires_at_ms <= now_ms

    def last_event(self) -> LogHead | None:
        """The last event as the log rules see it; None for an empty log."""
        if self.empty:
            return None
        return LogHead(self.last, self.last_sequence, self.closed)

    def info(self) -> LogInfo | None:
        if self.empty:
            return None
        length = self.last_sequence - self.first_sequence + 1
        return LogInfo(
            self.first,
            self.first_sequence,
            self.last,
            self.last_sequence,
            length,
            self.closed,
        )


def live() -> Any:
    """The condition that a head's log has not expired at parameter `now_ms`."""
    expires_at = heads.c.expires_at_ms
    return or_(expires_at.is_(None), expires_at > bindparam("now_ms"))


def _head(row: Sequence[Any]) -> Head:
    run_id, first_ms, first_seq, first_sequence = row[:4]
    last_ms, last_seq, last_sequence, closed, expires_at_ms = row[4:]
    return Head(
        run_id,
        EventId(first_ms, first_seq),
        first_sequence,
        EventId(last_ms, last_seq),
        last_sequence,
        bool(closed),
        expires_at_ms,
    )


_SELECT = select(
    heads.c.run_id,
    heads.c.first_ms,
    heads.c.first_seq,
    heads.c.first_sequence,
    heads.c.last_ms,
    heads.c.last_seq,
    heads.c.last_sequence,
    heads.c.closed,
    heads.c.expires_at_ms,
)


_ONE = _SELECT.where(heads.c.run_id == bindparam("run_id"))
_LOCK = _ONE.with_for_update()
_LOCK_SOME = (
    _SELECT.where(heads.c.run_id.in_(bindparam("run_ids")))
    .order_by(heads.c.run_id)
    .with_for_update()
)
_SOME_LIVE = _SELECT.where(heads.c.run_id.in_(bindparam("run_ids")), live())
_INSERT = (
    insert(heads)
    .values(run_id=bindparam("run_id"), **_EMPTY)
    .prefix_with("IGNORE", dialect="mysql")
    .prefix_with("IGNORE", dialect="mariadb")
    .prefix_with("OR IGNORE", dialect="sqlite")
)
# (An UPDATE's own columns name its SET parameters, hence `target`.)
_ADVANCE = update(heads).where(heads.c.run_id == bindparam("target"))
_EXPIRE = update(heads).where(heads.c.run_id == bindparam("target"), live())


def lock_head(conn: Connection, run_id: RunId) -> Head | None:
    """The head, locked until the transaction ends (SQLite: BEGIN IMMEDIATE)."""
    row = conn.execute(_LOCK, {"run_id": run_id}).first()
    return None if row is None else _head(row)


def lock_heads(conn: Connection, run_ids: Sequence[RunId]) -> dict[RunId, Head]:
    """The heads of `run_ids` that exist, locked in one statement (in run id
    order, as every writer locks them)."""
    rows = conn.execute(_LOCK_SOME, {"run_ids": list(run_ids)})
    return {head.run_id: head for head in map(_head, rows)}


def new_head(conn: Connection, run_id: RunId) -> Head:
    """Create the head if no other writer did, then lock it."""
    conn.execute(_INSERT, {"run_id": run_id})
    head = lock_head(conn, run_id)
    assert head is not None, "a head row just inserted is there"
    return head


def find_heads(conn: Connection, run_ids: Sequence[RunId], now_ms: int) -> list[Head]:
    """The live heads among `run_ids` (no lock)."""
    params = {"run_ids": list(run_ids), "now_ms": now_ms}
    return [_head(row) for row in conn.execute(_SOME_LIVE, params)]


def get_head(conn: Connection, run_id: RunId) -> Head | None:
    row = conn.execute(_ONE, {"run_id": run_id}).first()
    return None if row is None else _head(row)


def advance(conn: Connection, head: Head, stored: Sequence[StoredEvent]) -> None:
    """Move the head past `stored`, the events just inserted after it."""
    advance_many(conn, [(head, stored)])


def advance_many(
    conn: Connection, advances: Sequence[tuple[Head, Sequence[StoredEvent]]]
) -> None:
    """`advance` for many heads, one executemany per shape of update."""
    moved, started = [], []
    for head, stored in advances:
        last = stored[-1]
        values: dict[str, Any] = {
            "target": head.run_id,
            "last_ms": last.id.ms,
            "last_seq": last.id.seq,
            "last_sequence": last.sequence,
            "closed": last.is_terminal,
        }
        if head.empty:
            first = stored[0]
            values.update(
                first_ms=first.id.ms,
                first_seq=first.id.seq,
                first_sequence=first.sequence,
            )
            started.append(values)
        else:
            moved.append(values)
    for params in (moved, started):
        if params:
            conn.execute(_ADVANCE, params)


def set_expiry(conn: Connection, run_id: RunId, at_ms: int, now_ms: int) -> None:
    """Expire a live log at `at_ms`; an expired one is left to be removed."""
    params = {"target": run_id, "now_ms": now_ms, "expires_at_ms": at_ms}
    conn.execute(_EXPIRE, params)


def expired_runs(conn: Connection, now_ms: int, limit: int) -> list[RunId]:
    query = select(heads.c.run_id).where(heads.c.expires_at_ms <= now_ms)
    return [row[0] for row in conn.execute(query.limit(limit))]


def drop_log(conn: Connection, run_id: RunId) -> None:
    """Delete a run's events and its head."""
    conn.execute(delete(events).where(events.c.run_id == run_id))
    conn.execute(delete(heads).where(heads.c.run_id == run_id))
