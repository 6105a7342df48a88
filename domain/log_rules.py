"""The rules every event log follows when it assigns positions (contract.md §1-§2)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from runstream.domain.errors import InvalidRequest, RunNotActive
from runstream.domain.ids import EventId
from runstream.domain.model import NewEvent, RunId, StoredEvent

FIRST_ID_FLOOR = EventId(0, 1)


@dataclass(frozen=True)
class LogHead:
    """All the rules need to know of a log's last event: its position, and
    whether it closed the log. A log that keeps only its head passes this."""

    id: EventId
    sequence: int
    is_terminal: bool


# A log's last event, or just its head.
Last = LogHead | StoredEvent


def next_id(last: EventId | None, now_ms: int) -> EventId:
    """The id after `last` at wall-clock `now_ms`; never 0-0, always increasing."""
    if last is None:
        return EventId(now_ms, 0) if now_ms > 0 else FIRST_ID_FLOOR
    return last.next_for(now_ms)


def assign(
    run_id: RunId,
    last: Last | None,
    events: Sequence[NewEvent],
    now_ms: int,
) -> list[StoredEvent]:
    """Give `events` ids, sequences and one timestamp, continuing after `last`.

    Raises RunNotActive if the log is closed by a terminal event or the batch
    holds anything after its own terminal event.
    """
    if last is not None and last.is_terminal:
        raise RunNotActive(f"run {run_id} has finished; its log takes no more events")
    check_batch_order(run_id, events)
    position = None if last is None else last.id
    sequence = 0 if last is None else last.sequence
    stored = []
    for event in events:
        position = next_id(position, now_ms)
        sequence += 1
        stored.append(StoredEvent(position, run_id, sequence, now_ms, event))
    return stored


def check_batch_order(run_id: RunId, events: Sequence[NewEvent]) -> None:
    """A terminal event may only be the last of a batch."""
    for event in events[:-1]:
        if event.is_terminal:
            raise RunNotActive(f"run {run_id}: a terminal event must be the last one")


def new_continuation(
    last: Last | None, events: Sequence[StoredEvent]
) -> list[StoredEvent]:
    """The events of `events` that the log lacks, checked to continue it exactly."""
    fresh = [e for e in events if last is None or e.id > last.id]
    previous: Last | None = last
    for event in fresh:
        expected = 1 if previous is None else previous.sequence + 1
        if event.sequence != expected or (previous and event.id <= previous.id):
            raise InvalidRequest(
                f"event {event.id} (sequence {event.sequence}) does not continue the "
                f"log at sequence {expected - 1}"
            )
        if previous is not None and previous.is_terminal:
            raise RunNotActive(f"run {event.run_id} has finished")
        previous = event
    return fresh
