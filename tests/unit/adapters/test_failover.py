"""FailoverEventLog on in-memory logs, the primary switched off and on."""

from __future__ import annotations

import threading

import pytest

from runstream.adapters.in_memory.event_log import InMemoryEventLog
from runstream.adapters.tiered.failover import FailoverEventLog
from runstream.adapters.tiered.fleet_timing import FleetTiming
from runstream.adapters.tiered.tier_record import LocalTierRecord
from runstream.domain.errors import StorageUnavailable
from runstream.domain.ids import MAX_ID, MIN_ID
from tests.factories import completed, new_run_id, started, token
from tests.support.polling import wait_until

TTL = 60


class Switchable:
    """An in-memory log (finished logs expire after TTL on its own clock) whose
    every call fails while `down` is set; it remembers the runs written to it."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.log = self._fresh()
        self.down = False
        self.up_again = threading.Event()
        self.run_ids: set[int] = set()

    def __getattr__(self, name):
        method = getattr(self.log, name)

        def call(*args, **kwargs):
            if self.down:
                raise StorageUnavailable("primary is down")
            if name in ("append", "store"):
                self.run_ids.add(args[0])
            return method(*args, **kwargs)

        return call

    def restore(self, empty: bool = False) -> None:
        if empty:
            self.log = self._fresh()
        self.down = False

    def _fresh(self) -> InMemoryEventLog:
        return InMemoryEventLog(ttl_seconds=TTL, clock=lambda: self.now)


@pytest.fixture
def primary():
    return Switchable()


@pytest.fixture
def fallback():
    return InMemoryEventLog()


def failover(primary, fallback, flushed=None):
    def mirror():
        # What the archive flush does in production: the fallback catches up.
        for run_id in list(primary.run_ids):
            fallback.store(run_id, primary.log.read(run_id, MIN_ID, MAX_ID, 10**6))
        if flushed is not None:
            flushed.set()

    return FailoverEventLog(
        primary, fallback, before_failover=mirror, probe_backoff=(0.01, 0.05)
    )


def sequences(log, run_id):
    return [e.sequence for e in log.read(run_id, MIN_ID, MAX_ID, 10**6)]


def await_serving(log, name):
    wait_until(lambda: log.serving == name, f"the log to serve from {name}")


def test_appends_continue_on_the_fallback_when_the_primary_fails(primary, fallback):
    log = failover(primary, fallback)
    run_id = new_run_id()
    log.append(run_id, [started(), token()])
    primary.down = True

    stored = log.append(run_id, [token(), token()])

    assert [e.sequence for e in stored] == [3, 4]
    assert log.serving == "sql"
    assert sequences(log, run_id) == [1, 2, 3, 4]


def test_outage_events_are_copied_back_and_the_primary_serves_again(primary, fallback):
    log = failover(primary, fallback)
    run_id = new_run_id()
    log.append(run_id, [started()])
    primary.down = True
    log.append(run_id, [token(), token()])

    primary.restore()
    await_serving(log, "redis")
    after = log.append(run_id, [token(), completed()])

    assert [e.sequence for e in after] == [4, 5]
    assert sequences(primary.log, run_id) == [1, 2, 3, 4, 5]
    assert log.stats().failovers == 1 and log.stats().failbacks == 1


def test_a_primary_that_comes_back_empty_gets_whole_runs_back(primary, fallback):
    log = failover(primary, fallback)
    run_id = new_run_id()
    log.append(run_id, [started(), token()])
    primary.down = True
    log.append(run_id, [token()])

    primary.restore(empty=True)
    await_serving(log, "redis")
    log.append(run_id, [token()])

    assert sequences(primary.log, run_id) == [1, 2, 3, 4]


def test_a_run_finished_during_the_outage_is_finished_on_the_primary_too(
    primary, fallback
):
    log = failover(primary, fallback)
    run_id = new_run_id()
    log.append(run_id, [started()])
    primary.down = True
    log.append(run_id, [completed()])
    log.finish(run_id)

    primary.restore()
    await_serving(log, "redis")

    closed = primary.log.info(run_id).closed
    primary.now += TTL

    assert closed
    assert primary.log.read(run_id) == []


def test_a_waiter_on_the_fallback_sees_outage_appends(primary, fallback):
    log = failover(primary, fallback)
    run_id = new_run_id()
    first = log.append(run_id, [started()])[0]
    primary.down = True
    log.append(run_id, [token()])

    found = log.wait({run_id: first.id}, timeout=1)

    assert [e.sequence for e in found[run_id]] == [2]


def test_a_read_when_the_primary_fails_waits_for_the_switch_and_uses_the_fallback(
    primary, fallback
):
    # A stream opened at the moment Redis died answered 503 (a loaded suite
    # run of test_redis_outage[restarted_empty]): the read gave up while the
    # fleet was still deciding.
    # The other process reached Redis moments ago (its veto lasts `healthy`)
    # and lost it too; then the switch waits for its lease.
    timing = FleetTiming(lease=0.3, beat=0.02, healthy=0.3, gone=5.0,
                         in_flight=0.0, settle=5.0, unseen=0.3)  # fmt: skip
    record = LocalTierRecord()
    log = FailoverEventLog(primary, fallback, record=record, timing=timing)
    other = FailoverEventLog(primary, fallback, record=record, timing=timing)
    run_id = new_run_id()
    log.append(run_id, [started(), token()])
    fallback.store(run_id, primary.log.read(run_id))
    log.fleet.tick()
    other.fleet.tick()
    other.start()  # another process of the fleet: the switch waits for its lease
    primary.down = True

    try:
        read = log.read(run_id)
    finally:
        other.stop(5)

    assert [e.sequence for e in read] == [1, 2]
    assert log.serving == "sql"
