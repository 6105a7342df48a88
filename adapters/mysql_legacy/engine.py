"""The engine Resource and the transaction helpers every adapter uses.

On SQLite, the writers of one engine also queue on the engine's write gate (see
drivers.py) before `BEGIN IMMEDIATE`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.engine import make_url

from runstream.adapters.mysql_legacy.drivers import (
    WRITE,
    WRITE_GATE,
    mysql_engine,
    sqlite_engine,
)
from runstream.adapters.mysql_legacy.failures import is_retryable, storage_errors
from runstream.domain.model import dump_json

log = logging.getLogger(__name__)
T = TypeVar("T")

_RETRIES = 5


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
            return sqlite_engine(parsed)
        if parsed.get_backend_name() in ("mysql", "mariadb"):
            return mysql_engine(parsed)
        return create_engine(parsed, pool_pre_ping=True, json_serializer=dump_json)


def _write_gate(engine: Engine) -> AbstractContextManager[Any]:
    gate = engine.get_execution_options().get(WRITE_GATE)
    return nullcontext() if gate is None else gate


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A connection in a write transaction, committed when the block ends."""
    with _write_gate(engine), engine.connect() as conn:
        conn.execution_options(**{WRITE: True})
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
