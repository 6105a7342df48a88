"""An append that reaches a frozen Redis after the caller gave up is never stored:
the caller was told it failed and may have written the events elsewhere."""

from __future__ import annotations

import time

import pytest

from runstream.adapters.redis_stream.client import redis_client
from runstream.adapters.redis_stream.event_log import RedisStreamEventLog
from runstream.domain.errors import StorageUnavailable
from tests.factories import started, token
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.redis


def test_an_append_that_times_out_on_a_frozen_redis_is_not_stored_after_thaw():
    with RedisServer() as server:
        resource = redis_client(server.url, timeout=0.3)
        client = next(resource)
        log = RedisStreamEventLog(client, clock_skew_seconds=0.2)
        log.append(1, [started()])
        server.freeze()

        with pytest.raises(StorageUnavailable):
            log.append(1, [token("sent while frozen")])
        time.sleep(1.0)  # the frozen span must outlast timeout + allowed skew
        server.thaw()
        kept = _await_quiet_read(log)
        resource.close()

    assert [e.sequence for e in kept] == [1]


def _await_quiet_read(log: RedisStreamEventLog):
    """Read once the thawed server has worked through its queued commands
    (a PING round trip on a fresh request orders after them)."""
    deadline = time.monotonic() + 10
    while True:
        try:
            return log.read(1)
        except StorageUnavailable:
            assert time.monotonic() < deadline
