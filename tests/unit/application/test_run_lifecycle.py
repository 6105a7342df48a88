import threading

import pytest

from runstream.application.append_events import AppendEvents
from runstream.application.cancel_run import CancelRun
from runstream.application.finish_run import FinishRun
from runstream.application.start_run import RunRequest, StartRun
from runstream.domain.errors import (
    InvalidEvent,
    InvalidRequest,
    RunNotActive,
    RunNotFound,
)
from runstream.domain.model import RunStatus
from tests.factories import completed, started, token
from tests.support.polling import joined


def start(runs, events, tenant=None):
    return StartRun(runs, events).execute(RunRequest("task", "external", tenant=tenant))


def test_start_records_a_running_run_whose_log_opens_with_started(runs, events):
    run = start(runs, events)

    logged = events.read(run.id)
    assert run.status is RunStatus.RUNNING
    assert [(e.category.value, e.action) for e in logged] == [("lifecycle", "started")]


@pytest.mark.parametrize(
    "request_",
    [
        RunRequest("", "external"),
        RunRequest("x" * 10_001, "external"),
        RunRequest("t", "remote"),
    ],
)
def test_start_rejects_a_bad_request(runs, events, request_):
    with pytest.raises(InvalidRequest):
        StartRun(runs, events).execute(request_)


def test_append_stores_a_batch_after_started(runs, events):
    run = start(runs, events)

    stored = AppendEvents(runs, events).execute(run.id, [token(), token()])

    assert [e.sequence for e in stored] == [2, 3]


@pytest.mark.parametrize("reserved", [started, completed])
def test_append_refuses_lifecycle_events_the_service_owns(runs, events, reserved):
    run = start(runs, events)

    with pytest.raises(InvalidEvent):
        AppendEvents(runs, events).execute(run.id, [token(), reserved()])

    assert len(events.read(run.id)) == 1


@pytest.mark.parametrize("size", [0, 1001])
def test_append_refuses_empty_or_oversized_batches(runs, events, size):
    run = start(runs, events)

    with pytest.raises(InvalidRequest):
        AppendEvents(runs, events).execute(run.id, [token()] * size)


def test_append_to_another_tenants_run_looks_like_a_missing_run(runs, events):
    run = start(runs, events, tenant="acme")

    with pytest.raises(RunNotFound):
        AppendEvents(runs, events).execute(run.id, [token()], tenant="globex")


def test_finish_appends_one_terminal_event_and_records_the_outcome(runs, events):
    run = start(runs, events)

    done = FinishRun(runs, events).execute(
        run.id, RunStatus.COMPLETED, result={"answer": 42}, statistics={"n": 1}
    )

    last = events.read(run.id)[-1]
    assert done.run.status is RunStatus.COMPLETED and done.run.result == {"answer": 42}
    assert (last.action, last.event.data["result"]) == ("completed", {"answer": 42})
    assert events.info(run.id).closed


def test_append_after_finish_is_refused(runs, events):
    run = start(runs, events)
    FinishRun(runs, events).execute(run.id, RunStatus.FAILED, error="boom")

    with pytest.raises(RunNotActive):
        AppendEvents(runs, events).execute(run.id, [token()])


def test_append_right_after_a_finish_is_refused_by_the_same_appender(runs, events):
    run = start(runs, events)
    append = AppendEvents(runs, events)
    append.execute(run.id, [token()])
    FinishRun(runs, events).execute(run.id, RunStatus.COMPLETED)

    with pytest.raises(RunNotActive):
        append.execute(run.id, [token()])


def test_a_remembered_run_stays_another_tenants_run(runs, events):
    run = start(runs, events, tenant="acme")
    append = AppendEvents(runs, events)
    append.execute(run.id, [token()], tenant="acme")

    with pytest.raises(RunNotFound):
        append.execute(run.id, [token()], tenant="globex")


def test_racing_finishers_end_the_run_exactly_once(runs, events):
    run = start(runs, events)
    outcomes = []
    barrier = threading.Barrier(8)

    def finisher():
        barrier.wait(10)
        try:
            FinishRun(runs, events).execute(run.id, RunStatus.COMPLETED)
            outcomes.append("ok")
        except RunNotActive:
            outcomes.append("refused")

    threads = [threading.Thread(target=finisher) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        joined(thread)

    terminal = [e for e in events.read(run.id) if e.is_terminal]
    assert sorted(outcomes) == ["ok"] + ["refused"] * 7
    assert len(terminal) == 1


def test_cancel_ends_the_run_with_cancelled(runs, events):
    run = start(runs, events)

    cancelled = CancelRun(runs, events).execute(run.id)

    assert cancelled.run.status is RunStatus.CANCELLED
    assert events.read(run.id)[-1].action == "cancelled"


def test_cancel_of_a_finished_run_is_refused(runs, events):
    run = start(runs, events)
    CancelRun(runs, events).execute(run.id)

    with pytest.raises(RunNotActive):
        CancelRun(runs, events).execute(run.id)


def test_finish_with_a_non_final_status_is_refused(runs, events):
    run = start(runs, events)

    with pytest.raises(InvalidRequest):
        FinishRun(runs, events).execute(run.id, RunStatus.RUNNING)
