"""The adapters every contract test runs against: one list per port."""

from __future__ import annotations

import pytest

from runstream.adapters.in_memory.event_log import InMemoryEventLog
from runstream.adapters.in_memory.run_repository import InMemoryRunRepository
from tests.support.backends import LogBackend, RunBackend


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


@pytest.fixture(params=LOG_BACKENDS)
def log_backend(request: pytest.FixtureRequest) -> LogBackend:
    backend: LogBackend = request.param()
    return backend


@pytest.fixture
def event_log(log_backend: LogBackend):
    """A fresh adapter; the runs the test touched are purged afterwards."""
    from tests.factories import new_run_id

    first = new_run_id()
    yield log_backend.make()
    log_backend.purge(range(first, new_run_id() + 1))


@pytest.fixture(params=RUN_BACKENDS)
def run_backend(request: pytest.FixtureRequest) -> RunBackend:
    backend: RunBackend = request.param()
    return backend


@pytest.fixture
def runs(run_backend: RunBackend):
    return run_backend.make()
