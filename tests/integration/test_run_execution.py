"""Simulated runs end to end on every event-log adapter (memory, SQL, Redis)."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import replace

import pytest

from runstream.adapters.in_memory.event_log import InMemoryEventLog
from runstream.adapters.in_memory.run_repository import InMemoryRunRepository
from runstream.adapters.simulated.executor import SimulatedExecutor
from runstream.application.backoff import Backoff
from runstream.application.cancel_run import CancelRun
from runstream.application.event_writer import EventWriter
from runstream.application.run_manager import RunManager
from runstream.application.run_tally import stream_tokens
from runstream.application.start_run import RunRequest
from runstream.domain.ids import MIN_ID
from runstream.domain.model import AgentType, Category, RunStatus
from tests.factories import new_run_id
from tests.support.backends import LogBackend, RunBackend
from tests.support.run_checks import assert_well_formed, read_all
from tests.support.timing import assert_within

ACCEPTANCE = {"teams": 3, "workers_per_team": 4, "tokens_per_worker": 500}
FLAT_OUT = {"chunk_delay_ms": 0, "think_ms": 0, "seed": 11}


class UniqueIds:
    """A run repository whose ids are offset into this session's own range, so
    runs never meet another test's (or session's) stream on a shared store."""

    def __init__(self, inner):
        self.inner = inner
        self.offset = new_run_id()
        self.used = []

    def add(self, run):
        stored = self._out(self.inner.add(run))
        self.used.append(stored.id)
        return stored

    def get(self, run_id):
        return self._out(self.inner.get(run_id - self.offset))

    def update(self, run, expected):
        inner = replace(run, id=run.id - self.offset)
        return self._out(self.inner.update(inner, expected))

    def list(self, **filters):
        return [self._out(run) for run in self.inner.list(**filters)]

    def _out(self, run):
        return replace(run, id=run.id + self.offset)


def memory():
    return LogBackend(make=InMemoryEventLog), RunBackend(make=InMemoryRunRepository)


def sqlite():
    from tests.support.sql_backend import sqlite_log_backend, sqlite_run_backend

    return sqlite_log_backend(), sqlite_run_backend()


def redis():
    from tests.support.redis_backend import redis_log_backend

    return redis_log_backend(), RunBackend(make=InMemoryRunRepository)


def mysql():
    from tests.support.sql_backend import mysql_log_backend, mysql_run_backend

    return mysql_log_backend(), mysql_run_backend()


BACKENDS = [
    pytest.param(memory, id="memory"),
    pytest.param(sqlite, id="sqlite"),
    pytest.param(redis, id="redis", marks=pytest.mark.redis),
    pytest.param(mysql, id="mysql", marks=pytest.mark.mysql),
]


@pytest.fixture(params=BACKENDS)
def stores(request):
    log_backend, run_backend = request.param()
    runs, log = UniqueIds(run_backend.make()), log_backend.make()
    yield runs, log
    log_backend.purge(runs.used)


@pytest.fixture
def manager(stores):
    runs, log = stores
    writer = EventWriter(log, backoff=Backoff(first=0.01, ceiling=0.2))
    made = RunManager(runs, log, writer, {"simulated": SimulatedExecutor()})
    yield made
    made.shutdown(10)


def start(manager, **params):
    return manager.start(RunRequest("compare the figures", "simulated", params=params))


def counted(stored):
    """The statistics a run's log calls for, recounted from the log itself."""
    per_category = Counter(s.category.value for s in stored)
    streams = [s.event for s in stored if (s.category, s.action) == ("llm", "stream")]
    return {
        "events": {c.value: per_category[c.value] for c in Category},
        "events_total": len(stored),
        "tokens_streamed": sum(stream_tokens(e) for e in streams),
        "agents": len({s.event.source.agent_id for s in stored if s.event.source}),
    }


def await_event(log, run_id, predicate, timeout=10.0):
    """Block on the log itself until an event matching `predicate` is stored."""
    cursor, deadline = MIN_ID, time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = log.wait({run_id: cursor}, 0.5).get(run_id, [])
        for item in found:
            if predicate(item):
                return item
        cursor = found[-1].id if found else cursor
    raise AssertionError("the awaited event was not stored in time")


def test_a_3x4x500_team_completes_with_a_well_formed_log_and_true_statistics(
    stores, manager
):
    runs, log = stores

    run = start(manager, **ACCEPTANCE, **FLAT_OUT)
    ended = manager.join(run.id, 60)

    stored = read_all(log, run.id)
    record = runs.get(run.id)
    statistics = record.statistics
    assert ended
    assert record.status is RunStatus.COMPLETED
    assert_well_formed(stored)
    assert stored[-1].action == "completed"
    assert {k: statistics[k] for k in counted(stored)} == counted(stored)
    assert stored[-1].event.data["statistics"] == statistics
    assert statistics["agents"] == 1 + 3 + 4 * 3
    assert (
        record.topology_snapshot["children"][2]["children"][3]["agent_type"] == "worker"
    )
    worker_tokens = sum(
        stream_tokens(s.event)
        for s in stored
        if s.action == "stream" and s.event.source.agent_type is AgentType.WORKER
    )
    assert worker_tokens == 3 * 4 * 500


def test_cancel_mid_run_stores_lifecycle_cancelled_within_a_second(stores, manager):
    runs, log = stores
    cancel = CancelRun(runs, log, on_cancel=manager.cancel)
    run = start(manager, **ACCEPTANCE, chunk_delay_ms=20)
    await_event(log, run.id, lambda s: s.action == "stream")

    began = time.monotonic()
    cancelled = cancel.execute(run.id)
    terminal = await_event(log, run.id, lambda s: s.is_terminal)
    took = time.monotonic() - began

    assert_within(took, 5.0, "cancelling a run paced at 20 ms a chunk")
    assert terminal.action == "cancelled"
    assert cancelled.run.status is RunStatus.CANCELLED
    assert runs.get(run.id).status is RunStatus.CANCELLED
    assert_well_formed(read_all(log, run.id))


def test_a_failing_executor_ends_the_run_failed_with_its_error(stores, manager):
    runs, log = stores
    message = "worker lost its context window"

    run = start(manager, **FLAT_OUT, fail_at="streaming", fail_message=message)
    assert manager.join(run.id, 30)

    stored = read_all(log, run.id)
    record = runs.get(run.id)
    assert_well_formed(stored)
    assert stored[-1].action == "failed"
    assert stored[-1].event.data["error"] == f"SimulatedFailure: {message}"
    assert stored[-2].action == "failed"
    assert stored[-2].event.data["error"] == message
    assert record.status is RunStatus.FAILED
    assert record.error == f"SimulatedFailure: {message}"
