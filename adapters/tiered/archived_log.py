"""ArchivedEventLog: a hot window (Redis) over a complete archive (SQL)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from runstream.adapters.tiered.archiver import Archiver
from runstream.adapters.tiered.authority import (
    ArchiveLog,
    HotLog,
    KnownHeads,
    reseed,
)
from runstream.adapters.tiered.continuity import WaitContinuity
from runstream.adapters.tiered.observed import ObservedEvents, archive_observed
from runstream.domain.append_plan import AppendPlan
from runstream.domain.errors import (
    KeyNotIndexed,
    LogBehind,
    LogLost,
    StorageUnavailable,
)
from runstream.domain.idempotency import replay
from runstream.domain.ids import MAX_ID, MIN_ID, EventId
from runstream.domain.model import (
    Appended,
    Category,
    Idempotency,
    LogInfo,
    NewEvent,
    RunId,
    StoredEvent,
)

logger = logging.getLogger(__name__)
Events = list[StoredEvent]
RangeRead = Callable[[RunId, EventId, EventId, int], Events]
# Events not yet archived are a log's newest: a read remembers its last ones.
OBSERVED_TAIL = 100


class ArchivedEventLog:
    """Appends and live waits go to the hot log; every stored event is also
    written behind to the archive. Reads join the two seamlessly: whatever the
    hot window no longer holds (trimmed, expired, or lost) comes from the
    archive, with the same ids, so one cursor pages across both tiers.

    The archive is the authority on what was acknowledged (authority.py): an
    append never continues a hot stream that lost events the archive holds, and
    an idempotency key is looked up in the archive before the hot window.

    What it serves from the hot log above what it knows acknowledged is
    remembered a while (observed.py): `flush` archives it too, so an event a
    follower saw survives Redis losing it before its appender learnt it was
    stored."""

    def __init__(
        self,
        hot: HotLog,
        archive: ArchiveLog,
        archiver: Archiver,
        refresh_seconds: float = 5.0,
        observed: ObservedEvents | None = None,
    ) -> None:
        self._hot = hot
        self._archive = archive
        self.archiver = archiver
        self._heads = KnownHeads(refresh_seconds)
        self._observed = observed or ObservedEvents()
        self._continuity = WaitContinuity(self._joined_read)
        # In a fleet, other processes' archives may still queue what Redis
        # lost: the fleet flushes them all first (FleetTier.redis_lost), and
        # after Redis lost everything (FleetTier.redis_restarted) before it
        # calls `renew`; both raise StorageUnavailable until then.
        self.on_behind: Callable[[str], None] = lambda _why: None
        self.on_lost: Callable[[str], None] = lambda _why: None

    def append(
        self,
        run_id: RunId,
        events: Sequence[NewEvent],
        idempotency: Idempotency | None = None,
    ) -> Appended:
        try:
            return self._append(run_id, events, idempotency)
        except LogLost as lost:
            logger.warning("%s; the archive is made complete first", lost)
            self.on_lost(str(lost))
            self.flush(timeout=5.0)
            self.renew()
        return self._append(run_id, events, idempotency)

    def renew(self) -> None:
        """Redis lost every run (LogLost) and the archive now holds what any
        process acknowledged: learn Redis's new incarnation, and read each
        run's archived head again before its next append."""
        self._heads.forget_checks()
        self._hot.renew()

    def _append(
        self,
        run_id: RunId,
        events: Sequence[NewEvent],
        idempotency: Idempotency | None,
    ) -> Appended:
        plan = self._plan(run_id, events, idempotency)
        if isinstance(plan, Appended):
            return plan
        try:
            stored = self._hot_append(run_id, events, plan)
        except LogBehind as behind:
            logger.warning("%s; copying the archive's tail back", behind)
            self.on_behind(str(behind))
            self.flush(timeout=5.0)
            reseed(self._hot, self._archive, run_id, behind.last_id)
            stored = self._hot_append(run_id, events, replace(plan, gap=True))
        if stored:
            # A replay found in Redis may be a batch whose first reply was
            # lost: no archive queued it (the archive skips what it holds).
            self.archiver.add(run_id, list(stored))
            self._heads.saw(run_id, stored[-1].sequence)
        return stored

    def _hot_append(
        self, run_id: RunId, events: Sequence[NewEvent], plan: AppendPlan
    ) -> Appended:
        """The hot log's append; a key its index cannot vouch for (Redis lost
        or re-seeded the run, or trimmed the key's events) is looked up in the
        archive, then in the stream after what the archive holds."""
        if not plan.ask:
            return self._hot.append_planned(run_id, events, plan)
        try:
            return self._hot.append_planned(run_id, events, plan)
        except KeyNotIndexed:
            asked = self._asked(run_id, events, plan.idempotency)
        if isinstance(asked, Appended):
            return asked
        return self._hot.append_planned(run_id, events, replace(asked, gap=plan.gap))

    def flush(self, timeout: float = 5.0) -> bool:
        """Archive what is queued and what was served lately (before a switch
        of tiers, or once Redis lost events), within 1.5 x `timeout`; False if
        the queue was not."""
        flushed = self.archiver.flush(timeout)
        archive_observed(
            self._archive, self._observed.recent(self._heads.floor), timeout / 2
        )
        return flushed

    def _served(self, run_id: RunId, events: list[StoredEvent]) -> None:
        floor = self._heads.floor(run_id)
        if events and events[-1].sequence > floor:
            self._observed.saw(run_id, [e for e in events if e.sequence > floor])

    def _plan(
        self,
        run_id: RunId,
        events: Sequence[NewEvent],
        idempotency: Idempotency | None,
    ) -> AppendPlan | Appended:
        """The floor and where to look for the key, or the replay of a key the
        archive holds. A run's first event, or a run whose archived head is
        recent enough, costs no archive query: a key is then checked in the
        hot log's key index, and the archive asked only if the index cannot
        vouch for it (`_hot_append`)."""
        starts = bool(events) and events[0].is_start
        if idempotency is None and (starts or not self._heads.stale(run_id)):
            return AppendPlan(self._heads.floor(run_id))
        if not self._heads.stale(run_id):
            floor = self._heads.floor(run_id)
            return AppendPlan(floor, idempotency=idempotency, ask=True)
        return self._asked(run_id, events, idempotency)

    def _asked(
        self,
        run_id: RunId,
        events: Sequence[NewEvent],
        idempotency: Idempotency | None,
    ) -> AppendPlan | Appended:
        """`_plan` after asking the archive for the run's head and the key."""
        try:
            info = self._archive.info(run_id)
            kept = []
            if idempotency is not None:
                size = len(events)
                kept = self._archive.keyed_batch(run_id, idempotency.key, size)
        except StorageUnavailable as err:
            logger.warning("run %s: the archive cannot tell (%s)", run_id, err)
            return AppendPlan(self._heads.floor(run_id), idempotency=idempotency)
        if idempotency is not None and kept:
            return replay(run_id, idempotency, kept, len(events))
        archived = 0 if info is None else info.last_sequence
        self._heads.saw(run_id, archived, from_archive=True)
        keys_after = None if info is None else info.last_id
        return AppendPlan(self._heads.floor(run_id), False, idempotency, keys_after)

    def rewind(self, run_id: RunId, after: EventId) -> int:
        """The hot log's `rewind` (copy_back.py)."""
        return self._hot.rewind(run_id, after)

    def store(self, run_id: RunId, events: Sequence[StoredEvent]) -> int:
        added = self._hot.store(run_id, events)
        self.archiver.add(run_id, list(events))
        if events:
            self._heads.saw(run_id, events[-1].sequence)
        return added

    def read(
        self,
        run_id: RunId,
        start: EventId = MIN_ID,
        end: EventId = MAX_ID,
        limit: int = 1000,
    ) -> list[StoredEvent]:
        found = self._joined_read(run_id, start, end, limit)
        self._served(run_id, found[-OBSERVED_TAIL:])
        return found

    def _joined_read(
        self, run_id: RunId, start: EventId, end: EventId, limit: int
    ) -> list[StoredEvent]:
        """`read` without remembering what was served (a wait does that).
        When the hot copy ends early it may lack events the archive has (lost
        by Redis, or stored by another tier): the archive's head is read now,
        not from the cache appends use, so a read never stops short of it."""
        found = self._joined(run_id, start, end, limit)
        # Nothing found: the archive was asked already.
        if not found or len(found) >= limit or found[-1].id >= end:
            return found
        if found[-1].sequence >= self._archived_head(run_id):
            return found
        after = found[-1].id.successor()
        return found + self._archive.read(run_id, after, end, limit - len(found))

    def _joined(
        self, run_id: RunId, start: EventId, end: EventId, limit: int
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
        first = (hot[0].id, hot[0].sequence)
        older = self._older(run_id, start, first, limit, self._archive.read)
        return (older + hot)[:limit]

    # --- Never a hole where Redis trimmed what the archive has not copied yet.

    def _older(
        self,
        run_id: RunId,
        start: EventId,
        first: tuple[EventId, int],
        limit: int,
        read: RangeRead,
    ) -> list[StoredEvent]:
        """The archive's events from `start` up to the hot window's `first`
        (id, sequence), every one of them (at most `limit`). Redis trims
        whether or not the archiver copied the entries: when the archive does
        not reach `first`, this process's archiver is flushed; still short
        (another process's archiver holds them), StorageUnavailable unless the
        archive's part fills `limit` (a shorter answer would read as the end
        of the log, a hole-free join is impossible)."""
        end = first[0].predecessor()
        if not self._reaches(run_id, first[1]):
            logger.warning("run %s: the archive lags behind Redis; flushing", run_id)
            self.archiver.flush(timeout=5.0)
            if not self._reaches(run_id, first[1]):
                older = read(run_id, start, end, limit)
                if len(older) >= limit:
                    return older
                raise StorageUnavailable(
                    f"run {run_id}: the archive does not hold the events before"
                    f" sequence {first[1]} yet (Redis no longer has them)"
                )
        # The archive only grows: read now, it holds the whole span.
        return read(run_id, start, end, limit)

    def _reaches(self, run_id: RunId, sequence: int) -> bool:
        """Whether the archive holds the event before `sequence`."""
        info = self._archive.info(run_id)
        return info is not None and info.last_sequence >= sequence - 1

    def read_selected(
        self,
        run_id: RunId,
        start: EventId,
        end: EventId,
        limit: int,
        agent_ids: frozenset[str],
        categories: frozenset[Category],
    ) -> list[StoredEvent]:
        """`read`'s join, each tier reading only the selected events: the
        archive up to the hot window, the hot window, the archive after it."""
        if limit <= 0:
            return []

        def cold(run_id: RunId, start: EventId, end: EventId, limit: int) -> Events:
            return self._archive.read_selected(
                run_id, start, end, limit, agent_ids, categories
            )

        def hot(run_id: RunId, start: EventId, end: EventId, limit: int) -> Events:
            return self._hot.read_selected(
                run_id, start, end, limit, agent_ids, categories
            )

        for _attempt in range(3):
            found = self._selected_join(run_id, (start, end), limit, (cold, hot))
            if found is not None:
                return found
        raise StorageUnavailable(f"run {run_id}: the hot window moves too fast")

    def _selected_join(
        self,
        run_id: RunId,
        span: tuple[EventId, EventId],
        limit: int,
        reads: tuple[RangeRead, RangeRead],
    ) -> list[StoredEvent] | None:
        """One attempt of `read_selected`; None when Redis trimmed the range's
        start while it was read (its part may have missed events)."""
        (start, end), (cold, hot) = span, reads
        info = self._hot.info(run_id)
        if info is None:
            return cold(run_id, start, end, limit)
        found: list[StoredEvent] = []
        if info.first_sequence != 1 and info.first_id > start:
            first = (info.first_id, info.first_sequence)
            older = self._older(run_id, start, first, limit, cold)
            if len(older) >= limit or end < info.first_id:
                return older[:limit]
            found, start = older, info.first_id
        found += hot(run_id, start, end, limit - len(found))
        now = self._hot.info(run_id)
        if now is None or (now.first_sequence != 1 and now.first_id > start):
            return None
        if len(found) >= limit or info.last_id >= end:
            return found
        if info.last_sequence >= self._archived_head(run_id):
            return found
        last = max(info.last_id, found[-1].id) if found else info.last_id
        return found + cold(run_id, last.successor(), end, limit - len(found))

    def _archived_head(self, run_id: RunId) -> int:
        """The highest sequence the archive or this process acknowledged,
        the archive's asked now."""
        info = self._archive.info(run_id)
        self._heads.saw(
            run_id, 0 if info is None else info.last_sequence, from_archive=True
        )
        return self._heads.floor(run_id)

    def _known_head(self, run_id: RunId) -> int:
        """The highest acknowledged sequence, the archive's read at most every
        `refresh_seconds` per run."""
        if self._heads.stale(run_id):
            return self._archived_head(run_id)
        return self._heads.floor(run_id)

    def wait(
        self, cursors: Mapping[RunId, EventId], timeout: float, limit: int = 1000
    ) -> dict[RunId, list[StoredEvent]]:
        found = self._hot.wait(cursors, timeout, limit)
        for run_id, events in found.items():
            found[run_id] = self._continuity.continued(
                run_id, cursors[run_id], events, limit
            )
            self._served(run_id, found[run_id])
        return found

    def finish(self, run_id: RunId) -> None:
        """The hot copy starts to expire only once the archive is complete."""
        self.archiver.finish(run_id)

    def info(self, run_id: RunId) -> LogInfo | None:
        hot = self._hot.info(run_id)
        if hot is None:
            return self._archive.info(run_id)
        if hot.first_sequence == 1 and hot.last_sequence >= self._known_head(run_id):
            return hot
        cold = self._archive.info(run_id)
        if cold is None:
            return hot
        first = cold if cold.first_id < hot.first_id else hot
        last = cold if cold.last_sequence > hot.last_sequence else hot
        return LogInfo(
            first.first_id,
            first.first_sequence,
            last.last_id,
            last.last_sequence,
            last.last_sequence - first.first_sequence + 1,
            last.closed,
        )
