"""What the hub hands to a pushed subscriber: batches of one run's events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from runstream.application.recent_events import event_key
from runstream.domain.model import StoredEvent


@dataclass(frozen=True, eq=False)
class Batch:
    """Stored events of one run in log order, with their frames encoded once
    and joined once for every subscriber that takes the whole batch."""

    events: list[StoredEvent]
    frames: list[bytes]
    data: bytes
    first: int  # the first event's `event_key`
    # Read by every subscriber of the run: computed once, here.
    last: int = -1  # the last event's `event_key`
    first_sequence: int = 0
    last_sequence: int = 0
    terminal: bool = False  # the last event ends the run

    @classmethod
    def of(cls, items: list[tuple[StoredEvent, bytes]]) -> Batch:
        frames = [frame for _, frame in items]
        events = [event for event, _ in items]
        if not events:
            return cls(events, frames, b"", -1)
        head, tail = events[0], events[-1]
        return cls(
            events,
            frames,
            b"".join(frames),
            event_key(head.id),
            event_key(tail.id),
            head.sequence,
            tail.sequence,
            tail.is_terminal,
        )

    def after(self, cursor: int) -> tuple[list[StoredEvent], bytes]:
        """The events after the cursor (an `event_key`) and their frames joined."""
        events = self.events
        if self.first > cursor:
            return events, self.data
        start = next(
            (i for i, e in enumerate(events) if event_key(e.id) > cursor), len(events)
        )
        return events[start:], b"".join(self.frames[start:])


class LiveSubscriber(Protocol):
    """A connection the hub pushes to. The hub calls these outside its lock,
    one batch at a time per process and in log order per run; both must return
    at once (queue, never block) and must not call back into the hub."""

    def offer(self, batch: Batch) -> None:
        """New events of the subscribed run (some may be at or before the
        subscriber's cursor: it skips those)."""

    def end(self, error: Exception | None) -> None:
        """No more batches: the hub is closing (None) or the log failed."""
