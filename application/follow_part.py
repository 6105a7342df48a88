"""FollowRunPart: the live stream of part of a run (docs/contract.md §4, Reading
part of a run) on top of FollowRun.

The feed is FollowRun's, read once for the run whatever the subscriber asked for
(so a fan-out hub keeps one read per run): this only drops the events outside the
selection and coalesces the replay. Gaps are FollowRun's, found on the raw log, so
a filtered-out event is never a gap. The terminal event always passes the
selection, so a filtered stream still ends after it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from runstream.application.coalescing import Coalescer
from runstream.application.follow_run import FeedItem, FollowRun, LiveWait
from runstream.application.run_part import WHOLE_RUN, RunPart
from runstream.domain.ids import EventId
from runstream.domain.model import RunId, StoredEvent


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
        feed = self._follow(live=replay or self._live).execute(
            run_id,
            after,
            from_live=from_live,
            idle_seconds=idle_seconds,
            tenant=tenant,
        )
        return feed if part.whole else part_feed(feed, part, replay)
