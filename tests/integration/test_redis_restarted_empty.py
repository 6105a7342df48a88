"""A Redis that restarts without its data, in a fleet with the SQL fallback.

A process that knows no event of a run (its archive did not hold any yet: the
run's first events were still queued in another process's archiver) used to
continue the vanished stream from sequence 1, re-using the sequence of an
event another process had acknowledged. The CI chaos test found it under load
(seed 7: run 68's appends acknowledged as sequences 1-3 after Redis restarted
empty, where the run's first events had been). The fleet now learns Redis's
incarnation (`runstream:incarnation`): an append to a Redis that lost it
flushes the fleet's archives through SQL before anyone appends again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from runstream.adapters.redis_stream.client import redis_client
from runstream.adapters.redis_stream.event_log import RedisStreamEventLog
from runstream.adapters.tiered.tier_record import LocalTierRecord
from runstream.domain.errors import LogLost, StorageUnavailable
from runstream.entrypoints.event_logs import EventLogTiers, failover_tiers
from tests.factories import new_run_id, started, token
from tests.support.held_archive import HeldArchive
from tests.support.polling import poll
from tests.support.redis_server import RedisServer
from tests.support.sql_backend import sqlite_log_backend

pytestmark = pytest.mark.redis

TIMEOUT = 0.5


@pytest.fixture
def server() -> Iterator[RedisServer]:
    with RedisServer() as redis:
        yield redis


def member(stack: ExitStack, url: str, cold, record) -> EventLogTiers:
    """One process of the fleet, composed as the service composes it."""
    resource = redis_client(url, timeout=TIMEOUT)
    stack.callback(resource.close)
    hot = RedisStreamEventLog(next(resource))
    tiers = failover_tiers(hot, cold, record, redis_timeout=TIMEOUT)  # type: ignore[arg-type]
    assert tiers.failover is not None and tiers.archiver is not None
    stack.callback(tiers.archiver.stop, 2.0)
    stack.callback(tiers.failover.close)
    tiers.failover.start()
    return tiers


def appended_once_served(tiers: EventLogTiers, run_id: int, event) -> list:
    """The append retried, as a producer retries a 503, until it is acknowledged."""

    def attempt():
        try:
            return tiers.log.append(run_id, [event])
        except StorageUnavailable:
            return None

    found = poll(attempt, timeout=30, interval=0.05)
    assert found, "the append was never acknowledged"
    return list(found)


def test_a_process_knowing_no_event_of_a_run_never_reuses_a_sequence_redis_lost(
    server,
):
    sql = sqlite_log_backend()
    record = LocalTierRecord()
    held = HeldArchive(sql.make())
    run_id, other_run = new_run_id(), new_run_id()
    with ExitStack() as stack:
        stack.callback(held.released.set)
        first = member(stack, server.url, held, record)
        second = member(stack, server.url, sql.make(), record)
        second.log.append(other_run, [started()])  # it serves another run
        held.released.clear()  # the first process's archive lags
        began = first.log.append(run_id, [started()])

        server.restart_empty()
        try:
            early = second.log.append(run_id, [token("after the restart")])
        except StorageUnavailable:
            early = None  # the fleet flushes its archives first
        held.released.set()
        later = early or appended_once_served(second, run_id, token("after"))
        history = second.log.read(run_id)
    sql.purge([run_id, other_run])

    assert [e.sequence for e in began] == [1]
    assert [e.sequence for e in later] == [2]
    assert [e.id for e in history] == [began[0].id, later[0].id]


def test_an_append_to_a_redis_that_lost_its_incarnation_stores_nothing(server):
    resource = redis_client(server.url, timeout=TIMEOUT)
    client = next(resource)
    try:
        log = RedisStreamEventLog(client)
        log.watch_restarts()
        run_id = new_run_id()
        before = log.append(run_id, [started()])
        learnt = log.incarnation()
        client.flushall()

        with pytest.raises(LogLost):
            log.append(run_id, [token("refused")])
        with pytest.raises(LogLost):
            log.incarnation()  # what the fleet's heartbeat checks
        nothing = log.read(run_id)
        log.renew()
        after = log.append(run_id, [token("after the fleet's flush")])
        renewed = log.incarnation()
    finally:
        resource.close()

    assert [e.sequence for e in before] == [1]
    assert nothing == []
    assert [e.sequence for e in after] == [2]  # alone: after the floor, a gap
    assert learnt and renewed and renewed != learnt
