"""Live waits on the tiered log that never jump over archived events.

After Redis lost a run and was re-seeded from the archive (only the archive's
newest event goes back, enough to continue ids and sequences), a wait from a
cursor before that event finds the re-seeded event next: the events between
are in the archive alone. Without a look at the archive a live subscriber saw
a `gap` where no event was missing. `WaitContinuity` remembers the last event
each run's waits returned; when the next batch does not continue it, the
missing span is read from the joined log (hot window, then archive).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from runstream.domain.ids import EventId
from runstream.domain.model import RunId, StoredEvent

REMEMBERED_RUNS = 10_000
Events = list[StoredEvent]
SpanRead = Callable[[RunId, EventId, EventId, int], Events]


class WaitContinuity:
    def __init__(self, read: SpanRead) -> None:
        """`read(run, start, end, limit)`: the joined log's events, inclusive."""
        self._read = read
        self._lock = threading.Lock()
        self._last: OrderedDict[RunId, tuple[EventId, int]] = OrderedDict()

    def continued(
        self, run_id: RunId, cursor: EventId, events: Events, limit: int
    ) -> Events:
        """`events` (found after `cursor`) with the events between `cursor`
        and them that the hot window lacks put first, up to `limit` in all."""
        if not events:
            return events
        before = self._sequence_at(run_id, cursor)
        first = events[0]
        if before is not None and first.sequence > before + 1:
            span = (cursor.successor(), first.id.predecessor())
            missing = self._read(run_id, *span, limit)
            events = (missing + events)[:limit]
        self._remember(run_id, events[-1])
        return events

    def _sequence_at(self, run_id: RunId, cursor: EventId) -> int | None:
        with self._lock:
            known = self._last.get(run_id)
        if known is not None and known[0] == cursor:
            return known[1]
        at = self._read(run_id, cursor, cursor, 1)
        return at[0].sequence if at else None

    def _remember(self, run_id: RunId, last: StoredEvent) -> None:
        with self._lock:
            self._last[run_id] = (last.id, last.sequence)
            self._last.move_to_end(run_id)
            if len(self._last) > REMEMBERED_RUNS:
                self._last.popitem(last=False)
