"""Failback after a write Redis stored but whose reply was lost: the fallback
answered that write, so Redis's copy of it was never acknowledged and must
give way to the fallback's acknowledged events (a loaded suite run of
test_redis_outage[restarted_with_aof] lost 364 acknowledged events so)."""

from __future__ import annotations

import pytest

from runstream.domain.errors import StorageUnavailable
from tests.factories import new_run_id, started, token
from tests.support.polling import wait_until
from tests.support.redis_backend import redis_log_backend
from tests.support.sql_backend import sqlite_log_backend
from tests.support.tiered_backend import failing_over

pytestmark = pytest.mark.redis


class LosesReplies:
    """A real Redis log; while `losing`, an append is stored and then answered
    as failed (Redis shut down, or the link broke, after the script ran), and
    every other call fails: Redis looks down."""

    def __init__(self, log) -> None:
        self.log = log
        self.losing = False

    def __getattr__(self, name):
        method = getattr(self.log, name)

        def call(*args, **kwargs):
            if self.losing:
                if name in ("append", "append_planned"):
                    method(*args, **kwargs)
                raise StorageUnavailable("connection closed by server")
            return method(*args, **kwargs)

        return call


def test_failback_replaces_a_write_redis_stored_but_never_acknowledged():
    hot, cold = redis_log_backend(), sqlite_log_backend()
    redis, sql = hot.make(), cold.make()
    flaky = LosesReplies(redis)
    log = failing_over(flaky, sql, redis.info, probe_backoff=(0.01, 0.05))
    run_id = new_run_id()
    try:
        before = log.append(run_id, [started(), token()])
        flaky.losing = True

        answered = log.append(run_id, [token()])  # Redis stored it, SQL answered
        flaky.losing = False
        wait_until(lambda: log.serving == "redis", "the failback to Redis")
        after = log.append(run_id, [token()])

        ids = [e.id for e in log.read(run_id)]
        in_redis = [e.id for e in redis.read(run_id)]
    finally:
        log.close()
        hot.purge([run_id])
        cold.purge([run_id])

    acknowledged = [e.id for e in (*before, *answered, *after)]
    assert [e.sequence for e in answered] == [3]
    assert ids == acknowledged
    assert in_redis == acknowledged
    assert [e.sequence for e in after] == [4]
