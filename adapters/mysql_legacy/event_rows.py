"""Stored events to and from rows of `execution_event`, and the range query."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Integer,
    Select,
    and_,
    bindparam,
    or_,
    select,
)

from runstream.adapters.mysql_legacy.heads import live
from runstream.adapters.mysql_legacy.tables import execution_event as events
from runstream.adapters.mysql_legacy.tables import execution_event_log as heads
from runstream.domain.errors import InvalidRequest
from runstream.domain.ids import EventId
from runstream.domain.model import (
    AgentType,
    Category,
    Idempotency,
    NewEvent,
    RunId,
    Source,
    StoredEvent,
)

_EPOCH = datetime(1970, 1, 1)
_MS = timedelta(milliseconds=1)
# BIGINT is signed: no stored id part can exceed this.
MAX_PART = 2**63 - 1
_COLUMNS = (
    events.c.id_ms,
    events.c.id_seq,
    events.c.sequence,
    events.c.timestamp,
    events.c.category,
    events.c.action,
    events.c.source_agent_id,
    events.c.source_agent_type,
    events.c.source_agent_name,
    events.c.source_team_name,
    events.c.data,
    events.c.idempotency_key,
    events.c.idempotency_digest,
)


# Plain lookups: calling an enum class is slow, and a page has 1,000 rows.
_CATEGORIES = {category.value: category for category in Category}
_AGENT_TYPES = {agent_type.value: agent_type for agent_type in AgentType}


def to_row(stored: StoredEvent) -> dict[str, Any]:
    if stored.id.ms > MAX_PART or stored.id.seq > MAX_PART:
        raise InvalidRequest(f"event id {stored.id} is beyond what the SQL log holds")
    source, keyed = stored.event.source, stored.idempotency
    return {
        "run_id": stored.run_id,
        "id_ms": stored.id.ms,
        "id_seq": stored.id.seq,
        "event_id": str(stored.id),
        "sequence": stored.sequence,
        "timestamp": _EPOCH + stored.timestamp_ms * _MS,
        "source_agent_id": None if source is None else source.agent_id,
        "source_agent_type": None if source is None else source.agent_type.value,
        "source_agent_name": None if source is None else source.agent_name,
        "source_team_name": None if source is None else source.team_name,
        "category": stored.event.category.value,
        "action": stored.event.action,
        "data": stored.event.data_json,
        "idempotency_key": None if keyed is None else keyed.key,
        "idempotency_digest": None if keyed is None else keyed.digest,
    }


def from_row(run_id: RunId, row: Sequence[Any]) -> StoredEvent:
    ms, seq, sequence, moment, category, action = row[:6]
    agent_id, agent_type, agent_name, team_name, data, key, digest = row[6:]
    source = None
    if agent_type is not None:
        source = Source(agent_id, _AGENT_TYPES[agent_type], agent_name, team_name)
    event = NewEvent(_CATEGORIES[category], action, source, data)
    keyed = None if key is None else Idempotency(key, digest)
    return StoredEvent(
        EventId(ms, seq), run_id, sequence, (moment - _EPOCH) // _MS, event, keyed
    )


def insert_events(conn: Connection, stored: Sequence[StoredEvent]) -> None:
    insert_rows(conn, [to_row(e) for e in stored])


def insert_rows(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """One multi-row INSERT (the drivers' executemany) of `to_row` rows."""
    if rows:
        conn.execute(events.insert(), rows)


def range_statement() -> Select[Any]:
    """The range read (built once per shape, so it is compiled once); callers
    may add conditions to it."""
    start_ms = bindparam("start_ms", type_=BigInteger)
    end_ms = bindparam("end_ms", type_=BigInteger)
    after_start = or_(
        events.c.id_ms > start_ms,
        and_(
            events.c.id_ms == start_ms,
            events.c.id_seq >= bindparam("start_seq", type_=BigInteger),
        ),
    )
    before_end = or_(
        events.c.id_ms < end_ms,
        and_(
            events.c.id_ms == end_ms,
            events.c.id_seq <= bindparam("end_seq", type_=BigInteger),
        ),
    )
    return (
        select(*_COLUMNS)
        .join(heads, heads.c.run_id == events.c.run_id)
        .where(events.c.run_id == bindparam("run_id"), live(), after_start)
        .where(before_end)
        .order_by(events.c.id_ms, events.c.id_seq)
        .limit(bindparam("limit", type_=Integer))
    )


_RANGE = range_statement()


def range_params(
    run_id: RunId, start: EventId, end: EventId, limit: int, now_ms: int
) -> dict[str, int] | None:
    """Parameters of the range read; None when nothing can match."""
    if start > end or limit <= 0 or start.ms > MAX_PART:
        return None
    if start.seq > MAX_PART:
        start = EventId(start.ms + 1, 0)
    if end.ms > MAX_PART:
        end = EventId(MAX_PART, MAX_PART)
    return {
        "run_id": run_id,
        "start_ms": start.ms,
        "start_seq": start.seq,
        "end_ms": end.ms,
        "end_seq": min(end.seq, MAX_PART),
        "limit": limit,
        "now_ms": now_ms,
    }


def read_range(
    conn: Connection,
    run_id: RunId,
    start: EventId,
    end: EventId,
    limit: int,
    now_ms: int,
) -> list[StoredEvent]:
    """Live events with start <= id <= end, at most `limit`, in log order."""
    params = range_params(run_id, start, end, limit, now_ms)
    if params is None:
        return []
    return [from_row(run_id, row) for row in conn.execute(_RANGE, params)]


_KEYED = select(events.c.id_ms, events.c.id_seq).where(
    events.c.run_id == bindparam("run_id"),
    events.c.idempotency_key == bindparam("key"),
)


def keyed_batch(
    conn: Connection, run_id: RunId, key: str, size: int, now_ms: int
) -> list[StoredEvent]:
    """The `size` events from the one that carries idempotency `key` on, or []."""
    row = conn.execute(_KEYED, {"run_id": run_id, "key": key}).first()
    if row is None:
        return []
    return read_range(conn, run_id, EventId(row[0], row[1]), _LAST, size, now_ms)


_LAST = EventId(MAX_PART, MAX_PART)
