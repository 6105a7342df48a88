"""ReadEvents: one page of a run's history (docs/contract.md §4, History)."""

from __future__ import annotations

from dataclasses import dataclass

from runstream.application.run_part import WHOLE_RUN, RunPart, read_part
from runstream.application.visibility import visible_run
from runstream.domain.errors import InvalidRequest, RunExpired
from runstream.domain.ids import MAX_ID, MIN_ID, EventId
from runstream.domain.model import RunId, StoredEvent
from runstream.domain.ports import EventLog, RunRepository

MAX_PAGE = 10_000


@dataclass(frozen=True)
class EventPage:
    run_id: RunId
    events: list[StoredEvent]
    has_more: bool
    next_id: EventId | None


class ReadEvents:
    """Read events with start <= id <= end; `next_id` starts the next page."""

    def __init__(self, runs: RunRepository, events: EventLog) -> None:
        self._runs = runs
        self._events = events

    def execute(
        self,
        run_id: RunId,
        start: EventId = MIN_ID,
        end: EventId = MAX_ID,
        limit: int = 1000,
        tenant: str | None = None,
        part: RunPart = WHOLE_RUN,
    ) -> EventPage:
        """A page in log order. RunExpired once nothing of an ended run is kept."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidRequest(f"limit must be 1 to {MAX_PAGE}")
        run = visible_run(self._runs, run_id, tenant)
        if not part.whole:
            return self._part(run_id, run.status.is_terminal, start, end, limit, part)
        found = self._events.read(run_id, start, end, limit + 1)
        if not found and run.status.is_terminal and self._events.info(run_id) is None:
            raise RunExpired(f"the events of run {run_id} are no longer kept")
        has_more = len(found) > limit
        return EventPage(
            run_id,
            found[:limit],
            has_more,
            found[limit].id if has_more else None,
        )

    def _part(
        self,
        run_id: RunId,
        ended: bool,
        start: EventId,
        end: EventId,
        limit: int,
        part: RunPart,
    ) -> EventPage:
        page, scanned = read_part(self._events, run_id, (start, end), limit, part)
        if not scanned and ended and self._events.info(run_id) is None:
            raise RunExpired(f"the events of run {run_id} are no longer kept")
        return EventPage(run_id, page.events, page.next_id is not None, page.next_id)
