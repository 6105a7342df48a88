"""Ending a run: one terminal event, one status change, expiry started."""

from __future__ import annotations

from runstream.domain.errors import RunNotActive, StorageUnavailable
from runstream.domain.model import (
    Category,
    JsonObject,
    JsonValue,
    NewEvent,
    Run,
    RunStatus,
)
from runstream.domain.ports import EventLog, RunRepository

TERMINAL_ACTION = {
    RunStatus.COMPLETED: "completed",
    RunStatus.FAILED: "failed",
    RunStatus.CANCELLED: "cancelled",
}


def terminal_event(
    status: RunStatus,
    result: JsonValue,
    error: str | None,
    statistics: JsonObject | None,
    reason: str | None = None,
) -> NewEvent:
    data: JsonObject = {"status": status.value}
    if reason is not None:
        data["reason"] = reason
    if result is not None:
        data["result"] = result
    if error is not None:
        data["error"] = error
    if statistics is not None:
        data["statistics"] = statistics
    return NewEvent.build(Category.LIFECYCLE, TERMINAL_ACTION[status], data)


def end_run(
    runs: RunRepository,
    events: EventLog,
    run: Run,
    status: RunStatus,
    *,
    result: JsonValue = None,
    error: str | None = None,
    statistics: JsonObject | None = None,
    reason: str | None = None,
) -> Run:
    """Record the outcome, then append the terminal event and start expiry.

    The status changes first, by compare-and-set, so of two racing finishers only
    one appends a terminal event. If the event log is down the change is undone
    and StorageUnavailable propagates: the run stays active and can be ended again.
    """
    if run.status.is_terminal:
        raise RunNotActive(f"run {run.id} has already {run.status.value}")
    ended = runs.update(
        run.finished(status, result=result, error=error, statistics=statistics),
        expected=run.status,
    )
    try:
        terminal = terminal_event(status, result, error, statistics, reason)
        events.append(run.id, [terminal])
    except StorageUnavailable:
        runs.update(run, expected=status)
        raise
    events.finish(run.id)
    return ended
