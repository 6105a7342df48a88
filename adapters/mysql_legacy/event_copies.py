"""Copies of events another log stored (the archive's write-behind): many runs
in one transaction, their rows in one multi-row INSERT, their heads advanced
in one executemany.

The INSERT goes to the driver as it is (tuples in the column order below), not
through SQLAlchemy's per-row parameter processing, which cost more than the
database's own work for a row: the only value that needs converting, the
timestamp, is written as the text both SQLite (SQLAlchemy's storage format) and
MariaDB/MySQL (a DATETIME literal) read as that naive UTC datetime.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from runstream.adapters.mysql_legacy import heads
from runstream.adapters.mysql_legacy.event_rows import MAX_PART
from runstream.adapters.mysql_legacy.tables import execution_event
from runstream.domain.errors import DomainError, InvalidRequest
from runstream.domain.log_rules import new_continuation
from runstream.domain.model import RunId, StoredEvent

Copied = int | DomainError
"""How many events of a run's batch were new, or why the batch was refused
(InvalidRequest: it does not continue the log; RunNotActive: the log is closed)."""

_EPOCH = datetime(1970, 1, 1)
_MS = timedelta(milliseconds=1)
_COLUMNS = (
    "run_id", "id_ms", "id_seq", "event_id", "sequence", "timestamp",
    "source_agent_id", "source_agent_type", "source_agent_name",
    "source_team_name", "category", "action", "data", "idempotency_key",
    "idempotency_digest",
)  # fmt: skip


def copy_runs(
    conn: Connection, batches: Mapping[RunId, Sequence[StoredEvent]], now_ms: int
) -> dict[RunId, Copied]:
    """Store what each run's log lacks of its batch, as `SqlEventLog.store`
    does run by run: heads locked (created if need be) before the events are
    compared with them, so a racing copier is seen, not duplicated. A refused
    batch stores nothing of its run and does not stop the others."""
    run_ids = sorted(run_id for run_id, batch in batches.items() if batch)
    found = heads.lock_heads(conn, run_ids)
    copied: dict[RunId, Copied] = {}
    rows: list[tuple[Any, ...]] = []
    advances: list[tuple[heads.Head, list[StoredEvent]]] = []
    for run_id in run_ids:
        head = found.get(run_id)
        if head is not None and head.expired(now_ms):
            heads.drop_log(conn, run_id)
            head = None
        if head is None:
            head = heads.new_head(conn, run_id)
        try:
            fresh = new_continuation(head.last_event(), batches[run_id])
            rows += [_row(event) for event in fresh]
        except DomainError as err:
            copied[run_id] = err
            continue
        copied[run_id] = len(fresh)
        if fresh:
            advances.append((head, fresh))
    if rows:
        conn.exec_driver_sql(_insert_sql(conn), rows)
    heads.advance_many(conn, advances)
    return copied


def _row(stored: StoredEvent) -> tuple[Any, ...]:
    """`event_rows.to_row` as a tuple in _COLUMNS order."""
    if stored.id.ms > MAX_PART or stored.id.seq > MAX_PART:
        raise InvalidRequest(f"event id {stored.id} is beyond what the SQL log holds")
    event, source, keyed = stored.event, stored.event.source, stored.idempotency
    moment = _EPOCH + stored.timestamp_ms * _MS
    return (
        stored.run_id,
        stored.id.ms,
        stored.id.seq,
        str(stored.id),
        stored.sequence,
        moment.isoformat(" ", "microseconds"),
        None if source is None else source.agent_id,
        None if source is None else source.agent_type.value,
        None if source is None else source.agent_name,
        None if source is None else source.team_name,
        event.category.value,
        event.action,
        event.data_json,
        None if keyed is None else keyed.key,
        None if keyed is None else keyed.digest,
    )


def _insert_sql(conn: Connection) -> str:
    dialect = conn.dialect
    mark = "?" if dialect.paramstyle in ("qmark", "numeric") else "%s"
    quote = dialect.identifier_preparer.quote
    table = dialect.identifier_preparer.format_table(execution_event)
    columns = ", ".join(quote(name) for name in _COLUMNS)
    marks = ", ".join([mark] * len(_COLUMNS))
    return f"INSERT INTO {table} ({columns}) VALUES ({marks})"
