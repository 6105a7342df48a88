"""The fleet's event-log tier decision and heartbeats in SQL (tables
`event_log_tier` and `event_log_member`): every process of a deployment shares
them, so the choice between Redis and SQL is one for the whole fleet."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from runstream.adapters.mysql_legacy.engine import reading, transact
from runstream.adapters.mysql_legacy.tables import (
    event_log_member as members,
)
from runstream.adapters.mysql_legacy.tables import (
    event_log_tier as tiers,
)
from runstream.adapters.mysql_legacy.tables import (
    execution_event_log as heads,
)
from runstream.adapters.tiered.tier_record import REDIS, Member, TierState
from runstream.domain.model import RunId

ROW = 1


class SqlTierRecord:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def read(self) -> TierState:
        with reading(self._engine, "read event-log tier") as conn:
            row = conn.execute(select(tiers).where(tiers.c.id == ROW)).first()
        if row is not None:
            return _state(row._mapping)
        self._create()
        return self.read()

    def swap(
        self, epoch: int, tier: str, now_ms: int, by: str, outage_ms: int | None = None
    ) -> TierState | None:
        values: dict[str, Any] = {
            "epoch": epoch + 1, "tier": tier, "since_ms": now_ms, "decided_by": by,
        }  # fmt: skip
        if outage_ms is not None:
            values["outage_ms"] = outage_ms
        change = (
            update(tiers)
            .where(tiers.c.id == ROW, tiers.c.epoch == epoch)
            .values(**values)
        )

        def work(conn: Connection) -> TierState | None:
            if conn.execute(change).rowcount != 1:
                return None
            row = conn.execute(select(tiers).where(tiers.c.id == ROW)).one()
            return _state(row._mapping)

        return transact(self._engine, "switch event-log tier", work)

    def beat(self, member: Member) -> None:
        values = {
            "seen_ms": member.seen_ms,
            "redis_ok_ms": member.redis_ok_ms,
            "flushed_epoch": member.flushed_epoch,
        }
        change = (
            update(members)
            .where(members.c.member_id == member.member_id)
            .values(**values)
        )

        def work(conn: Connection) -> None:
            if conn.execute(change).rowcount == 0:
                row = {"member_id": member.member_id, **values}
                conn.execute(insert(members).values(**row))

        transact(self._engine, "event-log heartbeat", work)

    def members(self, seen_after_ms: int) -> list[Member]:
        query = select(members).where(members.c.seen_ms > seen_after_ms)
        with reading(self._engine, "read event-log members") as conn:
            return [Member(**row._mapping) for row in conn.execute(query)]

    def touched_runs(self, since_ms: int) -> list[RunId]:
        query = select(heads.c.run_id).where(heads.c.last_ms >= since_ms)
        with reading(self._engine, "find runs appended on SQL") as conn:
            return [int(row.run_id) for row in conn.execute(query)]

    def _create(self) -> None:
        row = {"id": ROW, "epoch": 0, "tier": REDIS, "since_ms": 0, "outage_ms": 0,
               "decided_by": ""}  # fmt: skip

        def work(conn: Connection) -> None:
            try:
                with conn.begin_nested():
                    conn.execute(insert(tiers).values(**row))
            except IntegrityError:
                pass  # another process created it first

        transact(self._engine, "create event-log tier", work)


def _state(row: Any) -> TierState:
    return TierState(
        row["epoch"], row["tier"], row["since_ms"], row["outage_ms"], row["decided_by"]
    )
