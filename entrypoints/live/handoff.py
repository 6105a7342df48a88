"""A taken-over stream from its start until the hub takes it: the request
replays the log into the connection's queue, then subscribes it to the hub."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping

from runstream.application.follow_run import FeedItem, Gap, Idle
from runstream.application.live.hub import FanOutHub
from runstream.application.recent_events import event_key
from runstream.domain.errors import StorageUnavailable, SubscriberLagged
from runstream.domain.ids import MIN_ID, EventId
from runstream.domain.model import RunId, StoredEvent
from runstream.domain.ports import EventLog
from runstream.entrypoints.live.frames import CLOSE_FRAME, gap_frame
from runstream.entrypoints.live.subscriber import Subscriber

logger = logging.getLogger(__name__)

CHUNK_BYTES = 64 * 1024  # replayed frames are queued in chunks of about this
ROOM_BYTES = 256 * 1024  # the replay waits while more than this is unwritten


class Handoff:
    """The LiveWait of the stream's FollowRun feed. The feed calls `wait` once
    its replay is done: that queues what the replay left, subscribes the
    connection to the hub at the feed's cursor, and returns nothing, so the feed
    yields Idle and the request is done; from then on the hub pushes."""

    def __init__(self, hub: FanOutHub, events: EventLog) -> None:
        self._hub = hub
        self._events = events
        self._pending: list[bytes] = []
        self._size = 0
        self._last: StoredEvent | None = None  # the last event added, not flushed
        self.subscriber: Subscriber | None = None

    def wait(
        self, cursors: Mapping[RunId, EventId], timeout: float, limit: int = 1000
    ) -> dict[RunId, list[StoredEvent]]:
        ((run_id, cursor),) = cursors.items()
        subscriber = self.subscriber
        assert subscriber is not None, "replay() attaches the subscriber first"
        self._flush()
        if subscriber.last_sequence is None:
            subscriber.last_sequence = self._sequence_at(run_id, cursor)
        subscriber.bound_send_buffer()
        subscriber.cursor = event_key(cursor)
        subscriber.last_id = None if cursor == MIN_ID else cursor
        self._hub.subscribe(run_id, cursor, subscriber)
        return {}

    def replay(self, feed: Iterator[FeedItem], subscriber: Subscriber) -> None:
        """Queue the feed's replay (at most ROOM_BYTES ahead of the socket)
        until it goes live or ends; a stream that cannot go on is ended."""
        self.subscriber = subscriber
        frame, pending = self._hub.frame, self._pending
        try:
            for item in feed:
                if isinstance(item, StoredEvent):  # the usual item: kept lean
                    data = frame(item)
                    pending.append(data)
                    self._size += len(data)
                    self._last = item
                    if item.event.is_terminal:
                        self._add(CLOSE_FRAME)
                        self._flush(last=True)
                        return
                elif isinstance(item, Gap):
                    self._add(gap_frame(item.last_event_id, item.first_available_id))
                elif isinstance(item, Idle):
                    return  # subscribed: the hub pushes from now on
                if self._size >= CHUNK_BYTES and not self._flush_with_room():
                    return
            # The feed ended without a terminal event: the run had ended at or
            # before the start position, so the stream gets `close` alone.
            self._add(CLOSE_FRAME)
            self._flush(last=True)
        except SubscriberLagged as lagged:
            self._flush()
            subscriber.ended = "lagged"
            logger.info(
                "dropping a slow subscriber of run %s: %s", subscriber.run_id, lagged
            )
            subscriber.schedule(subscriber)
        except StorageUnavailable:
            self._flush()
            subscriber.end(StorageUnavailable("replay failed"))
        finally:
            close = getattr(feed, "close", None)
            if close is not None:
                close()

    def _add(self, frame: bytes) -> None:
        self._pending.append(frame)
        self._size += len(frame)

    def _flush(self, last: bool = False) -> None:
        """Queue the pending frames; the subscriber's cursor moves to the last
        event queued (set here, not per event: a replay queues thousands)."""
        subscriber = self.subscriber
        if subscriber is not None:
            event = self._last
            if event is not None:
                subscriber.cursor = event_key(event.id)
                subscriber.last_sequence = event.sequence
                self._last = None
            if self._pending or last:
                subscriber.queue(b"".join(self._pending), last=last)
        self._pending.clear()
        self._size = 0

    def _flush_with_room(self) -> bool:
        """Queue the pending frames, then wait for room; False once the stream
        has ended (the client left)."""
        subscriber = self.subscriber
        assert subscriber is not None
        self._flush()
        subscriber.wants_room = True
        while subscriber.ended is None and subscriber.backlog() > ROOM_BYTES:
            subscriber.room.clear()
            if subscriber.backlog() > ROOM_BYTES:
                subscriber.room.wait(1.0)
        subscriber.wants_room = False
        return subscriber.ended is None

    def _sequence_at(self, run_id: RunId, cursor: EventId) -> int | None:
        """The sequence of the event at `cursor` (0 before the first event)."""
        if cursor == MIN_ID:
            return 0
        found = self._events.read(run_id, cursor, cursor, 1)
        return found[0].sequence if found else None
