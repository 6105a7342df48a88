"""FollowRunPart: the live stream of part of a run (docs/contract.md §4, Reading
part of a run) on top of FollowRun.

The live feed is FollowRun's, read once for the run whatever the subscriber
asked for (so a fan-out hub keeps one read per run): this only drops the events
outside the selection and coalesces the replay. Gaps are FollowRun's, found on
the raw log, so a filtered-out event is never a gap. The terminal event always
passes the selection, so a filtered stream still ends after it.

On a log that selects events itself (SelectiveEventLog) and still holds the
run from its first event, the replay up to the head the log had when the
stream began reads the selected events only; FollowRun takes over from that
head (or earlier, from the last event delivered, should the log trim the
events being read: FollowRun then tells the gap).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from runstream.application.coalescing import Coalescer
from runstream.application.follow_run import (
    REPLAY_PAGE,
    FeedItem,
    FollowRun,
    LiveWait,
)
from runstream.application.run_part import WHOLE_RUN, RunPart, range_reader
from runstream.domain.ids import MIN_ID, EventId
from runstream.domain.model import RunId, StoredEvent
from runstream.domain.ports import EventLog, SelectiveEventLog


class ReplayEnd:
    """A LiveWait in front of another that marks where the replay ends.

    FollowRun waits live only once it has replayed everything kept; the first
    wait returns nothing at once, so the feed yields Idle and the last coalesced
    group of the replay is delivered before anything blocks.
    """

    def __init__(self, live: LiveWait) -> None:
        self._live = live
        self.reached = False

    def wait(
        self, cursors: Mapping[RunId, EventId], timeout: float, limit: int = 1000
    ) -> dict[RunId, list[StoredEvent]]:
        if not self.reached:
            self.reached = True
            return {}
        return self._live.wait(cursors, timeout, limit)


def part_feed(
    feed: Iterator[FeedItem], part: RunPart, replay: ReplayEnd | None
) -> Iterator[FeedItem]:
    """`feed` with only the selected events, and (given `replay`) its events
    coalesced until the replay ends; live events pass as they are."""
    coalescer = Coalescer()
    for item in feed:
        if not isinstance(item, StoredEvent):
            yield from coalescer.flush()
            yield item
        elif not part.selection.keeps(item):
            continue
        elif replay is None or replay.reached:
            yield from coalescer.flush()
            yield item
        else:
            yield from coalescer.push(item)
    yield from coalescer.flush()


def selected_head(
    follow: FollowRun, run_id: RunId, after: EventId | None, part: RunPart
) -> EventId | None:
    """Where a replay of the selected events only can end (the log's head now),
    or None when the log cannot select or its replay must go through FollowRun
    (nothing kept, its oldest events gone, or nothing after `after`)."""
    log = follow.events
    if part.selection.selects_all or not isinstance(log, SelectiveEventLog):
        return None
    info = log.info(run_id)
    if info is None or info.first_sequence != 1:
        return None
    if after is not None and after >= info.last_id:
        return None
    return info.last_id


def holds_from(log: EventLog, run_id: RunId, start: EventId) -> bool:
    """Whether the log still holds its events from `start` on: checked after a
    selected read, it tells the read missed nothing (a log that trims its
    oldest events, a Redis hot window, may have trimmed them meanwhile)."""
    info = log.info(run_id)
    return info is not None and (info.first_sequence == 1 or info.first_id <= start)


def selected_then_live(
    follow: FollowRun,
    run_id: RunId,
    span: tuple[EventId | None, EventId],
    part: RunPart,
    options: dict[str, Any],
) -> Iterator[FeedItem]:
    """The selected events after `after` up to `head`, then FollowRun's feed
    after `head` (which ends at once when the replay held the terminal event).
    Should the log lose the events being read, FollowRun replays from the last
    event delivered instead, and tells the gap."""
    cursor, head = span
    read = range_reader(follow.events, part.selection)
    while True:
        start = MIN_ID if cursor is None else cursor.successor()
        batch = read(run_id, start, head, REPLAY_PAGE)
        if not holds_from(follow.events, run_id, start):
            break
        yield from batch
        if batch and batch[-1].is_terminal:
            return
        if len(batch) < REPLAY_PAGE:
            cursor = head
            break
        cursor = batch[-1].id
    yield from follow.execute(run_id, cursor, **options)


class FollowRunPart:
    """FollowRun.execute for part of a run; `follow(live=...)` builds FollowRun."""

    def __init__(self, follow: Callable[..., FollowRun], live: LiveWait) -> None:
        self._follow = follow
        self._live = live

    def execute(
        self,
        run_id: RunId,
        after: EventId | None = None,
        part: RunPart = WHOLE_RUN,
        *,
        from_live: bool = False,
        idle_seconds: float = 15.0,
        tenant: str | None = None,
    ) -> Iterator[FeedItem]:
        """Check the run now (RunNotFound, RunExpired), then return the feed."""
        replay = ReplayEnd(self._live) if part.coalesce else None
        follow = self._follow(live=replay or self._live)
        options: dict[str, Any] = {"idle_seconds": idle_seconds, "tenant": tenant}
        feed = follow.execute(run_id, after, from_live=from_live, **options)
        if part.whole:
            return feed
        head = None if from_live else selected_head(follow, run_id, after, part)
        if head is not None:
            span = (after, head)
            feed = selected_then_live(follow, run_id, span, part, options)
        return part_feed(feed, part, replay)
