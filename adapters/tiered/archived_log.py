"""ArchivedEventLog: a hot window (Redis) over a complete archive (SQL)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from runstream.adapters.tiered.archiver import Archiver
from runstream.domain.ids import MAX_ID, MIN_ID, EventId
from runstream.domain.model import (
    Appended,
    Idempotency,
    LogInfo,
    NewEvent,
    RunId,
    StoredEvent,
)
from runstream.domain.ports import EventLog


def _before(position: EventId) -> EventId:
    """The greatest id below `position` (which is above 0-0)."""
    if position.seq > 0:
        return EventId(position.ms, position.seq - 1)
    return EventId(position.ms - 1, MAX_ID.seq)


class ArchivedEventLog:
    """Appends and live waits go to the hot log; every stored event is also
    written behind to the archive. Reads join the two seamlessly: whatever the
    hot window no longer holds (trimmed, or expired) comes from the archive, with
    the same ids, so one cursor pages across both tiers."""

    def __init__(self, hot: EventLog, archive: EventLog, archiver: Archiver) -> None:
        self._hot = hot
        self._archive = archive
        self.archiver = archiver

    def append(
        self,
        run_id: RunId,
        events: Sequence[NewEvent],
        idempotency: Idempotency | None = None,
    ) -> Appended:
        stored = self._hot.append(run_id, events, idempotency)
        self.archiver.add(run_id, stored)
        return stored

    def store(self, run_id: RunId, events: Sequence[StoredEvent]) -> int:
        added = self._hot.store(run_id, events)
        self.archiver.add(run_id, list(events))
        return added

    def read(
        self,
        run_id: RunId,
        start: EventId = MIN_ID,
        end: EventId = MAX_ID,
        limit: int = 1000,
    ) -> list[StoredEvent]:
        hot = self._hot.read(run_id, start, end, limit)
        if hot and (hot[0].sequence == 1 or hot[0].id <= start):
            return hot
        # The hot window starts at or before `start`: it holds the whole range.
        oldest = self._hot.read(run_id, MIN_ID, MAX_ID, 1)
        if oldest and oldest[0].id <= start:
            return hot
        if not hot:
            return self._archive.read(run_id, start, end, limit)
        older = self._archive.read(run_id, start, _before(hot[0].id), limit)
        return (older + hot)[:limit]

    def wait(
        self, cursors: Mapping[RunId, EventId], timeout: float, limit: int = 1000
    ) -> dict[RunId, list[StoredEvent]]:
        return self._hot.wait(cursors, timeout, limit)

    def finish(self, run_id: RunId) -> None:
        """The hot copy starts to expire only once the archive is complete."""
        self.archiver.finish(run_id)

    def info(self, run_id: RunId) -> LogInfo | None:
        hot = self._hot.info(run_id)
        if hot is None:
            return self._archive.info(run_id)
        if hot.first_sequence == 1:
            return hot
        cold = self._archive.info(run_id)
        if cold is None or cold.first_id >= hot.first_id:
            return hot
        return LogInfo(
            cold.first_id,
            cold.first_sequence,
            hot.last_id,
            hot.last_sequence,
            hot.last_sequence - cold.first_sequence + 1,
            hot.closed,
        )
