"""Create execution_run, execution_event and execution_event_log.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Spelled out here, not imported from tables.py, so this revision never changes.
MYSQL_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}
RUN_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
MICROSECONDS = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
MILLISECONDS = sa.DateTime().with_variant(mysql.DATETIME(fsp=3), "mysql", "mariadb")
LONG_TEXT = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")


def upgrade() -> None:
    _create_runs()
    _create_events()
    _create_heads()


def downgrade() -> None:
    op.drop_table("execution_event_log")
    op.drop_table("execution_event")
    op.drop_table("execution_run")


def _create_runs() -> None:
    op.create_table(
        "execution_run",
        sa.Column("id", RUN_ID, primary_key=True, autoincrement=True),
        sa.Column("hierarchy_id", sa.BigInteger, nullable=True),
        sa.Column("task", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("executor", sa.String(32), nullable=False),
        sa.Column("params", sa.JSON, nullable=True),
        sa.Column("tenant", sa.String(191), nullable=True),
        sa.Column("result", sa.JSON, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("statistics", sa.JSON, nullable=True),
        sa.Column("topology_snapshot", sa.JSON, nullable=True),
        sa.Column("created_at", MICROSECONDS, nullable=False),
        sa.Column("started_at", MICROSECONDS, nullable=True),
        sa.Column("completed_at", MICROSECONDS, nullable=True),
        sqlite_autoincrement=True,
        **MYSQL_OPTIONS,
    )
    op.create_index("ix_execution_run_status", "execution_run", ["status", "id"])
    op.create_index("ix_execution_run_tenant", "execution_run", ["tenant", "id"])


def _create_events() -> None:
    op.create_table(
        "execution_event",
        sa.Column("run_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("id_ms", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("id_seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("event_id", sa.String(41), nullable=False),
        sa.Column("sequence", sa.BigInteger, nullable=False),
        sa.Column("timestamp", MILLISECONDS, nullable=False),
        sa.Column("source_agent_id", sa.Text, nullable=True),
        sa.Column("source_agent_type", sa.String(32), nullable=True),
        sa.Column("source_agent_name", sa.Text, nullable=True),
        sa.Column("source_team_name", sa.Text, nullable=True),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("data", LONG_TEXT, nullable=False),
        sa.UniqueConstraint("run_id", "sequence", name="uq_execution_event_sequence"),
        sa.UniqueConstraint("run_id", "event_id", name="uq_execution_event_id"),
        **MYSQL_OPTIONS,
    )


def _create_heads() -> None:
    op.create_table(
        "execution_event_log",
        sa.Column("run_id", sa.BigInteger, primary_key=True, autoincrement=False),
        *(
            sa.Column(name, sa.BigInteger, nullable=False)
            for name in (
                "first_ms",
                "first_seq",
                "first_sequence",
                "last_ms",
                "last_seq",
                "last_sequence",
            )
        ),
        sa.Column("closed", sa.Boolean, nullable=False),
        sa.Column("expires_at_ms", sa.BigInteger, nullable=True),
        **MYSQL_OPTIONS,
    )
    op.create_index(
        "ix_execution_event_log_expires", "execution_event_log", ["expires_at_ms"]
    )
