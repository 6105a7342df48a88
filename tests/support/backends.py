"""What the contract suites need of an adapter: a fresh one, and a clean-up."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pytest

from runstream.adapters.in_memory.event_log import InMemoryEventLog
from runstream.adapters.in_memory.run_repository import InMemoryRunRepository
from runstream.domain.ports import EventLog, RunRepository


def _nothing(run_ids: Iterable[int]) -> None:
    del run_ids


@dataclass(frozen=True)
class LogBackend:
    """`make(ttl_seconds=...)` builds an adapter; `purge(run_ids)` removes the
    runs a test used (the Redis key layout is fixed, so tests isolate by run id)."""

    make: Callable[..., EventLog]
    purge: Callable[[Iterable[int]], None] = field(default=_nothing)


@dataclass(frozen=True)
class RunBackend:
    """`make()` builds a fresh, empty repository."""

    make: Callable[[], RunRepository]


def in_memory_log() -> LogBackend:
    return LogBackend(make=lambda ttl_seconds=86400: InMemoryEventLog(ttl_seconds))


def redis_stream_log() -> LogBackend:
    from tests.support.redis_backend import redis_log_backend

    return redis_log_backend()


def redis_cluster_log() -> LogBackend:
    from tests.support.redis_cluster import redis_cluster_log

    return redis_cluster_log()


def sqlite_log() -> LogBackend:
    from tests.support.sql_backend import sqlite_log_backend

    return sqlite_log_backend()


def mysql_legacy_log() -> LogBackend:
    from tests.support.sql_backend import mysql_log_backend

    return mysql_log_backend()


def archived_log() -> LogBackend:
    from tests.support.tiered_backend import archived_log_backend

    return archived_log_backend()


def failover_log() -> LogBackend:
    from tests.support.tiered_backend import failover_log_backend

    return failover_log_backend()


def in_memory_runs() -> RunBackend:
    return RunBackend(make=InMemoryRunRepository)


def sqlite_runs() -> RunBackend:
    from tests.support.sql_backend import sqlite_run_backend

    return sqlite_run_backend()


def mysql_runs() -> RunBackend:
    from tests.support.sql_backend import mysql_run_backend

    return mysql_run_backend()


LOG_BACKENDS = [
    pytest.param(in_memory_log, id="in_memory"),
    pytest.param(redis_stream_log, id="redis_stream", marks=pytest.mark.redis),
    pytest.param(redis_cluster_log, id="redis_cluster", marks=pytest.mark.redis),
    pytest.param(sqlite_log, id="sqlite"),
    pytest.param(mysql_legacy_log, id="mysql_legacy", marks=pytest.mark.mysql),
    pytest.param(archived_log, id="redis_over_sql_archive", marks=pytest.mark.redis),
    pytest.param(failover_log, id="redis_with_sql_failover", marks=pytest.mark.redis),
]


RUN_BACKENDS = [
    pytest.param(in_memory_runs, id="in_memory"),
    pytest.param(sqlite_runs, id="sqlite"),
    pytest.param(mysql_runs, id="mysql_legacy", marks=pytest.mark.mysql),
]
