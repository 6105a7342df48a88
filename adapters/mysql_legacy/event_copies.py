"""Copies of events another log stored (the archive's write-behind): many runs
in one transaction of four statements whatever their number (lock the heads,
insert the rows, advance the heads, commit), on a connection kept between
copies.

The archiver copies a few events every few tens of milliseconds, so what a
copy costs besides its rows is what matters (see docs/operations.md, "The
archive"). Hence plain SQL on the driver's own cursor, built once per engine,
instead of SQLAlchemy's per-statement compile/parameter processing, pool
checkout, pre-ping and reset on return: the connection stays checked out while
copies keep coming (`release` gives it back; the archiver calls it once idle).
A connection that broke is found by the statement that failed: it is dropped,
and the copy rerun once on a fresh one if the broken one had been kept idle.

The only value that needs converting, the timestamp, is written as the text
both SQLite (SQLAlchemy's storage format) and MariaDB/MySQL (a DATETIME
literal) read as that naive UTC datetime.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timedelta
from typing import Any

from pymysql.constants import SERVER_STATUS
from pymysql.converters import escape_string
from sqlalchemy import Engine
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import PoolProxiedConnection

from runstream.adapters.mysql_legacy.drivers import WRITE_GATE
from runstream.adapters.mysql_legacy.event_rows import MAX_PART
from runstream.adapters.mysql_legacy.failures import (
    DRIVER_ERRORS,
    is_retryable,
    storage_errors,
)
from runstream.adapters.mysql_legacy.heads import Head, head_from_row
from runstream.domain.errors import DomainError, InvalidRequest
from runstream.domain.log_rules import new_continuation
from runstream.domain.model import RunId, StoredEvent

Copied = int | DomainError
"""How many events of a run's batch were new, or why the batch was refused
(InvalidRequest: it does not continue the log; RunNotActive: the log is closed)."""

_RETRIES = 5
_EPOCH = datetime(1970, 1, 1)
_MS = timedelta(milliseconds=1)
_COLUMNS = (
    "run_id", "id_ms", "id_seq", "event_id", "sequence", "timestamp",
    "source_agent_id", "source_agent_type", "source_agent_name",
    "source_team_name", "category", "action", "data", "idempotency_key",
    "idempotency_digest",
)  # fmt: skip
_HEAD_COLUMNS = (
    "run_id", "first_ms", "first_seq", "first_sequence", "last_ms", "last_seq",
    "last_sequence", "closed", "expires_at_ms",
)  # fmt: skip
# How many run ids one head lock may name; a tick with more locks in several.
_LOCK_CHUNK = 500
# How long a multi-row INSERT the copy sends to MySQL grows (PyMySQL's own
# executemany stops at this too), well below the server's max_allowed_packet.
_STATEMENT_CHARS = 1_024_000


class Statements:
    """The copy's SQL text for one dialect, built once."""

    def __init__(self, engine: Engine) -> None:
        dialect = engine.dialect
        self.sqlite = dialect.name == "sqlite"
        self.mark = "?" if dialect.paramstyle in ("qmark", "numeric") else "%s"
        q = dialect.identifier_preparer.quote
        events, heads = q("execution_event"), q("execution_event_log")
        self.insert = _insert(events, [q(c) for c in _COLUMNS], self.mark)
        columns = ", ".join(map(q, _HEAD_COLUMNS))
        if not self.sqlite:
            # One text column: PyMySQL decodes each column's description and
            # value in Python, which cost more than the lock itself.
            columns = f"CONCAT_WS(',', {columns[: -len(q('expires_at_ms'))]}"
            columns += f"COALESCE({q('expires_at_ms')}, ''))"
        self.lock = (
            f"SELECT {columns} FROM {heads} WHERE run_id IN "
            "({marks}) ORDER BY run_id" + ("" if self.sqlite else " FOR UPDATE")
        )
        ignore = "INSERT OR IGNORE" if self.sqlite else "INSERT IGNORE"
        head_columns = [q(c) for c in _HEAD_COLUMNS[:-1]]
        self.create = ignore + _insert(heads, head_columns, self.mark)[6:]
        moved = head_columns[1:]
        if self.sqlite:
            sets = ", ".join(f"{name} = {self.mark}" for name in moved)
            self.advance = f"UPDATE {heads} SET {sets} WHERE run_id = {self.mark}"
        else:
            # One multi-row statement (PyMySQL's executemany of an UPDATE is a
            # round trip per row); every row exists, locked, so none is added.
            sets = ", ".join(f"{name} = VALUES({name})" for name in moved)
            self.advance = (
                _insert(heads, head_columns, self.mark)
                + f" ON DUPLICATE KEY UPDATE {sets}"
            )
        self.drop = [
            f"DELETE FROM {table} WHERE run_id = {self.mark}"
            for table in (events, heads)
        ]
        self._locks: dict[int, str] = {}
        # MySQL: each INSERT as the text before and after its VALUES list.
        self._parts = {
            statement: (head, tail.partition(")")[2])
            for statement in (self.insert, self.advance)
            for head, _, tail in [statement.partition(" VALUES (")]
        }

    def lock_some(self, count: int) -> str:
        sql = self._locks.get(count)
        if sql is None:
            sql = self.lock.format(marks=", ".join([self.mark] * count))
            if len(self._locks) < 64:
                self._locks[count] = sql
        return sql

    def write(
        self, conn: Any, cursor: Any, statement: str, rows: list[tuple[Any, ...]]
    ) -> None:
        """`executemany` of an INSERT; on MySQL, as multi-row statements whose
        values are written here (PyMySQL escapes value by value through a
        generic dispatch, most of a copy's CPU)."""
        if self.sqlite:
            cursor.executemany(statement, rows)
            return
        head, tail = self._parts[statement]
        escape = _escaper(conn)
        values: list[str] = []
        size = 0
        for row in rows:
            text = "(" + ", ".join([_literal(v, escape) for v in row]) + ")"
            if values and size + len(text) > _STATEMENT_CHARS:
                cursor.execute(f"{head} VALUES {', '.join(values)}{tail}")
                values, size = [], 0
            values.append(text)
            size += len(text) + 2
        cursor.execute(f"{head} VALUES {', '.join(values)}{tail}")

    def advance_row(self, head: Head, fresh: Sequence[StoredEvent]) -> tuple[Any, ...]:
        """The parameters that move `head` past `fresh`, the events just
        inserted after it."""
        if head.empty:
            first = fresh[0]
            start = (first.id.ms, first.id.seq, first.sequence)
        else:
            start = (head.first.ms, head.first.seq, head.first_sequence)
        end = fresh[-1]
        values = (*start, end.id.ms, end.id.seq, end.sequence, end.is_terminal)
        if self.sqlite:
            return (*values, head.run_id)
        return (head.run_id, *values)


def _insert(table: str, columns: Sequence[str], mark: str) -> str:
    marks = ", ".join([mark] * len(columns))
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"


class EventCopier:
    """`copy` many runs' events in one transaction, on a kept connection."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sql = Statements(engine)
        gate = engine.get_execution_options().get(WRITE_GATE)
        self._gate: AbstractContextManager[Any] = gate or nullcontext()
        self._lock = threading.Lock()
        # The kept connection, in a holder a finalizer shares: a copier
        # dropped without `release` still gives its connection back.
        self._held: list[PoolProxiedConnection] = []
        weakref.finalize(self, _give_back, self._held)

    def copy(
        self, batches: Mapping[RunId, Sequence[StoredEvent]], now_ms: int
    ) -> dict[RunId, Copied]:
        """Store what each run's log lacks of its batch, as `SqlEventLog.store`
        does run by run: heads locked (created if need be) before the events
        are compared with them, so a racing copier is seen, not duplicated. A
        refused batch stores nothing of its run and does not stop the others."""
        run_ids = sorted(run_id for run_id, batch in batches.items() if batch)
        if not run_ids:
            return {}
        with self._lock, storage_errors("store events"):
            attempt = 1
            while True:
                kept = bool(self._held)
                conn = self._connection()
                try:
                    with self._gate:
                        return self._transaction(conn, run_ids, batches, now_ms)
                except DRIVER_ERRORS as err:
                    broken = self._recover(conn, err)
                    if not (broken and kept) and not is_retryable(err):
                        raise
                    if attempt >= _RETRIES:
                        raise
                    attempt += 1
                except BaseException as err:
                    # Nothing may stay open on the kept connection.
                    self._recover(conn, err)
                    raise

    def release(self) -> None:
        """Give the kept connection back to the engine's pool."""
        with self._lock:
            _give_back(self._held)

    def _connection(self) -> DBAPIConnection:
        if not self._held:
            self._held.append(self._engine.raw_connection())
        conn = self._held[0].dbapi_connection
        assert conn is not None, "a checked-out connection has its DBAPI connection"
        return conn

    def _recover(self, conn: DBAPIConnection, err: BaseException) -> bool:
        """Roll back after a failed copy; True (and the connection dropped)
        when the connection itself broke."""
        broken = self._engine.dialect.is_disconnect(err, conn, None)  # type: ignore[arg-type]
        if not broken:
            try:
                conn.rollback()
            except DRIVER_ERRORS:
                broken = True
        if broken:
            self._held.pop().invalidate(err)
        return bool(broken)

    def _transaction(
        self,
        conn: DBAPIConnection,
        run_ids: list[RunId],
        batches: Mapping[RunId, Sequence[StoredEvent]],
        now_ms: int,
    ) -> dict[RunId, Copied]:
        sql = self._sql
        cursor = conn.cursor()
        try:
            if sql.sqlite:
                cursor.execute("BEGIN IMMEDIATE")
            found = self._lock_heads(cursor, run_ids)
            missing = [r for r in run_ids if r not in found or found[r].expired(now_ms)]
            if missing:
                found.update(self._new_heads(cursor, missing, found))
            copied: dict[RunId, Copied] = {}
            rows: list[tuple[Any, ...]] = []
            advances: list[tuple[Any, ...]] = []
            for run_id in run_ids:
                head = found[run_id]
                try:
                    fresh = new_continuation(head.last_event(), batches[run_id])
                    rows += [_row(event) for event in fresh]
                except DomainError as err:
                    copied[run_id] = err
                    continue
                copied[run_id] = len(fresh)
                if fresh:
                    advances.append(sql.advance_row(head, fresh))
            if rows:
                sql.write(conn, cursor, sql.insert, rows)
                sql.write(conn, cursor, sql.advance, advances)
            conn.commit()
            return copied
        finally:
            cursor.close()

    def _lock_heads(self, cursor: Any, run_ids: Sequence[RunId]) -> dict[RunId, Head]:
        """The heads of `run_ids` that exist, locked (in run id order, as every
        writer locks them)."""
        found: dict[RunId, Head] = {}
        for start in range(0, len(run_ids), _LOCK_CHUNK):
            chunk = run_ids[start : start + _LOCK_CHUNK]
            cursor.execute(self._sql.lock_some(len(chunk)), chunk)
            for row in cursor.fetchall():
                head = head_from_row(row if self._sql.sqlite else _split(row[0]))
                found[head.run_id] = head
        return found

    def _new_heads(
        self, cursor: Any, run_ids: list[RunId], found: Mapping[RunId, Head]
    ) -> dict[RunId, Head]:
        """Empty heads for runs without a live log (an expired one is dropped
        first), created unless another writer did, then locked."""
        for run_id in run_ids:
            if run_id in found:
                for statement in self._sql.drop:
                    cursor.execute(statement, (run_id,))
        empty = (0, 0, 0, 0, 0, 0, False)
        cursor.executemany(self._sql.create, [(r, *empty) for r in run_ids])
        heads = self._lock_heads(cursor, run_ids)
        assert len(heads) == len(run_ids), "head rows just inserted are there"
        return heads


def _literal(value: Any, escape: Callable[[str], str]) -> str:
    """`value` as a MySQL literal (the types `_row` and `advance_row` hold)."""
    kind = type(value)
    if kind is str:
        return "'" + escape(value) + "'"
    if kind is int:
        return str(value)
    if kind is bool:
        return "1" if value else "0"
    if value is None:
        return "NULL"
    raise TypeError(f"no SQL literal for {kind.__name__}")


def _escaper(conn: Any) -> Callable[[str], str]:
    """How PyMySQL escapes a string for `conn` (with NO_BACKSLASH_ESCAPES,
    quotes are doubled instead)."""
    if conn.server_status & SERVER_STATUS.SERVER_STATUS_NO_BACKSLASH_ESCAPES:
        return _double_quotes
    return _backslashes


def _double_quotes(text: str) -> str:
    return text.replace("'", "''")


def _backslashes(text: str) -> str:
    escaped: str = escape_string(text)
    return escaped


def _split(text: str) -> tuple[Any, ...]:
    """A head row read as one text column (MySQL's `Statements.lock`)."""
    *numbers, expires = text.split(",")
    return (*map(int, numbers), int(expires) if expires else None)


def _give_back(held: list[PoolProxiedConnection]) -> None:
    while held:
        held.pop().close()


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
