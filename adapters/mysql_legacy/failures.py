"""Driver failures become domain errors: nothing from SQLAlchemy leaves here."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pymysql
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from runstream.domain.errors import StorageUnavailable

DRIVER_ERRORS = (SQLAlchemyError, sqlite3.Error, pymysql.err.Error)
# MySQL: deadlock found / lock wait timeout; the transaction may simply be rerun.
_RETRYABLE_CODES = frozenset({1213, 1205})


def describe(err: BaseException) -> str:
    """One short line about a driver error: no SQL text, no parameters."""
    cause = getattr(err, "orig", None) or err
    lines = str(cause).strip().splitlines() or [""]
    return f"{type(cause).__name__}: {lines[0][:300]}"


@contextmanager
def storage_errors(action: str) -> Iterator[None]:
    """Raise StorageUnavailable, chained, for any driver error in the block."""
    try:
        yield
    except DRIVER_ERRORS as err:
        message = f"SQL store: {action} failed ({describe(err)})"
        raise StorageUnavailable(message) from err


def is_retryable(err: BaseException) -> bool:
    """A deadlock or lock timeout, after which the whole transaction may rerun."""
    if not isinstance(err, OperationalError):
        return False
    args: tuple[Any, ...] = getattr(err.orig, "args", ())
    return bool(args) and args[0] in _RETRYABLE_CODES
