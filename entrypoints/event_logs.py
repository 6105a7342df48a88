"""The event log the service runs on, composed from its tiers.

With Redis, an SQL archive sits under it and, when asked for, the service fails
over to that same SQL log (so the fallback already holds every archived event
and continues each run's ids). The composition keeps its parts in view:
metrics read the archiver and the breaker, shutdown stops them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from runstream.adapters.in_memory.event_log import InMemoryEventLog
from runstream.adapters.tiered.archived_log import ArchivedEventLog
from runstream.adapters.tiered.archiver import Archiver
from runstream.adapters.tiered.failover import FailoverEventLog
from runstream.adapters.tiered.fleet_timing import FleetTiming
from runstream.adapters.tiered.tier_record import TierRecord
from runstream.domain.ports import EventLog

if TYPE_CHECKING:
    from runstream.adapters.mysql_legacy.event_log import SqlEventLog
    from runstream.adapters.redis_stream.deferred import DeferredEventLog


@dataclass(frozen=True)
class EventLogTiers:
    """The log the use cases get, and the parts behind it."""

    log: EventLog
    archiver: Archiver | None = None
    failover: FailoverEventLog | None = None


def tier_layout(backend: str, archive: str, fallback: str) -> str:
    """memory, sql, redis (alone), archived (over SQL) or failover (to SQL)."""
    if backend != "redis":
        return backend
    if fallback != "none":
        return "failover"
    return "redis" if archive == "none" else "archived"


def memory_tier(log: InMemoryEventLog) -> EventLogTiers:
    return EventLogTiers(log)


def sql_tier(log: SqlEventLog) -> EventLogTiers:
    return EventLogTiers(log)


def redis_tier(log: DeferredEventLog) -> EventLogTiers:
    return EventLogTiers(log)


def archived_tiers(hot: DeferredEventLog, cold: SqlEventLog) -> EventLogTiers:
    archiver = Archiver(hot, cold, on_finished=hot.finish)
    return EventLogTiers(ArchivedEventLog(hot, cold, archiver), archiver)


def failover_tiers(
    hot: DeferredEventLog,
    cold: SqlEventLog,
    record: TierRecord,
    redis_timeout: float = 2.0,
) -> EventLogTiers:
    """Before failing over, the archive is flushed, so the fallback holds every
    event the primary acknowledged; `hot.info` tells what Redis itself holds
    (the archived log's own `info` would answer from the archive). `record`
    holds the fleet's one decision of which tier takes appends; a Redis write
    already sent lands within `redis_timeout` plus the append script's 1 s of
    clock skew, or never."""
    archiver = Archiver(hot, cold, on_finished=hot.finish)
    archived = ArchivedEventLog(hot, cold, archiver)
    # Appends check that Redis still holds the incarnation the process learnt
    # (probed every beat too): a Redis restarted without its data makes the
    # fleet flush its archives before anyone appends, so no process numbers a
    # run's next event from what the restarted Redis holds.
    hot.watch_restarts()
    failover = FailoverEventLog(
        archived,
        cold,
        # Bounded well below the 5 s after which a silent process is no
        # longer waited for: it beats again between two attempts.
        before_failover=lambda: archived.flush(2.0),
        primary_head=hot.info,
        incarnation=hot.incarnation,
        on_refilled=archived.renew,
        record=record,
        timing=FleetTiming(in_flight=redis_timeout + 1.0),
    )
    archived.on_behind = failover.fleet.redis_lost
    archived.on_lost = failover.fleet.redis_restarted
    return EventLogTiers(failover, archiver, failover)
