"""A database that cannot be reached is StorageUnavailable, promptly, from every
adapter call: no SQLAlchemy or driver exception gets out."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from runstream.adapters.mysql_legacy.event_log import SqlEventLog
from runstream.adapters.mysql_legacy.run_repository import SqlRunRepository
from runstream.domain.errors import StorageUnavailable
from runstream.domain.ids import MIN_ID, EventId
from runstream.domain.model import RunStatus, StoredEvent
from tests.factories import run, started
from tests.support.sql_backend import open_engine

DEAD_URLS = [
    pytest.param("mysql+pymysql://root@127.0.0.1:1/runstream", id="closed-port"),
    pytest.param("sqlite:////nonexistent/directory/runstream.db", id="sqlite-no-dir"),
]
COPY = StoredEvent(EventId(1_700_000_000_000, 0), 1, 1, 1_700_000_000_000, started())
CALLS: dict[str, Callable[[Any, Any], object]] = {
    "add run": lambda runs, log: runs.add(run()),
    "get run": lambda runs, log: runs.get(1),
    "update run": lambda runs, log: runs.update(run(), RunStatus.PENDING),
    "list runs": lambda runs, log: runs.list(),
    "append": lambda runs, log: log.append(1, [started()]),
    "read": lambda runs, log: log.read(1),
    "wait": lambda runs, log: log.wait({1: MIN_ID}, timeout=0),
    "info": lambda runs, log: log.info(1),
    "finish": lambda runs, log: log.finish(1),
    "store": lambda runs, log: log.store(1, [COPY]),
}


@pytest.mark.parametrize("url", DEAD_URLS)
@pytest.mark.parametrize("call", list(CALLS))
def test_a_dead_database_gives_storage_unavailable_promptly(url, call):
    engine = open_engine(url)
    runs, log = SqlRunRepository(engine), SqlEventLog(engine)
    began = time.monotonic()

    with pytest.raises(StorageUnavailable) as raised:
        CALLS[call](runs, log)

    assert time.monotonic() - began < 5
    assert raised.value.__cause__ is not None
    assert "SQL store" in str(raised.value)


def test_an_unparseable_database_url_is_storage_unavailable():
    with pytest.raises(StorageUnavailable):
        open_engine("nosuchdriver://somewhere/db")
