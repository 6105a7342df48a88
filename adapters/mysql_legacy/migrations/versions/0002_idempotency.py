"""Idempotency keys of appends, finish and cancel, kept with the events.

The first event of a batch appended with an `Idempotency-Key` carries the key and
a digest of the request; the unique index finds a key in O(log n) and makes a
second batch with the same key in one run impossible.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "execution_event", sa.Column("idempotency_key", sa.String(128), nullable=True)
    )
    op.add_column(
        "execution_event",
        sa.Column("idempotency_digest", sa.String(128), nullable=True),
    )
    op.create_index(
        "uq_execution_event_idempotency",
        "execution_event",
        ["run_id", "idempotency_key"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("uq_execution_event_idempotency", table_name="execution_event")
    with op.batch_alter_table("execution_event") as batch:
        batch.drop_column("idempotency_digest")
        batch.drop_column("idempotency_key")
