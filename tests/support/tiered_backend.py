"""The composed EventLogs as contract-suite backends: Redis over an SQL archive,
and that pair with failover to the same SQL log."""

from __future__ import annotations

from collections.abc import Iterable

from runstream.adapters.tiered.archived_log import ArchivedEventLog
from runstream.adapters.tiered.archiver import Archiver
from runstream.adapters.tiered.failover import FailoverEventLog
from runstream.domain.ports import EventLog
from tests.support.backends import LogBackend
from tests.support.redis_backend import redis_log_backend
from tests.support.sql_backend import sqlite_log_backend


def archived(hot: EventLog, cold: EventLog) -> ArchivedEventLog:
    return ArchivedEventLog(hot, cold, Archiver(hot, cold, on_finished=hot.finish))


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
        sql = cold.make(ttl_seconds)
        redis = hot.make(ttl_seconds=ttl_seconds)
        primary = archived(redis, sql)
        return FailoverEventLog(
            primary,
            sql,
            before_failover=primary.flush,
            primary_head=redis.info,
        )

    return LogBackend(make=make, purge=_purge_both(hot, cold))
