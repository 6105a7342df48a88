"""A run streaming while its Redis event log is stopped and started again."""

from __future__ import annotations

import statistics
import threading
import time

import pytest

from runstream.adapters.in_memory.run_repository import InMemoryRunRepository
from runstream.adapters.redis_stream.client import redis_client
from runstream.adapters.redis_stream.event_log import RedisStreamEventLog
from runstream.adapters.simulated.executor import SimulatedExecutor
from runstream.application.backoff import Backoff
from runstream.application.event_writer import EventWriter
from runstream.application.run_manager import RunManager
from runstream.application.start_run import RunRequest
from runstream.domain.model import RunStatus
from tests.support.redis_server import RedisServer
from tests.support.run_checks import assert_well_formed, read_all
from tests.support.timing import assert_within

pytestmark = pytest.mark.redis

PARAMS = {
    "teams": 3,
    "workers_per_team": 4,
    "tokens_per_worker": 500,
    "chunk_delay_ms": 24,
    "think_ms": 0,
    "seed": 5,
}
STOP_AT, RESTART_AT = 300, 900


class TimedExecutor:
    """The simulated executor, with every emit timed and kept, and an Event set
    when the n-th event has been emitted."""

    def __init__(self, marks: dict[int, threading.Event]):
        self.inner = SimulatedExecutor()
        self.marks = marks
        self.costs: list[float] = []
        self.sent = []

    def prepare(self, params):
        return self.inner.prepare(params)

    def run(self, run, sink, cancel):
        return self.inner.run(run, _TimedSink(self, sink), cancel)


class _TimedSink:
    def __init__(self, owner: TimedExecutor, sink):
        self.owner, self.sink = owner, sink

    def emit(self, event):
        began = time.perf_counter()
        self.sink.emit(event)
        self.owner.costs.append(time.perf_counter() - began)
        self.owner.sent.append(event)
        mark = self.owner.marks.get(len(self.owner.sent))
        if mark is not None:
            mark.set()


@pytest.fixture
def server():
    with RedisServer(appendonly=True) as started:
        yield started


@pytest.fixture
def log(server):
    resource = redis_client(server.url, cluster=False, timeout=0.5)
    yield RedisStreamEventLog(next(resource), maxlen=100_000, ttl_seconds=3600)
    resource.close()


def percentile(values, fraction):
    return statistics.quantiles(values, n=1000)[round(fraction * 1000) - 1]


def test_a_run_outlives_a_redis_outage_and_every_event_lands_in_order(server, log):
    reached = {STOP_AT: threading.Event(), RESTART_AT: threading.Event()}
    executor = TimedExecutor(reached)
    runs = InMemoryRunRepository()
    writer = EventWriter(log, backoff=Backoff(first=0.02, ceiling=0.25))
    manager = RunManager(runs, log, writer, {"simulated": executor})
    run = manager.start(RunRequest("survive an outage", "simulated", params=PARAMS))

    assert reached[STOP_AT].wait(30)
    server.stop()
    assert reached[RESTART_AT].wait(30)
    during = manager.stats().writer
    server.start()
    ended = manager.join(run.id, 60)

    stored = read_all(log, run.id)
    assert ended
    assert runs.get(run.id).status is RunStatus.COMPLETED
    assert during.retries > 0
    assert not during.store_available
    assert during.events_written < RESTART_AT
    assert [s.event for s in stored[1:-1]] == executor.sent
    assert_well_formed(stored)
    assert_within(percentile(executor.costs, 0.99), 0.05, "an emit (p99) in the outage")
    assert manager.shutdown(5)
