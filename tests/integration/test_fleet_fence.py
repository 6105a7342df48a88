"""The fence on Redis writes: a write decided under the fleet's Redis lease but
sent after it lapsed (the primary waited first: an archive query, a flush of
the archive after Redis lost events) must not land in Redis once the fleet
appends to SQL, or the two tiers acknowledge different events at one sequence
(seen in a chaos run as 'does not continue the log' on failback)."""

from __future__ import annotations

import threading

import pytest

from runstream.adapters.tiered.failover import FailoverEventLog
from runstream.adapters.tiered.fleet_timing import FleetTiming
from runstream.adapters.tiered.tier_record import SQL, LocalTierRecord
from runstream.domain.errors import StorageUnavailable
from tests.factories import new_run_id, started, token
from tests.support.polling import wait_until
from tests.support.redis_backend import redis_log_backend
from tests.support.sql_backend import sqlite_log_backend
from tests.support.tiered_backend import failing_over

pytestmark = pytest.mark.redis

# A short lease; a process silent for `gone` is not waited for.
TIMING = FleetTiming(lease=0.2, beat=0.05, healthy=0.1, gone=0.3, in_flight=0.3,
                     settle=2.0, unseen=5.0)  # fmt: skip


class HeldBeforeSending:
    """A real Redis log whose appends wait for `go` once `holding` is set."""

    def __init__(self, log) -> None:
        self.log = log
        self.holding = False
        self.waiting = threading.Event()
        self.go = threading.Event()

    def __getattr__(self, name):
        return getattr(self.log, name)

    def append_planned(self, run_id, events, plan):
        if self.holding:
            self.waiting.set()
            assert self.go.wait(10), "never let go"
        return self.log.append_planned(run_id, events, plan)


def member(redis, sql, record, primary_head=None) -> FailoverEventLog:
    return failing_over(redis, sql, primary_head, record=record, timing=TIMING)


def unreachable(_run_id):
    raise StorageUnavailable("Redis is down from here")


def test_a_write_sent_after_the_lease_lapsed_never_lands_in_redis_once_sql_serves():
    hot, cold = redis_log_backend(), sqlite_log_backend()
    held = HeldBeforeSending(hot.make())
    record = LocalTierRecord()
    slow = member(held, cold.make(), record)
    other = member(hot.make(), cold.make(), record, primary_head=unreachable)
    run_id = new_run_id()
    outcome: list[object] = []
    try:
        before = slow.append(run_id, [started()])
        held.holding = True
        writer = threading.Thread(
            target=lambda: outcome.append(_attempt(slow, run_id)), daemon=True
        )
        writer.start()
        assert held.waiting.wait(10), "the write never started"
        # Meanwhile the other process loses Redis, the fleet moves to SQL and
        # SQL acknowledges the run's next event.
        other.fleet.redis_failed(StorageUnavailable("Redis is down from here"))
        wait_until(lambda: _tier_after_beat(other) == SQL, "SQL serving")
        on_sql = other.append(run_id, [token("on SQL")])
        held.go.set()
        writer.join(10)
        assert not writer.is_alive(), "the write never ended"
        history = other.read(run_id)
    finally:
        held.go.set()
        slow.close()
        other.close()
        hot.purge([run_id])
        cold.purge([run_id])

    (late,) = outcome
    acknowledged = [*before, *on_sql]
    if not isinstance(late, StorageUnavailable):
        acknowledged += late
    assert [e.sequence for e in on_sql] == [2]
    assert [(e.id, e.sequence) for e in history] == [
        (e.id, e.sequence) for e in acknowledged
    ]


def _attempt(log: FailoverEventLog, run_id: int) -> object:
    try:
        return list(log.append(run_id, [token("late")]))
    except StorageUnavailable as err:
        return err


def _tier_after_beat(process: FailoverEventLog) -> str:
    process.fleet.tick()
    return process.fleet.state.tier
