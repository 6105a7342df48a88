"""Where the fleet keeps its one decision on the event-log tier, and each
process's heartbeat; `LocalTierRecord` is the one-process record in memory."""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import Protocol

from runstream.domain.model import RunId

REDIS, TO_SQL, SQL, TO_REDIS = "redis", "to_sql", "sql", "to_redis"
# Redis lost acknowledged events: like to_sql, but not abandoned when Redis answers.
FLUSH = "flush"
STABLE = (REDIS, SQL)


@dataclass(frozen=True)
class TierState:
    """`tier` takes appends (`to_sql`/`flush`/`to_redis`: nobody, a switch is
    under way); `epoch` grows with every change; `since_ms` is when this state began,
    `outage_ms` when the fleet last left Redis (wall-clock milliseconds)."""

    epoch: int
    tier: str
    since_ms: int
    outage_ms: int = 0
    decided_by: str = ""


@dataclass(frozen=True)
class Member:
    """A process's heartbeat: last seen, last reached Redis, and the last
    switch epoch for which its archive holds everything it acknowledged."""

    member_id: str
    seen_ms: int
    redis_ok_ms: int
    flushed_epoch: int


class TierRecord(Protocol):
    """Backend failures raise StorageUnavailable."""

    def read(self) -> TierState: ...

    def swap(
        self, epoch: int, tier: str, now_ms: int, by: str, outage_ms: int | None = None
    ) -> TierState | None:
        """The new state if the record was still at `epoch`, else None."""
        ...

    def beat(self, member: Member) -> None: ...

    def members(self, seen_after_ms: int) -> list[Member]: ...

    def touched_runs(self, since_ms: int) -> list[RunId]:
        """Runs whose fallback log took events since `since_ms`."""
        ...


class LocalTierRecord:
    """The record of a fleet of one process (no shared database)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = TierState(0, REDIS, 0)
        self._members: dict[str, Member] = {}

    def read(self) -> TierState:
        with self._lock:
            return self._state

    def swap(
        self, epoch: int, tier: str, now_ms: int, by: str, outage_ms: int | None = None
    ) -> TierState | None:
        with self._lock:
            if self._state.epoch != epoch:
                return None
            outage = self._state.outage_ms if outage_ms is None else outage_ms
            self._state = replace(
                self._state,
                epoch=epoch + 1,
                tier=tier,
                since_ms=now_ms,
                outage_ms=outage,
                decided_by=by,
            )
            return self._state

    def beat(self, member: Member) -> None:
        with self._lock:
            self._members[member.member_id] = member

    def members(self, seen_after_ms: int) -> list[Member]:
        with self._lock:
            return [m for m in self._members.values() if m.seen_ms > seen_after_ms]

    def touched_runs(self, since_ms: int) -> list[RunId]:
        return []
