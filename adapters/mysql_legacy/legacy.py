"""Adopting the legacy `execution_run`/`execution_event` tables (docs/operations.md,
"Moving in from the legacy tables").

The system runstream replaces kept runs and events in these two tables, shaped
as revision 0001 creates them, but had no runstream migration history. Adoption
checks that shape, adds what runstream adds (the missing indexes and unique
keys, the `execution_event_log` table with a head row per run that has events)
and stamps the history at 0001; the caller then upgrades to the newest revision.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import (
    Connection,
    and_,
    case,
    column,
    delete,
    false,
    func,
    insert,
    inspect,
    null,
    select,
    table,
    true,
)
from sqlalchemy.exc import IntegrityError

from runstream.adapters.mysql_legacy.legacy_shape import (
    LegacySchemaMismatch,
    check_legacy_shape,
)

LEGACY_TABLES = ("execution_run", "execution_event")
ADOPTED_REVISION = "0001"
RUN_INDEXES = {"ix_execution_run_status": ["status", "id"],
               "ix_execution_run_tenant": ["tenant", "id"]}  # fmt: skip
EVENT_UNIQUE_KEYS = {"uq_execution_event_sequence": ["run_id", "sequence"],
                     "uq_execution_event_id": ["run_id", "event_id"]}  # fmt: skip


def legacy_tables_present(conn: Connection) -> bool:
    names = set(inspect(conn).get_table_names())
    return any(name in names for name in LEGACY_TABLES)


def adopt_legacy_tables(conn: Connection, create_heads: Callable[[], None]) -> None:
    """Check the legacy tables and add what runstream adds; `create_heads` is
    revision 0001's function that creates `execution_event_log` (run under an
    Alembic operations context, so the table is exactly the revision's)."""
    check_legacy_shape(conn)
    found = inspect(conn)
    with Operations.context(MigrationContext.configure(conn)) as op:
        _add_missing_indexes(op, found)
        if "execution_event_log" not in found.get_table_names():
            create_heads()
    _fill_heads(conn)


def _add_missing_indexes(op: Any, found: Any) -> None:
    wanted = (
        ("execution_run", RUN_INDEXES, False),
        ("execution_event", EVENT_UNIQUE_KEYS, True),
    )
    for table_name, indexes, unique in wanted:
        have = [list(i["column_names"]) for i in found.get_indexes(table_name)]
        have += [
            list(u["column_names"]) for u in found.get_unique_constraints(table_name)
        ]
        for name, columns in indexes.items():
            if columns not in have:
                _create_index(op, name, table_name, columns, unique)


def _create_index(
    op: Any, name: str, table_name: str, columns: list[str], unique: bool
) -> None:
    try:
        op.create_index(name, table_name, columns, unique=unique)
    except IntegrityError:
        raise LegacySchemaMismatch(
            f"legacy table {table_name}: rows repeat ({', '.join(columns)}), "
            "which must be unique within a run"
        ) from None


_EVENTS = table(
    "execution_event",
    *(
        column(name)
        for name in ("run_id", "id_ms", "id_seq", "sequence", "category", "action")
    ),
)
_HEADS = table(
    "execution_event_log",
    *(
        column(name)
        for name in (
            "run_id",
            "first_ms",
            "first_seq",
            "first_sequence",
            "last_ms",
            "last_seq",
            "last_sequence",
            "closed",
            "expires_at_ms",
        )
    ),
)
_TERMINAL = ("completed", "failed", "cancelled")


def _fill_heads(conn: Connection) -> None:
    """One head row per run with events: its first and last event, and whether
    the last one ended the run. Adopted logs never expire by themselves."""
    bounds = (
        select(
            _EVENTS.c.run_id,
            func.min(_EVENTS.c.sequence).label("lo"),
            func.max(_EVENTS.c.sequence).label("hi"),
        )
        .group_by(_EVENTS.c.run_id)
        .subquery("bounds")
    )
    first, last = _EVENTS.alias("first_event"), _EVENTS.alias("last_event")
    ended = and_(last.c.category == "lifecycle", last.c.action.in_(_TERMINAL))
    rows = select(
        bounds.c.run_id, first.c.id_ms, first.c.id_seq, bounds.c.lo,
        last.c.id_ms, last.c.id_seq, bounds.c.hi,
        case((ended, true()), else_=false()), null(),
    ).select_from(
        bounds.join(first, and_(first.c.run_id == bounds.c.run_id,
                                first.c.sequence == bounds.c.lo))
        .join(last, and_(last.c.run_id == bounds.c.run_id,
                         last.c.sequence == bounds.c.hi))
    )  # fmt: skip
    conn.execute(delete(_HEADS))
    conn.execute(insert(_HEADS).from_select(list(_HEADS.c.keys()), rows))
