"""Run ownership and the fleet's event-log tier.

`execution_run` gains the owner lease of a run played inside the service
(`owner_id`, `lease_expires_at`); `event_log_tier` holds the one decision of
the whole fleet on which tier takes appends, and `event_log_member` each
process's heartbeat (docs/operations.md, "One tier for the whole fleet").

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

MYSQL_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}
MICROSECONDS = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    with op.batch_alter_table("execution_run") as batch:
        batch.add_column(sa.Column("owner_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("lease_expires_at", MICROSECONDS, nullable=True))
    op.create_table(
        "event_log_tier",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("epoch", sa.BigInteger, nullable=False),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("since_ms", sa.BigInteger, nullable=False),
        sa.Column("outage_ms", sa.BigInteger, nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=False),
        **MYSQL_OPTIONS,
    )
    op.create_table(
        "event_log_member",
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("seen_ms", sa.BigInteger, nullable=False),
        sa.Column("redis_ok_ms", sa.BigInteger, nullable=False),
        sa.Column("flushed_epoch", sa.BigInteger, nullable=False),
        **MYSQL_OPTIONS,
    )


def downgrade() -> None:
    op.drop_table("event_log_member")
    op.drop_table("event_log_tier")
    with op.batch_alter_table("execution_run") as batch:
        batch.drop_column("lease_expires_at")
        batch.drop_column("owner_id")
