"""The SQL adapters for the contract suites: a SQLite file and a MariaDB
database, each created and migrated once per test session and removed at exit."""

from __future__ import annotations

import atexit
import functools
import secrets
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, delete, make_url, text

from runstream.adapters.mysql_legacy.engine import sql_engine, writing
from runstream.adapters.mysql_legacy.event_log import SqlEventLog
from runstream.adapters.mysql_legacy.run_repository import SqlRunRepository
from runstream.adapters.mysql_legacy.schema import upgrade
from runstream.adapters.mysql_legacy.tables import (
    execution_event,
    execution_event_log,
    execution_run,
)
from tests.services import require_mysql
from tests.support.backends import LogBackend, RunBackend


def open_engine(url: str) -> Engine:
    """An engine from the adapter's own Resource, disposed at exit."""
    resource = sql_engine(url)
    engine = next(resource)
    atexit.register(resource.close)
    return engine


@contextmanager
def fresh_mysql_database(server_url: str) -> Iterator[str]:
    """The URL of a new, empty MariaDB database, dropped afterwards."""
    name = f"runstream_test_{secrets.token_hex(6)}"
    server = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    try:
        yield make_url(server_url).set(database=name).render_as_string(False)
    finally:
        with server.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        server.dispose()


@contextmanager
def fresh_sqlite_url() -> Iterator[str]:
    """The URL of a new SQLite file in a temporary directory, removed afterwards."""
    directory = tempfile.mkdtemp(prefix="runstream-sql-")
    try:
        yield f"sqlite:///{Path(directory) / 'runstream.db'}"
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@functools.cache
def session_engine(kind: str) -> Engine:
    """One migrated database of `kind` ("sqlite" or "mysql") per session."""
    if kind == "mysql":
        database = fresh_mysql_database(require_mysql())
    else:
        database = fresh_sqlite_url()
    url = database.__enter__()
    atexit.register(database.__exit__, None, None, None)
    engine = open_engine(url)
    upgrade(engine)
    return engine


def _log_backend(engine: Engine) -> LogBackend:
    def make(ttl_seconds: float | None = 86400) -> SqlEventLog:
        return SqlEventLog(engine, ttl_seconds=ttl_seconds, poll_interval=0.05)

    def purge(run_ids: Iterable[int]) -> None:
        ids = list(run_ids)
        with writing(engine) as conn:
            for table in (execution_event, execution_event_log):
                conn.execute(delete(table).where(table.c.run_id.in_(ids)))

    return LogBackend(make=make, purge=purge)


def _run_backend(engine: Engine) -> RunBackend:
    def make() -> SqlRunRepository:
        with writing(engine) as conn:
            conn.execute(delete(execution_run))
        return SqlRunRepository(engine)

    return RunBackend(make=make)


def sqlite_log_backend() -> LogBackend:
    return _log_backend(session_engine("sqlite"))


def mysql_log_backend() -> LogBackend:
    return _log_backend(session_engine("mysql"))


def sqlite_run_backend() -> RunBackend:
    return _run_backend(session_engine("sqlite"))


def mysql_run_backend() -> RunBackend:
    return _run_backend(session_engine("mysql"))
