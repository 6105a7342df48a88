"""The MySQL-legacy schema as Core tables, mapped by hand in the adapters.

The Alembic scripts in `migrations/versions` create exactly these tables; a
test compares the migrated database with this metadata.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql

MYSQL_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}
# SQLite only auto-increments an INTEGER PRIMARY KEY.
RUN_ID = BigInteger().with_variant(Integer(), "sqlite")
# Naive UTC datetimes; MySQL's default DATETIME would drop the fraction.
MICROSECONDS = DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
MILLISECONDS = DateTime().with_variant(mysql.DATETIME(fsp=3), "mysql", "mariadb")
# TEXT holds 64 KiB on MySQL; an event's data may be 1 MiB.
LONG_TEXT = Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")

metadata = MetaData()

execution_run = Table(
    "execution_run",
    metadata,
    Column("id", RUN_ID, primary_key=True, autoincrement=True),
    Column("hierarchy_id", BigInteger, nullable=True),
    Column("task", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("executor", String(32), nullable=False),
    Column("params", JSON(none_as_null=True), nullable=True),
    Column("tenant", String(191), nullable=True),
    Column("result", JSON(none_as_null=True), nullable=True),
    Column("error", Text, nullable=True),
    Column("statistics", JSON(none_as_null=True), nullable=True),
    Column("topology_snapshot", JSON(none_as_null=True), nullable=True),
    Column("created_at", MICROSECONDS, nullable=False),
    Column("started_at", MICROSECONDS, nullable=True),
    Column("completed_at", MICROSECONDS, nullable=True),
    Index("ix_execution_run_status", "status", "id"),
    Index("ix_execution_run_tenant", "tenant", "id"),
    sqlite_autoincrement=True,
    **MYSQL_OPTIONS,
)

# One row per event, clustered by position so a history page is one range scan.
execution_event = Table(
    "execution_event",
    metadata,
    Column("run_id", BigInteger, primary_key=True, autoincrement=False),
    Column("id_ms", BigInteger, primary_key=True, autoincrement=False),
    Column("id_seq", BigInteger, primary_key=True, autoincrement=False),
    Column("event_id", String(41), nullable=False),
    Column("sequence", BigInteger, nullable=False),
    Column("timestamp", MILLISECONDS, nullable=False),
    Column("source_agent_id", Text, nullable=True),
    Column("source_agent_type", String(32), nullable=True),
    Column("source_agent_name", Text, nullable=True),
    Column("source_team_name", Text, nullable=True),
    Column("category", String(16), nullable=False),
    Column("action", String(64), nullable=False),
    Column("data", LONG_TEXT, nullable=False),
    # Set on the first event of a batch appended with an Idempotency-Key.
    Column("idempotency_key", String(128), nullable=True),
    Column("idempotency_digest", String(128), nullable=True),
    UniqueConstraint("run_id", "sequence", name="uq_execution_event_sequence"),
    UniqueConstraint("run_id", "event_id", name="uq_execution_event_id"),
    Index("uq_execution_event_idempotency", "run_id", "idempotency_key", unique=True),
    **MYSQL_OPTIONS,
)

# The head of each run's log: writers lock this row, so appends to one run are
# serialized and the last id and sequence are read in O(1). It also carries the
# log's expiry (epoch milliseconds; NULL keeps the log).
execution_event_log = Table(
    "execution_event_log",
    metadata,
    Column("run_id", BigInteger, primary_key=True, autoincrement=False),
    Column("first_ms", BigInteger, nullable=False),
    Column("first_seq", BigInteger, nullable=False),
    Column("first_sequence", BigInteger, nullable=False),
    Column("last_ms", BigInteger, nullable=False),
    Column("last_seq", BigInteger, nullable=False),
    Column("last_sequence", BigInteger, nullable=False),
    Column("closed", Boolean, nullable=False),
    Column("expires_at_ms", BigInteger, nullable=True),
    Index("ix_execution_event_log_expires", "expires_at_ms"),
    **MYSQL_OPTIONS,
)
