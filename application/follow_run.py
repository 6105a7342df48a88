"""FollowRun: replay a run's log from a position, then follow it live."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol

from runstream.application.visibility import visible_run
from runstream.domain.errors import RunExpired
from runstream.domain.ids import MAX_ID, MIN_ID, EventId
from runstream.domain.model import LogInfo, RunId, StoredEvent
from runstream.domain.ports import EventLog, RunRepository

REPLAY_PAGE = 1000


class LiveWait(Protocol):
    """The blocking half of an EventLog: the port itself, or a fan-out hub."""

    def wait(
        self, cursors: Mapping[RunId, EventId], timeout: float, limit: int = 1000
    ) -> dict[RunId, list[StoredEvent]]: ...


@dataclass(frozen=True)
class Gap:
    """Events between `last_event_id` and `first_available_id` are gone."""

    last_event_id: EventId | None
    first_available_id: EventId


@dataclass(frozen=True)
class Idle:
    """Nothing happened for one idle interval (time for a heartbeat)."""


@dataclass(frozen=True)
class Closed:
    """The run ended at or before the start position: nothing more will come
    (the stream sends its `close` frame alone)."""


FeedItem = StoredEvent | Gap | Idle | Closed


class FollowRun:
    """Every event after the start position exactly once, in order, then live,
    ending after the terminal event; a start at or after the terminal event
    gets `Closed` alone."""

    def __init__(
        self, runs: RunRepository, events: EventLog, live: LiveWait | None = None
    ) -> None:
        self._runs = runs
        self._events = events
        self._live: LiveWait = live if live is not None else events

    @property
    def events(self) -> EventLog:
        """The log it replays (FollowRunPart reads part of a run there itself)."""
        return self._events

    def execute(
        self,
        run_id: RunId,
        after: EventId | None = None,
        *,
        from_live: bool = False,
        idle_seconds: float = 15.0,
        tenant: str | None = None,
    ) -> Iterator[FeedItem]:
        """Check the run now (RunNotFound, RunExpired), then return the feed."""
        run = visible_run(self._runs, run_id, tenant)
        info = self._events.info(run_id)
        if info is None and run.status.is_terminal:
            raise RunExpired(f"the events of run {run_id} are no longer kept")
        if from_live:
            after = info.last_id if info is not None else MIN_ID
        return self._feed(run_id, after, info, idle_seconds)

    def _feed(
        self,
        run_id: RunId,
        after: EventId | None,
        info: LogInfo | None,
        idle_seconds: float,
    ) -> Iterator[FeedItem]:
        cursor = after if after is not None else MIN_ID
        last_sequence = self._sequence_at(run_id, after, info)
        while True:
            batch = self._events.read(run_id, cursor.successor(), MAX_ID, REPLAY_PAGE)
            if not batch:
                break
            yield from self._checked(batch, after, cursor, last_sequence)
            cursor, last_sequence = batch[-1].id, batch[-1].sequence
            if batch[-1].is_terminal:
                return
        if self._ended_before(run_id, cursor):
            yield Closed()
            return
        while True:
            found = self._live.wait({run_id: cursor}, idle_seconds, REPLAY_PAGE)
            batch = found.get(run_id, [])
            if not batch:
                yield Idle()
                continue
            yield from self._checked(batch, after, cursor, last_sequence)
            cursor, last_sequence = batch[-1].id, batch[-1].sequence
            if batch[-1].is_terminal:
                return

    def _ended_before(self, run_id: RunId, cursor: EventId) -> bool:
        """The log is closed and the start position is at or after its end."""
        info = self._events.info(run_id)
        return info is not None and info.closed and cursor >= info.last_id

    def _checked(
        self,
        batch: list[StoredEvent],
        start: EventId | None,
        cursor: EventId,
        last_sequence: int | None,
    ) -> Iterator[FeedItem]:
        first = batch[0]
        if last_sequence is not None and first.sequence > last_sequence + 1:
            yield Gap(cursor if cursor != MIN_ID else start, first.id)
        yield from batch

    def _sequence_at(
        self, run_id: RunId, after: EventId | None, info: LogInfo | None
    ) -> int | None:
        """The sequence of the start position, when it can be known.

        From the first event it is 0. For an id still kept it is that event's.
        For an id older than everything kept, events before the oldest kept one
        may lie after it: assume the worst, so a trimmed span is reported.
        """
        if after is None or after == MIN_ID:
            return 0
        found = self._events.read(run_id, after, after, 1)
        if found:
            return found[0].sequence
        if info is not None and after < info.first_id:
            return 0
        return None
