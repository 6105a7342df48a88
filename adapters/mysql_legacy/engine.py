"""Engines for MariaDB/MySQL (PyMySQL) and SQLite, and the transaction helpers.

SQLite gets WAL (readers never wait for the writer), a busy timeout, and
`BEGIN IMMEDIATE` for write transactions, so writers in several processes
serialize instead of failing on a lock upgrade. Within one process, writers
also queue on a lock first, so they take turns in order instead of in
SQLite's busy-sleep loop (which, under gevent, would also stall the hub).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime
from typing import Any, TypeVar

import pymysql.converters
from pymysql.constants import FIELD_TYPE
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

from adapters.mysql_legacy.failures import is_retryable, storage_errors
from domain.model import dump_json

log = logging.getLogger(__name__)
T = TypeVar("T")

POOL_RECYCLE_SECONDS = 280  # below any sane wait_timeout (MySQL default 28800)
SQLITE_BUSY_SECONDS = 30.0
MYSQL_CONNECT_TIMEOUT = 5
_WRITE = "runstream_write"
_RETRIES = 5
_WRITE_GATES: dict[str, threading.Lock] = {}


def sql_engine(url: str) -> Iterator[Engine]:
    """A Resource: the engine for `url`, disposed when the resource shuts down."""
    engine = build_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def build_engine(url: str) -> Engine:
    with storage_errors("open database"):
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            return _sqlite_engine(parsed)
        if parsed.get_backend_name() in ("mysql", "mariadb"):
            return _mysql_engine(parsed)
        return create_engine(parsed, pool_pre_ping=True, json_serializer=dump_json)


def _datetime(value: str | bytes) -> Any:
    """PyMySQL's DATETIME decoder, done by the C parser: a history page is
    1,000 timestamps, and the pure-Python one was a third of its read time."""
    text = value.decode("ascii") if isinstance(value, bytes) else value
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return pymysql.converters.convert_datetime(value)


_CONVERSIONS = {
    **pymysql.converters.conversions,
    FIELD_TYPE.DATETIME: _datetime,
    FIELD_TYPE.TIMESTAMP: _datetime,
}


def _mysql_engine(url: URL) -> Engine:
    connect_args: dict[str, Any] = {
        "connect_timeout": MYSQL_CONNECT_TIMEOUT,
        "conv": _CONVERSIONS,
    }
    if "charset" not in url.query:
        connect_args["charset"] = "utf8mb4"
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_recycle=POOL_RECYCLE_SECONDS,
        isolation_level="READ COMMITTED",
        connect_args=connect_args,
        json_serializer=dump_json,
    )


def _sqlite_engine(url: URL) -> Engine:
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_SECONDS},
        json_serializer=dump_json,
    )
    in_memory = url.database in (None, "", ":memory:")

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, record: Any) -> None:
        # Leave BEGIN to the "begin" hook below instead of sqlite3's own guess.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_SECONDS * 1000)}")
        if not in_memory:
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # Reads run in autocommit, each statement on its own WAL snapshot.
        if conn.get_execution_options().get(_WRITE, False):
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def database_key(engine: Engine) -> str:
    """Names the database, the same for every engine on it in this process."""
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database not in (None, ""):
        return "sqlite:" + os.path.abspath(url.database or "")
    return url.render_as_string(hide_password=True)


def _write_gate(engine: Engine) -> AbstractContextManager[Any]:
    if engine.dialect.name != "sqlite":
        return nullcontext()
    return _WRITE_GATES.setdefault(database_key(engine), threading.Lock())


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A connection in a write transaction, committed when the block ends."""
    with _write_gate(engine), engine.connect() as conn:
        conn.execution_options(**{_WRITE: True})
        with conn.begin():
            yield conn


def transact(engine: Engine, action: str, work: Callable[[Connection], T]) -> T:
    """Run `work` in a write transaction, rerun after a deadlock; driver errors
    become StorageUnavailable."""
    attempt = 1
    with storage_errors(action):
        while True:
            try:
                with writing(engine) as conn:
                    return work(conn)
            except Exception as err:
                if attempt >= _RETRIES or not is_retryable(err):
                    raise
                log.info("%s: rerun after %s (attempt %d)", action, err, attempt)
                attempt += 1


@contextmanager
def reading(engine: Engine, action: str) -> Iterator[Connection]:
    """A connection for reads; driver errors become StorageUnavailable."""
    with storage_errors(action), engine.connect() as conn:
        yield conn
