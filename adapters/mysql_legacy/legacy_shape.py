"""The shape of the legacy tables runstream adopts (docs/operations.md,
"Moving in from the legacy tables"): revision 0001's columns, with their
nullability and a compatible type, and its primary keys."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Connection, DateTime, Integer, String, inspect, text

from runstream.domain.errors import StorageUnavailable

_TEXT_OR_JSON = (String, JSON)
# column -> (accepted SQLAlchemy type families, nullable), as revision 0001 has them
RUN_COLUMNS: dict[str, tuple[tuple[type, ...], bool]] = {
    "id": ((Integer,), False),
    "hierarchy_id": ((Integer,), True),
    "task": ((String,), False),
    "status": ((String,), False),
    "executor": ((String,), False),
    "params": (_TEXT_OR_JSON, True),
    "tenant": ((String,), True),
    "result": (_TEXT_OR_JSON, True),
    "error": ((String,), True),
    "statistics": (_TEXT_OR_JSON, True),
    "topology_snapshot": (_TEXT_OR_JSON, True),
    "created_at": ((DateTime,), False),
    "started_at": ((DateTime,), True),
    "completed_at": ((DateTime,), True),
}
EVENT_COLUMNS: dict[str, tuple[tuple[type, ...], bool]] = {
    "run_id": ((Integer,), False),
    "id_ms": ((Integer,), False),
    "id_seq": ((Integer,), False),
    "event_id": ((String,), False),
    "sequence": ((Integer,), False),
    "timestamp": ((DateTime,), False),
    "source_agent_id": ((String,), True),
    "source_agent_type": ((String,), True),
    "source_agent_name": ((String,), True),
    "source_team_name": ((String,), True),
    "category": ((String,), False),
    "action": ((String,), False),
    "data": ((String,), False),
}
PRIMARY_KEYS = {
    "execution_run": ["id"],
    "execution_event": ["run_id", "id_ms", "id_seq"],
}
RUN_STATUSES = ("pending", "running", "completed", "failed", "cancelled")


class LegacySchemaMismatch(StorageUnavailable):
    """Tables runstream would adopt are not in the shape it can use."""


def check_legacy_shape(conn: Connection) -> None:
    """Raise LegacySchemaMismatch, naming the table and column, unless both
    legacy tables have the accepted shape."""
    found = inspect(conn)
    names = set(found.get_table_names())
    shapes = {"execution_run": RUN_COLUMNS, "execution_event": EVENT_COLUMNS}
    for name, columns in shapes.items():
        if name not in names:
            raise LegacySchemaMismatch(f"legacy table {name} is missing")
        _check_columns(name, columns, found.get_columns(name))
        key = found.get_pk_constraint(name)["constrained_columns"]
        if list(key) != PRIMARY_KEYS[name]:
            raise LegacySchemaMismatch(
                f"legacy table {name}: primary key is ({', '.join(key)}), "
                f"expected ({', '.join(PRIMARY_KEYS[name])})"
            )
    _check_run_ids(conn.dialect.name, found.get_columns("execution_run"))
    _check_statuses(conn)


def _check_run_ids(dialect: str, columns: list[Any]) -> None:
    """New runs get their id from the database: AUTO_INCREMENT on MySQL, the
    rowid (a column declared exactly INTEGER PRIMARY KEY) on SQLite."""
    run_id = next(column for column in columns if column["name"] == "id")
    if dialect == "sqlite":
        assigns = str(run_id["type"]).upper() == "INTEGER"
        needed = "INTEGER PRIMARY KEY (the rowid)"
    else:
        assigns = run_id.get("autoincrement") is True
        needed = "AUTO_INCREMENT"
    if not assigns:
        raise LegacySchemaMismatch(
            f"legacy table execution_run: column id must be {needed}, "
            "so that new runs get ids"
        )


def _check_columns(
    table: str, expected: dict[str, tuple[tuple[type, ...], bool]], found: list[Any]
) -> None:
    by_name = {column["name"]: column for column in found}
    for name, (families, nullable) in expected.items():
        column = by_name.get(name)
        if column is None:
            raise LegacySchemaMismatch(
                f"legacy table {table}: column {name} is missing"
            )
        if not isinstance(column["type"], families):
            raise LegacySchemaMismatch(
                f"legacy table {table}: column {name} is {column['type']}, expected "
                f"{' or '.join(family.__name__.lower() for family in families)}"
            )
        if bool(column["nullable"]) != nullable:
            expected_null = "NULL" if nullable else "NOT NULL"
            raise LegacySchemaMismatch(
                f"legacy table {table}: column {name} must be {expected_null}"
            )
    for name, column in by_name.items():
        if name not in expected and not column["nullable"] and not _has_default(column):
            raise LegacySchemaMismatch(
                f"legacy table {table}: extra column {name} is NOT NULL without a "
                "default, so runstream could not insert rows"
            )


def _has_default(column: dict[str, Any]) -> bool:
    return column.get("default") is not None or bool(column.get("autoincrement"))


def _check_statuses(conn: Connection) -> None:
    rows = conn.execute(text("SELECT DISTINCT status FROM execution_run"))
    unknown = sorted(str(row[0]) for row in rows if row[0] not in RUN_STATUSES)
    if unknown:
        raise LegacySchemaMismatch(
            f"legacy table execution_run: column status holds {', '.join(unknown)}; "
            f"runstream knows {', '.join(RUN_STATUSES)}"
        )
