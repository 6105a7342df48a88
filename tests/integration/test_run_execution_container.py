"""The container's wiring of run execution, on the in-memory adapters."""

from __future__ import annotations

import pytest

from runstream.application.start_run import RunRequest
from runstream.domain.errors import InvalidRequest
from runstream.domain.model import RunStatus
from runstream.entrypoints.container import build_container

QUICK = {"teams": 2, "workers_per_team": 2, "tokens_per_worker": 40, "think_ms": 0}


@pytest.fixture
def container():
    made = build_container(
        {"RUNSTREAM_EVENT_LOG": "memory", "RUNSTREAM_RUN_REPOSITORY": "memory"}
    )
    yield made
    made.run_manager().shutdown(5)


def actions(container, run_id):
    return [s.action for s in container.event_log().read(run_id, limit=10_000)]


def test_start_run_plays_a_simulated_run_in_the_background(container):
    run = container.launch_run().execute(
        RunRequest("t", "simulated", params={**QUICK, "chunk_delay_ms": 0})
    )

    ended = container.run_manager().join(run.id, 10)

    record = container.get_run().execute(run.id)
    assert ended
    assert run.status is RunStatus.RUNNING
    assert run.topology_snapshot["agent_id"] == "supervisor"
    assert record.status is RunStatus.COMPLETED
    assert record.statistics["events_total"] == len(actions(container, run.id))


def test_start_run_refuses_bad_simulated_params_with_a_clear_message(container):
    request = RunRequest("t", "simulated", params={"teams": 100})

    with pytest.raises(InvalidRequest, match="params.teams"):
        container.launch_run().execute(request)


def test_cancel_run_stops_a_simulated_run_through_the_run_manager(container):
    run = container.launch_run().execute(
        RunRequest("t", "simulated", params={**QUICK, "chunk_delay_ms": 5_000})
    )

    cancelled = container.cancel_run().execute(run.id)

    assert cancelled.run.status is RunStatus.CANCELLED
    assert actions(container, run.id)[-1] == "cancelled"
    assert container.run_manager().stats().runs_ended == {"cancelled": 1}


def test_external_runs_start_and_cancel_as_before(container):
    run = container.launch_run().execute(RunRequest("t", "external"))

    cancelled = container.cancel_run().execute(run.id)

    assert actions(container, run.id) == ["started", "cancelled"]
    assert cancelled.run.status is RunStatus.CANCELLED
    assert container.run_manager().stats().runs_started == 0


def test_the_run_manager_and_its_writer_are_one_per_container(container):
    assert container.run_manager() is container.run_manager()
    assert container.event_writer() is container.event_writer()
    assert container.run_manager().shutdown(5)
