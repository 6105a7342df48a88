"""A Redis that is gone or frozen: every call fails as StorageUnavailable, in time."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from redis.exceptions import RedisError

from runstream.adapters.redis_stream.client import redis_client
from runstream.adapters.redis_stream.event_log import RedisStreamEventLog
from runstream.domain.errors import StorageUnavailable
from runstream.domain.ids import EventId
from runstream.domain.model import StoredEvent
from tests.factories import started, token
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.redis

TIMEOUT = 1.0
# Scheduling slack on top of the socket timeout, for a loaded CI machine.
SLACK = 0.5
RUN_ID = 1


@dataclass
class Connected:
    server: RedisServer
    log: RedisStreamEventLog
    last: StoredEvent


@pytest.fixture
def connected() -> Iterator[Connected]:
    with RedisServer(appendonly=True) as server:
        resource = redis_client(server.url, cluster=False, timeout=TIMEOUT)
        log = RedisStreamEventLog(next(resource))
        yield Connected(server, log, log.append(RUN_ID, [started()])[-1])
        resource.close()


def _copy(last: StoredEvent) -> StoredEvent:
    return StoredEvent(
        EventId(last.id.ms + 1, 0), RUN_ID, last.sequence + 1, 0, token()
    )


OPERATIONS: dict[str, Callable[[RedisStreamEventLog, StoredEvent], object]] = {
    "append": lambda log, last: log.append(RUN_ID, [token()]),
    "store": lambda log, last: log.store(RUN_ID, [_copy(last)]),
    "read": lambda log, last: log.read(RUN_ID),
    "wait": lambda log, last: log.wait({RUN_ID: last.id}, timeout=30),
    "finish": lambda log, last: log.finish(RUN_ID),
    "info": lambda log, last: log.info(RUN_ID),
}


def _failure_time(connected: Connected, operation: str) -> float:
    began = time.monotonic()
    with pytest.raises(StorageUnavailable) as raised:
        OPERATIONS[operation](connected.log, connected.last)
    assert isinstance(raised.value.__cause__, RedisError)
    return time.monotonic() - began


@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_stopped_redis_fails_every_call_within_the_timeout(connected, operation):
    connected.server.stop()

    elapsed = _failure_time(connected, operation)

    assert elapsed < TIMEOUT + SLACK


@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_frozen_redis_fails_every_call_within_the_timeout(connected, operation):
    connected.server.freeze()

    elapsed = _failure_time(connected, operation)

    assert elapsed < TIMEOUT + SLACK
    connected.server.thaw()


def test_the_log_serves_again_once_a_stopped_redis_is_back(connected):
    connected.server.stop()
    _failure_time(connected, "append")

    connected.server.start()
    appended = connected.log.append(RUN_ID, [token()])

    assert appended[0].sequence == 2
