"""Composing the EventLog the service uses from the configured tiers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from runstream.adapters.tiered.archived_log import ArchivedEventLog
from runstream.adapters.tiered.archiver import Archiver
from runstream.adapters.tiered.authority import ArchiveLog, HotLog
from runstream.adapters.tiered.failover import FailoverEventLog
from runstream.domain.ports import EventLog


def compose_event_log(
    backend: str,
    fallback: str,
    archive: str,
    memory: Callable[[], EventLog],
    sql: Callable[[], ArchiveLog],
    redis: Callable[[], HotLog],
    tier_record: Callable[[], Any] | None = None,
) -> Any:
    """The selected log; with Redis, an SQL archive under it and, when asked
    for, failover to that same SQL log (so the fallback already holds every
    archived event and continues each run's ids)."""
    if backend == "memory":
        return memory()
    if backend == "sql":
        return sql()
    hot = redis()
    if archive == "none" and fallback == "none":
        return hot
    cold = sql()
    archived = ArchivedEventLog(hot, cold, Archiver(hot, cold, on_finished=hot.finish))
    if fallback == "none":
        return archived
    failover = FailoverEventLog(
        archived,
        cold,
        before_failover=lambda: archived.archiver.flush(timeout=5.0),
        primary_head=hot.info,
        record=tier_record() if tier_record is not None else None,
    )
    archived.on_behind = failover.fleet.redis_lost
    return failover
