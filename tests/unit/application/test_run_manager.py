import threading
import time

import pytest

from runstream.application.backoff import Backoff
from runstream.application.cancel_run import CancelRun
from runstream.application.event_writer import EventWriter
from runstream.application.run_execution import INTERRUPTED
from runstream.application.run_manager import RunManager
from runstream.application.start_run import RunRequest, StartRun
from runstream.domain.errors import InvalidRequest, RunNotActive, StorageUnavailable
from runstream.domain.model import Category, Idempotency, RunStatus
from tests.factories import completed, event, token
from tests.support.flaky_log import FlakyLog
from tests.support.polling import wait_until
from tests.support.timing import assert_within

FAST = Backoff(first=0.001, ceiling=0.01)


class Scripted:
    """Emits its events, then returns its result; `bad` params are refused."""

    def __init__(self, events=(), result=None, error=None, go=None):
        self.events, self.result, self.error = list(events), result, error
        self.go = go or threading.Event()
        if go is None:
            self.go.set()
        self.returned = threading.Event()

    def prepare(self, params):
        if "bad" in params:
            raise InvalidRequest("params.bad is not allowed")
        return {"agent_id": "solo", "children": []}

    def run(self, run, sink, cancel):
        assert self.go.wait(5)
        try:
            for item in self.events:
                sink.emit(item)
            if self.error is not None:
                raise self.error
            return self.result
        finally:
            self.returned.set()


class UntilCancelled:
    """Emits one token, then waits for the cancel request."""

    def __init__(self):
        self.running = threading.Event()

    def prepare(self, params):
        return None

    def run(self, run, sink, cancel):
        sink.emit(token("thinking"))
        self.running.set()
        assert cancel.wait(30)
        return {"ignored": True}


@pytest.fixture
def log():
    return FlakyLog()


@pytest.fixture
def make(runs, log):
    made = []

    def build(executor):
        writer = EventWriter(log, backoff=FAST)
        manager = RunManager(runs, log, writer, {"simulated": executor}, backoff=FAST)
        made.append(manager)
        return manager

    yield build
    log.open.set()
    log.down = False
    for manager in made:
        manager.shutdown(5)


def start(manager, params=None):
    return manager.start(RunRequest("write a report", "simulated", params=params))


def kinds(log, run_id):
    return [(s.category.value, s.action) for s in log.read(run_id, limit=10_000)]


def test_a_run_plays_its_executor_and_ends_with_one_terminal_event_last(
    runs, log, make
):
    sent = [token("a"), token("b"), event(Category.DISPATCH, "assigned")]
    manager = make(Scripted(sent, result={"answer": 42}))

    run = start(manager)
    assert manager.join(run.id, 5)

    stored = log.read(run.id)
    assert [s.event for s in stored[1:-1]] == sent
    assert kinds(log, run.id)[0] == ("lifecycle", "started")
    assert kinds(log, run.id)[-1] == ("lifecycle", "completed")
    assert stored[-1].event.data["result"] == {"answer": 42}
    ended = runs.get(run.id)
    assert ended.status is RunStatus.COMPLETED
    assert ended.result == {"answer": 42}
    assert ended.completed_at is not None


def test_the_runs_statistics_count_its_whole_log(runs, log, make):
    manager = make(Scripted([token("a"), token("b", "writer"), event()]))

    run = start(manager)
    assert manager.join(run.id, 5)

    statistics = runs.get(run.id).statistics
    expected = {"lifecycle": 2, "llm": 2, "dispatch": 0, "system": 1}
    assert statistics["events"] == expected
    assert statistics["events_total"] == len(log.read(run.id)) == 5
    assert statistics["tokens_streamed"] == 2
    assert statistics["agents"] == 2
    assert statistics["duration_ms"] >= 0
    assert log.read(run.id)[-1].event.data["statistics"] == statistics


def test_the_topology_from_prepare_is_stored_with_the_run(runs, make):
    manager = make(Scripted())

    run = start(manager)

    assert run.topology_snapshot == {"agent_id": "solo", "children": []}
    assert runs.get(run.id).topology_snapshot == run.topology_snapshot


def test_bad_params_are_refused_before_any_run_is_created(runs, make):
    manager = make(Scripted())

    with pytest.raises(InvalidRequest, match="params.bad"):
        start(manager, {"bad": 1})

    assert runs.list() == []


def test_an_executor_that_raises_fails_the_run_with_its_error(runs, log, make):
    manager = make(Scripted([token("a")], error=RuntimeError("model exploded")))

    run = start(manager)
    assert manager.join(run.id, 5)

    terminal = log.read(run.id)[-1]
    assert kinds(log, run.id) == [
        ("lifecycle", "started"),
        ("llm", "stream"),
        ("lifecycle", "failed"),
    ]
    assert terminal.event.data["error"] == "RuntimeError: model exploded"
    assert runs.get(run.id).status is RunStatus.FAILED
    assert runs.get(run.id).error == "RuntimeError: model exploded"


def test_an_executor_cannot_write_the_services_own_lifecycle_events(runs, log, make):
    manager = make(Scripted([completed()]))

    run = start(manager)
    assert manager.join(run.id, 5)

    assert kinds(log, run.id) == [("lifecycle", "started"), ("lifecycle", "failed")]
    assert "written by the service" in runs.get(run.id).error


def test_cancel_ends_a_running_run_as_cancelled_within_a_second(runs, log, make):
    executor = UntilCancelled()
    manager = make(executor)
    cancel = CancelRun(runs, log, on_cancel=manager.cancel)
    run = start(manager)
    assert executor.running.wait(5)

    began = time.monotonic()
    cancelled = cancel.execute(run.id)
    took = time.monotonic() - began

    assert_within(took, 5.0, "cancelling a run that waits 30 s for it")
    assert cancelled.run.status is RunStatus.CANCELLED
    assert kinds(log, run.id) == [
        ("lifecycle", "started"),
        ("llm", "stream"),
        ("lifecycle", "cancelled"),
    ]
    assert runs.get(run.id).result is None


def test_a_run_not_executed_here_is_cancelled_by_cancel_run_itself(runs, log, make):
    manager = make(Scripted())
    external = StartRun(runs, log).execute(RunRequest("t", "external"))

    handled = manager.cancel(external.id)
    cancelled = CancelRun(runs, log, on_cancel=manager.cancel).execute(external.id)

    assert not handled
    assert cancelled.run.status is RunStatus.CANCELLED
    assert kinds(log, external.id)[-1] == ("lifecycle", "cancelled")


def test_a_keyed_cancel_retried_after_the_run_ended_itself_answers_the_first(
    runs, log, make
):
    executor = UntilCancelled()
    manager = make(executor)
    cancel = CancelRun(runs, log, on_cancel=manager.cancel)
    run = start(manager)
    assert executor.running.wait(5)
    key = Idempotency("cancel-1", "digest")
    first = cancel.execute(run.id, idempotency=key)
    assert manager.join(run.id, 5)

    again = cancel.execute(run.id, idempotency=key)

    assert first.run.status is RunStatus.CANCELLED and not first.replayed
    assert again.replayed and again.run.status is RunStatus.CANCELLED
    assert kinds(log, run.id)[-1] == ("lifecycle", "cancelled")
    with pytest.raises(RunNotActive):
        cancel.execute(run.id, idempotency=Idempotency("cancel-2", "digest"))


def test_a_keyed_cancel_of_a_run_that_completed_first_is_refused_each_time(
    runs, log, make
):
    manager = make(Scripted(result={"answer": 42}))
    cancel = CancelRun(runs, log, on_cancel=manager.cancel)
    run = start(manager)
    assert manager.join(run.id, 5)
    key = Idempotency("cancel-late", "digest")

    with pytest.raises(RunNotActive):
        cancel.execute(run.id, idempotency=key)
    with pytest.raises(RunNotActive):
        cancel.execute(run.id, idempotency=key)
    assert runs.get(run.id).status is RunStatus.COMPLETED


def test_the_terminal_event_waits_for_events_still_queued(runs, log, make):
    executor = Scripted([token(f"t{n}") for n in range(100)], go=threading.Event())
    manager = make(executor)
    run = start(manager)
    log.open.clear()
    executor.go.set()

    assert executor.returned.wait(5)
    still_running = runs.get(run.id).status
    log.open.set()
    assert manager.join(run.id, 5)

    assert still_running is RunStatus.RUNNING
    assert [s.sequence for s in log.read(run.id)] == list(range(1, 103))
    assert kinds(log, run.id)[-1] == ("lifecycle", "completed")


def test_a_run_goes_on_while_the_log_is_down_and_ends_once_it_returns(runs, log, make):
    executor = Scripted([token(f"t{n}") for n in range(50)], go=threading.Event())
    manager = make(executor)
    run = start(manager)
    log.down = True
    executor.go.set()

    assert executor.returned.wait(5)
    wait_until(lambda: manager.stats().writer.retries >= 2)
    status_while_down = runs.get(run.id).status
    log.down = False
    assert manager.join(run.id, 5)

    assert status_while_down is RunStatus.RUNNING
    assert len(log.read(run.id)) == 52
    assert runs.get(run.id).status is RunStatus.COMPLETED


def test_shutdown_ends_running_runs_as_interrupted_and_stores_their_events(
    runs, log, make
):
    executor = UntilCancelled()
    manager = make(executor)
    run = start(manager)
    assert executor.running.wait(5)

    clean = manager.shutdown(5)

    assert clean
    assert runs.get(run.id).status is RunStatus.FAILED
    assert runs.get(run.id).error == INTERRUPTED
    assert kinds(log, run.id) == [
        ("lifecycle", "started"),
        ("llm", "stream"),
        ("lifecycle", "failed"),
    ]


def test_no_run_starts_once_the_manager_is_shutting_down(runs, make):
    manager = make(Scripted())
    manager.shutdown(1)

    with pytest.raises(StorageUnavailable):
        start(manager)

    assert runs.list() == []


def test_stats_count_runs_by_how_they_ended(make):
    manager = make(Scripted([token()], error=RuntimeError("x")))
    for _ in range(2):
        assert manager.join(start(manager).id, 5)

    stats = manager.stats()

    assert stats.runs_started == 2
    assert stats.active_runs == 0
    assert stats.runs_ended == {"failed": 2}
    assert stats.writer.events_written == 2


class Ticking:
    """Emits a token every few milliseconds until cancelled."""

    def __init__(self):
        self.running = threading.Event()

    def prepare(self, params):
        return None

    def run(self, run, sink, cancel):
        while True:
            sink.emit(token("tick"))
            self.running.set()
            if cancel.wait(0.005):
                return None


def test_a_run_cancelled_by_another_process_stops_at_its_next_write(runs, log, make):
    executor = Ticking()
    manager = make(executor)
    run = start(manager)
    assert executor.running.wait(5)

    CancelRun(runs, log).execute(run.id)
    stopped = manager.join(run.id, 5)

    assert stopped
    assert runs.get(run.id).status is RunStatus.CANCELLED
    assert [k for k in kinds(log, run.id) if k[0] == "lifecycle"] == [
        ("lifecycle", "started"),
        ("lifecycle", "cancelled"),
    ]
    assert kinds(log, run.id)[-1] == ("lifecycle", "cancelled")
