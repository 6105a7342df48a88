"""FailoverEventLog on in-memory logs, the primary switched off and on."""

from __future__ import annotations

import threading

import pytest

from runstream.adapters.in_memory.event_log import InMemoryEventLog
from runstream.adapters.tiered.failover import FailoverEventLog
from runstream.domain.errors import StorageUnavailable
from runstream.domain.ids import MAX_ID, MIN_ID
from tests.factories import completed, new_run_id, started, token


class Switchable:
    """An in-memory log whose every call fails while `down` is set."""

    def __init__(self) -> None:
        self.log = InMemoryEventLog()
        self.down = False
        self.up_again = threading.Event()

    def __getattr__(self, name):
        method = getattr(self.log, name)

        def call(*args, **kwargs):
            if self.down:
                raise StorageUnavailable("primary is down")
            return method(*args, **kwargs)

        return call

    def restore(self, empty: bool = False) -> None:
        if empty:
            self.log = InMemoryEventLog()
        self.down = False


@pytest.fixture
def primary():
    return Switchable()


@pytest.fixture
def fallback():
    return InMemoryEventLog()


def failover(primary, fallback, flushed=None):
    def mirror():
        # What the archive flush does in production: the fallback catches up.
        for run_id in list(primary.log._logs):
            fallback.store(run_id, primary.log.read(run_id, MIN_ID, MAX_ID, 10**6))
        if flushed is not None:
            flushed.set()

    return FailoverEventLog(
        primary, fallback, before_failover=mirror, probe_backoff=(0.01, 0.05)
    )


def sequences(log, run_id):
    return [e.sequence for e in log.read(run_id, MIN_ID, MAX_ID, 10**6)]


def await_serving(log, name):
    for _ in range(1000):
        if log.serving == name:
            return
        threading.Event().wait(0.01)
    raise AssertionError(f"still serving {log.serving}")


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

    assert primary.log._logs[run_id].expires_at is not None
    assert primary.log.info(run_id).closed


def test_a_waiter_on_the_fallback_sees_outage_appends(primary, fallback):
    log = failover(primary, fallback)
    run_id = new_run_id()
    first = log.append(run_id, [started()])[0]
    primary.down = True
    log.append(run_id, [token()])

    found = log.wait({run_id: first.id}, timeout=1)

    assert [e.sequence for e in found[run_id]] == [2]
