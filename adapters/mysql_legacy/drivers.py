"""Engine settings per database: MariaDB/MySQL through PyMySQL, and SQLite.

SQLite gets WAL (readers never wait for the writer), a busy timeout, and
`BEGIN IMMEDIATE` for write transactions (those run with the execution option
WRITE), so writers in several processes serialize instead of failing on a
lock upgrade. Its engine also carries a lock (the execution option WRITE_GATE)
its writers queue on before `BEGIN IMMEDIATE`, so they take turns in order
instead of in SQLite's busy-sleep loop (which, under gevent, would also stall
the hub).
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

import pymysql.converters
from pymysql.constants import FIELD_TYPE
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL

from runstream.domain.model import dump_json

POOL_RECYCLE_SECONDS = 280  # below any sane wait_timeout (MySQL default 28800)
# Connections kept open per engine. Under gevent many requests use the pool at
# once; every one past the kept ones opened (with its TLS context) and closed
# a connection per request, which cost more than the request's own work.
POOL_SIZE = 20
POOL_OVERFLOW = 30
SQLITE_BUSY_SECONDS = 30.0
MYSQL_CONNECT_TIMEOUT = 5
WRITE = "runstream_write"
WRITE_GATE = "runstream_write_gate"


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


def mysql_engine(url: URL) -> Engine:
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
        pool_size=POOL_SIZE,
        max_overflow=POOL_OVERFLOW,
        isolation_level="READ COMMITTED",
        connect_args=connect_args,
        json_serializer=dump_json,
    )


def sqlite_engine(url: URL) -> Engine:
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_SECONDS},
        json_serializer=dump_json,
        execution_options={WRITE_GATE: threading.Lock()},
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
        if conn.get_execution_options().get(WRITE, False):
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
