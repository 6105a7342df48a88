"""The composed EventLogs as contract-suite backends: Redis over an SQL archive,
and that pair with failover to the same SQL log."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from runstream.adapters.tiered.archived_log import ArchivedEventLog
from runstream.adapters.tiered.archiver import Archiver
from runstream.adapters.tiered.failover import FailoverEventLog
from runstream.domain.ports import EventLog
from tests.support.backends import LogBackend
from tests.support.redis_backend import redis_log_backend
from tests.support.sql_backend import sqlite_log_backend

# The archivers `archived` made and nobody stopped yet: each keeps an SQL
# connection while it has work, so archivers left running by finished tests
# emptied the session engine's pool (tests then waited on checkouts and
# failed in a cascade). `stop_archivers` ends them: after every test
# (tests/conftest.py) and after every state-machine example.
_running: list[Archiver] = []


def archived(hot: EventLog, cold: EventLog) -> ArchivedEventLog:
    archiver = Archiver(hot, cold, on_finished=hot.finish)
    _running.append(archiver)
    return ArchivedEventLog(hot, cold, archiver)


def failing_over(
    hot: Any, cold: EventLog, primary_head: Any = None, **options: Any
) -> FailoverEventLog:
    """`archived(hot, cold)` failing over to `cold`, composed as the service
    composes it: the archive flushed first, Redis's own head probed
    (`primary_head`, `hot.info` by default)."""
    primary = archived(hot, cold)
    return FailoverEventLog(
        primary,
        cold,
        before_failover=primary.flush,
        primary_head=primary_head or hot.info,
        **options,
    )


def stop_archivers(timeout: float = 2.0) -> None:
    """Stop every archiver `archived` made so far (what they still hold of
    runs the test purged is dropped)."""
    while _running:
        _running.pop().stop(timeout)


def _pair() -> tuple[LogBackend, LogBackend]:
    return redis_log_backend(), sqlite_log_backend()


def _purge_both(hot: LogBackend, cold: LogBackend):
    def purge(run_ids: Iterable[int]) -> None:
        ids = list(run_ids)
        hot.purge(ids)
        cold.purge(ids)

    return purge


def archived_log_backend() -> LogBackend:
    hot, cold = _pair()

    def make(ttl_seconds: float = 86400) -> EventLog:
        return archived(hot.make(ttl_seconds=ttl_seconds), cold.make(ttl_seconds))

    return LogBackend(make=make, purge=_purge_both(hot, cold))


def failover_log_backend() -> LogBackend:
    hot, cold = _pair()

    def make(ttl_seconds: float = 86400) -> EventLog:
        return failing_over(hot.make(ttl_seconds=ttl_seconds), cold.make(ttl_seconds))

    return LogBackend(make=make, purge=_purge_both(hot, cold))
