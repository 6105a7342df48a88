"""Part of a run a reader asked for, and one history page of it (docs/contract.md
§4, Reading part of a run): the selected events, the replay optionally coalesced.

A page holds at most `limit` delivered events (a coalesced group counts once).
Its `next_id` is the id of the first raw event of the next delivered event, so
following `next_id` rebuilds exactly the same events: nothing is delivered twice,
nothing selected is skipped, and a coalesced group is never cut by a page end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from runstream.application.coalescing import Coalescer, coalescing_wanted
from runstream.application.event_selection import EVERYTHING, EventSelection
from runstream.domain.ids import EventId
from runstream.domain.model import RunId, StoredEvent
from runstream.domain.ports import EventLog, SelectiveEventLog

MAX_CHUNK = 10_000
# Raw events one page request reads at most: a selection matching nothing in a
# huge log answers an empty page with `next_id` instead of scanning it all.
MAX_SCAN = 100_000


@dataclass(frozen=True, slots=True)
class RunPart:
    """`agent_id=`/`category=` (selection) and `coalesce=llm.stream`."""

    selection: EventSelection = EVERYTHING
    coalesce: bool = False

    @classmethod
    def parse(
        cls,
        agent_ids: Iterable[str],
        categories: Iterable[str],
        coalesce: Iterable[str],
    ) -> RunPart:
        """From query values; InvalidRequest names a bad one."""
        return cls(
            EventSelection.parse(agent_ids, categories), coalescing_wanted(coalesce)
        )

    @property
    def whole(self) -> bool:
        return self.selection.selects_all and not self.coalesce


WHOLE_RUN = RunPart()


@dataclass(slots=True)
class PartPage:
    """Delivered events of one page, built raw event by raw event."""

    part: RunPart
    limit: int
    events: list[StoredEvent] = field(default_factory=list)
    started: int = 0
    next_id: EventId | None = None
    coalescer: Coalescer = field(default_factory=Coalescer)

    def take(self, event: StoredEvent) -> bool:
        """Add a raw event; False (leaving it out) when it would begin one
        delivered event more than the page holds."""
        if not self.part.selection.keeps(event):
            return True
        new = not self.part.coalesce or self.coalescer.starts_group(event)
        if new and self.started == self.limit:
            self.next_id = event.id
            return False
        self.started += new
        if self.part.coalesce:
            self.events.extend(self.coalescer.push(event))
        else:
            self.events.append(event)
        return True

    def done(self) -> list[StoredEvent]:
        self.events.extend(self.coalescer.flush())
        return self.events


RangeRead = Callable[[RunId, EventId, EventId, int], list[StoredEvent]]


def range_reader(log: EventLog, selection: EventSelection) -> RangeRead:
    """`log.read`, or where the log can select events itself, its read of the
    selected ones only (the events left out then cost the reader nothing)."""
    if selection.selects_all or not isinstance(log, SelectiveEventLog):
        return log.read
    agents, categories = selection.agent_ids, selection.categories

    def read(
        run_id: RunId, start: EventId, end: EventId, limit: int
    ) -> list[StoredEvent]:
        return log.read_selected(run_id, start, end, limit, agents, categories)

    return read


def read_part(
    log: EventLog,
    run_id: RunId,
    span: tuple[EventId, EventId],
    limit: int,
    part: RunPart,
) -> tuple[PartPage, int]:
    """The page of `part` with start <= id <= end, and how many events were
    read (0: the log holds nothing of the part in the span)."""
    start, end = span
    page = PartPage(part, limit)
    chunk, scanned = limit + 1, 0
    read = range_reader(log, part.selection)
    while scanned < MAX_SCAN:
        raw = read(run_id, start, end, chunk)
        scanned += len(raw)
        if not all(page.take(event) for event in raw) or len(raw) < chunk:
            page.done()
            return page, scanned
        start, chunk = raw[-1].id.successor(), min(chunk * 2, MAX_CHUNK)
    following = read(run_id, start, end, 1)
    page.next_id = following[0].id if following else None
    page.done()
    return page, scanned
