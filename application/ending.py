"""Ending a run: one terminal event, one status change, expiry started."""

from __future__ import annotations

from dataclasses import dataclass

from runstream.domain.errors import (
    DomainError,
    InvalidTransition,
    RunNotActive,
    StorageUnavailable,
)
from runstream.domain.model import (
    Category,
    Idempotency,
    JsonObject,
    JsonValue,
    NewEvent,
    Run,
    RunStatus,
    StoredEvent,
)
from runstream.domain.ports import EventLog, RunRepository

TERMINAL_ACTION = {
    RunStatus.COMPLETED: "completed",
    RunStatus.FAILED: "failed",
    RunStatus.CANCELLED: "cancelled",
}
STATUS_OF_ACTION = {action: status for status, action in TERMINAL_ACTION.items()}


@dataclass(frozen=True)
class Ended:
    """The ended run; `replayed` when the request repeated an idempotency key
    whose terminal event was already stored (nothing was stored now)."""

    run: Run
    replayed: bool = False


def terminal_event(
    status: RunStatus,
    result: JsonValue,
    error: str | None,
    statistics: JsonObject | None,
) -> NewEvent:
    data: JsonObject = {"status": status.value}
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
    idempotency: Idempotency | None = None,
) -> Ended:
    """Append the terminal event, then record the outcome and start expiry.

    The log decides: a terminal event closes it, so of two racing finishers
    only one stores one, and the run record follows the log. The record is
    never rolled back: when the append's outcome is unknown (StorageUnavailable)
    the run stays as it was, and a retry finds the log closed and records the
    outcome its terminal event holds (RunNotActive for a retry without a key;
    with the same key the retry answers as the first time would have).
    """
    if run.status.is_terminal and idempotency is None:
        raise RunNotActive(f"run {run.id} has already {run.status.value}")
    ending = terminal_event(status, result, error, statistics)
    try:
        stored = events.append(run.id, [ending], idempotency)
    except RunNotActive:
        settle(runs, events, run)
        raise
    except StorageUnavailable:
        if not _landed(events, run, ending):
            raise
        stored = None
    ended = _record(runs, run, stored[0] if stored else None, ending)
    events.finish(run.id)
    return Ended(ended, replayed=bool(stored and stored.replayed))


def settle(runs: RunRepository, events: EventLog, run: Run) -> Run:
    """The run with the outcome of its log's terminal event (if the record does
    not have it yet), and the log's expiry started."""
    info = events.info(run.id)
    if info is None or not info.closed:
        return run
    last = events.read(run.id, info.last_id, info.last_id, 1)
    settled = _record(runs, run, last[0] if last else None, None)
    events.finish(run.id)
    return settled


def _landed(events: EventLog, run: Run, ending: NewEvent) -> bool:
    """Whether the log ends with `ending` (an append whose reply was lost)."""
    try:
        info = events.info(run.id)
        if info is None or not info.closed:
            return False
        last = events.read(run.id, info.last_id, info.last_id, 1)
    except DomainError:
        return False
    return bool(last) and last[0].event == ending


def _record(
    runs: RunRepository, run: Run, stored: StoredEvent | None, ending: NewEvent | None
) -> Run:
    """Record the outcome of the terminal event (`stored`, else `ending`)."""
    event = stored.event if stored is not None else ending
    current = runs.get(run.id)
    if event is None or current.status.is_terminal:
        return current
    data = event.data
    raw_statistics = data.get("statistics")
    raw_error = data.get("error")
    ended = current.finished(
        STATUS_OF_ACTION[event.action],
        result=data.get("result"),
        error=raw_error if isinstance(raw_error, str) else None,
        statistics=raw_statistics if isinstance(raw_statistics, dict) else None,
    )
    try:
        return runs.update(ended, expected=current.status)
    except InvalidTransition:
        return runs.get(run.id)
