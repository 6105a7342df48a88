"""StartRun: create a run record and open its log with `lifecycle.started`."""

from __future__ import annotations

from dataclasses import dataclass

from runstream.domain.errors import InvalidRequest, StorageUnavailable
from runstream.domain.model import Category, JsonObject, NewEvent, Run, RunStatus
from runstream.domain.ports import EventLog, RunRepository

EXECUTORS = ("simulated", "external")
MAX_TASK_CHARS = 10_000


@dataclass(frozen=True)
class RunRequest:
    task: str
    executor: str
    hierarchy_id: int | None = None
    params: JsonObject | None = None
    tenant: str | None = None


def started_event(run: Run) -> NewEvent:
    data: JsonObject = {"task": run.task, "executor": run.executor}
    if run.hierarchy_id is not None:
        data["hierarchy_id"] = run.hierarchy_id
    return NewEvent.build(Category.LIFECYCLE, "started", data)


class StartRun:
    """Create a run and append its first event, `lifecycle.started`."""

    def __init__(self, runs: RunRepository, events: EventLog) -> None:
        self._runs = runs
        self._events = events

    def execute(self, request: RunRequest) -> Run:
        """The running run. If its first event cannot be stored, the run is
        recorded as failed and StorageUnavailable propagates."""
        _check(request)
        run = self._runs.add(
            Run(
                task=request.task,
                hierarchy_id=request.hierarchy_id,
                executor=request.executor,
                params=dict(request.params or {}),
                tenant=request.tenant,
            )
        )
        running = run.transition(RunStatus.RUNNING)
        try:
            self._events.append(run.id, [started_event(running)])
        except StorageUnavailable as err:
            failed = run.finished(RunStatus.FAILED, error=f"event log: {err}")
            self._runs.update(failed, expected=RunStatus.PENDING)
            raise
        return self._runs.update(running, expected=RunStatus.PENDING)


def _check(request: RunRequest) -> None:
    if (
        not isinstance(request.task, str)
        or not 1 <= len(request.task) <= MAX_TASK_CHARS
    ):
        raise InvalidRequest(f"task must be a string of 1 to {MAX_TASK_CHARS} chars")
    if request.executor not in EXECUTORS:
        raise InvalidRequest(f"executor must be one of: {', '.join(EXECUTORS)}")
