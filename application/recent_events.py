"""RecentEvents: one run's latest events with their encoded frames, bounded."""

from __future__ import annotations

import bisect

from runstream.domain.ids import EventId
from runstream.domain.model import StoredEvent


def event_key(event_id: EventId) -> int:
    """The id as one integer in the same order (compares far faster)."""
    return (event_id.ms << 64) | event_id.seq


class RecentEvents:
    """Exactly the events with floor < id <= head, in order.

    At most `max_events` events and `max_bytes` of frames are kept (always the
    newest one); dropping the oldest moves `floor` up and sets `trimmed`.
    """

    def __init__(self, start: EventId, max_events: int, max_bytes: int) -> None:
        self._max_events = max_events
        self._max_bytes = max_bytes
        self.reset(start)

    def reset(self, start: EventId) -> None:
        """Forget everything: the window starts again after `start`."""
        self.floor = self.head = start
        self.trimmed = False
        self.closed = False  # the terminal event is in: nothing will follow
        self._events: list[StoredEvent] = []
        self._keys: list[int] = []
        self._frames: dict[EventId, bytes] = {}
        self._bytes = 0

    def add(self, items: list[tuple[StoredEvent, bytes]]) -> None:
        """Append events that continue the window, with their frames."""
        for event, frame in items:
            self._events.append(event)
            self._keys.append(event_key(event.id))
            self._frames[event.id] = frame
            self._bytes += len(frame)
        if items:
            self.head = items[-1][0].id
            self.closed = items[-1][0].is_terminal
            self._trim()

    def behind(self, cursor: EventId) -> bool:
        """True when events after `cursor` were already dropped (or never held)."""
        return event_key(cursor) < event_key(self.floor)

    def after(self, cursor: EventId, limit: int, budget: int) -> list[StoredEvent]:
        """Up to `limit` events after `cursor` (at least one), within `budget`
        bytes of frames. The cursor must not be behind the window."""
        key = event_key(cursor)
        if key >= event_key(self.head):
            return []
        start = bisect.bisect_right(self._keys, key)
        events = self._events[start : start + max(limit, 1)]
        if len(events) == 1:
            return events
        for count, event in enumerate(events):
            budget -= len(self._frames.get(event.id, b""))
            if budget < 0 and count > 0:
                return events[:count]
        return events

    def frame(self, event_id: EventId) -> bytes | None:
        return self._frames.get(event_id)

    @property
    def size(self) -> int:
        """Bytes of frames held."""
        return self._bytes

    def shrink_to(self, max_bytes: int) -> None:
        """Drop the oldest events until at most `max_bytes` remain (or one)."""
        self._trim(max_bytes)

    def _trim(self, max_bytes: int | None = None) -> None:
        limit = self._max_bytes if max_bytes is None else max_bytes
        drop, size = 0, len(self._events)
        while size - drop > 1 and (
            size - drop > self._max_events or self._bytes > limit
        ):
            gone = self._events[drop]
            self._bytes -= len(self._frames.pop(gone.id, b""))
            drop += 1
        if drop:
            self.floor = self._events[drop - 1].id
            self.trimmed = True
            del self._events[:drop]
            del self._keys[:drop]
